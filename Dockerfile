# The custody ledger: one image for web (gunicorn), worker and beat (Celery).
FROM python:3.11.11-slim-bookworm

# PYTHONPATH: the source tree in /app is what runs (manage.py, gunicorn and celery all import
# from it), including any templates or data files that the installed wheel might not carry.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Runtime dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself (no dev extra).
COPY . .
RUN pip install . \
    && rm -rf build ./*.egg-info

# Static files are collected at build time; the settings refuse to load without a SECRET_KEY,
# so give them a throwaway one that exists only in this RUN step.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret \
    python manage.py collectstatic --noinput --verbosity 0

# Run as an unprivileged user; the code stays root-owned and read-only to it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir /media && chown app:app /media
# Reports (MEDIA_ROOT): the one directory the app writes, a volume in docker-compose.yml.
USER app

EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
