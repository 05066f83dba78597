"""alweb's SQLite database backend: Django's, retrying BEGIN finely (base.py)."""

# The ENGINE values that mean SQLite: settings turn Django's into this one.
SQLITE_ENGINES = ("alweb.sqlite", "django.db.backends.sqlite3")
