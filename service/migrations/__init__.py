"""Alembic migrations; run them with `backstride db upgrade`."""
