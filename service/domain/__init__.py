"""Pure rules and use cases: no Flask and no Celery. Use cases take a session; rules do not."""
