"""Celery workers and beat. They import service.*, never service.api."""
