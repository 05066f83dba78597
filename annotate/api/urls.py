"""API routes of the annotate app."""

urlpatterns: list = []
