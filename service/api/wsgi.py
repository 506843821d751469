"""The WSGI entry point for gunicorn: `gunicorn service.api.wsgi:app`.

Logging is configured here rather than in the app factory, so that tests and scripts that build
an app keep their own logging; under `backstride serve` gunicorn's logger class has already done
it in the arbiter, and doing it again in the worker is harmless.
"""

from service import logs
from service.api import create_app
from service.config import Settings

settings = Settings.from_env()
logs.configure(settings.log_format)
app = create_app(settings)
