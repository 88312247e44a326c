"""WSGI entry point (gunicorn project.wsgi)."""

import os

from project.handlers import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()
