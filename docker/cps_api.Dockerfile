# The reference CPS API (demo software: its demo accounts exist on every start).
#   make images        (or: docker build -f docker/cps_api.Dockerfile -t cps-api .)
# Installs exactly requirements/cps_api.txt, which tests/test_process_requirements.py
# builds into a clean venv and starts.
FROM python:3.10-slim-bookworm

COPY requirements/cps_api.txt /tmp/requirements/cps_api.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements/cps_api.txt \
    && rm -rf /tmp/requirements \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin cps \
    && mkdir -p /data && chown cps /data

WORKDIR /app
COPY cps_api/ /app/cps_api/

ENV PYTHONPATH=/app \
    CPS_API_HOST=0.0.0.0 \
    CPS_API_PORT=8000 \
    CPS_API_DATABASE_URL=sqlite:////data/cps_api.sqlite3
USER 10001
EXPOSE 8000
VOLUME ["/data"]

HEALTHCHECK --interval=15s --timeout=10s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=5)"]

ENTRYPOINT ["python", "-m", "cps_api"]
