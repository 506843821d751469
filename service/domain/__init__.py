"""Pure rules and use cases. No Flask and no Celery in here; use cases take a session, rules don't."""
