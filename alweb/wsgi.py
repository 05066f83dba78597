"""WSGI entry point (gunicorn alweb.wsgi); refuses to start with unsafe settings."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alweb.settings")
application = get_wsgi_application()

from alweb.checks import assert_runtime_settings  # noqa: E402

assert_runtime_settings()
