"""Django settings, read from environment variables (django-environ) with safe dev defaults.

Every variable is listed, with its default, in the README's configuration table.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Local state of development: the default SQLite database and the embedded Redis's data.
DATA_DIR = Path(env.str("RS_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        sys.exit(
            "error: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "dashboard",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Early, so that every answer below it carries the policy: error pages too.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.StoreErrorsMiddleware",
    # Last, as axes asks: turns a lockout flagged during the login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

if "DATABASE_URL" not in env:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account+client before any password is checked.
    "dashboard.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# A refused form gets the dashboard's page (Django's own has an inline style the CSP blocks).
CSRF_FAILURE_VIEW = "dashboard.views.csrf_failure"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:apps"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes), for /accounts/login/ and /admin/login/ alike: after
# DJANGO_LOGIN_FAILURE_LIMIT failures for one account from one client, that pair is refused,
# the right password too, until DJANGO_LOGIN_COOLOFF_MINUTES pass without another try.
LOGIN_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=10)
LOGIN_COOLOFF_MINUTES = env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 1:
    sys.exit("error: DJANGO_LOGIN_FAILURE_LIMIT and DJANGO_LOGIN_COOLOFF_MINUTES must be >= 1.")
# The client is REMOTE_ADDR; behind a reverse proxy, name the header it sets (for example
# X-Forwarded-For; its last address is taken), or every client looks like the proxy.
CLIENT_IP_HEADER = env.str("DJANGO_CLIENT_IP_HEADER", default="")
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are kept (for the lockout), successes are not
# A failure's form is kept with the attempt (in /admin/): masked, like the password.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_CLIENT_IP_CALLABLE = "dashboard.login_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "dashboard.login_throttle.locked_out"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# The session store the dashboard watches.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
RS_NAMESPACE = env.str("RS_NAMESPACE", default="rs")
# Seconds between two passes of `manage.py wipe_sessions` (the original's `wipe` option).
RS_WIPE_INTERVAL = env.int("RS_WIPE_INTERVAL", default=600)
# The REST API (api/, served by uvicorn): a key check is kept this many seconds, so a request
# does not query the database; a revoked key stops working within this time.
RS_API_KEY_CACHE_SECONDS = env.float("RS_API_KEY_CACHE_SECONDS", default=10.0)
if RS_API_KEY_CACHE_SECONDS < 0:
    sys.exit("error: RS_API_KEY_CACHE_SECONDS must be >= 0.")
# Bearer token of GET /metrics (Prometheus); unset, the endpoint answers 404.
RS_METRICS_TOKEN = env.str("RS_METRICS_TOKEN", default="")

# Content-Security-Policy on every answer (django-csp): scripts, styles, images and requests
# from this origin only; no inline script or style, no eval. htmx runs with allowEval off and
# without its inline indicator styles (templates/base.html); the dashboard's own behaviour is
# static/dashboard/dashboard.js. No nonces: nothing inline is needed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Security: strict unless DEBUG. Behind a TLS-terminating proxy set DJANGO_SECURE_PROXY_SSL=on.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Preloading commits the whole registrable domain to HTTPS for good: an operator's decision
# (DJANGO_SECURE_HSTS_PRELOAD=on), not a default; so `check --deploy` does not nag about it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_SECURE_PROXY_SSL", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request lines can carry query strings; keep them at WARNING and above.
        "django.server": {"level": "WARNING"},
        # Failed logins and lockouts are WARNINGs; axes' start-up line and successes are not.
        "axes": {"level": "WARNING"},
    },
}
