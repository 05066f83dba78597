"""alweb's SQLite database backend: Django's, retrying BEGIN finely (base.py)."""
