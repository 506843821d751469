# One image for every Backstride process; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BACKSTRIDE_DATA_DIR=/var/lib/backstride

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
RUN pip install . \
    && useradd --system --create-home backstride \
    && mkdir -p /var/lib/backstride \
    && chown backstride /var/lib/backstride

USER backstride
EXPOSE 8000
CMD ["backstride", "serve", "--bind", "0.0.0.0:8000"]
