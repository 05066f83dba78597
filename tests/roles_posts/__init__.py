"""Helpers of the form POST role matrix (tests/test_roles_matrix_posts.py)."""
