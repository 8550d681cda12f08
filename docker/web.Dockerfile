# The support page's server (web/): the one public entry point, and /insights with INSIGHTS_TOKEN.
#   make images        (or: docker build -f docker/web.Dockerfile -t cps-web .)
# Installs exactly requirements/web.txt, which tests/test_process_requirements.py
# builds into a clean venv and starts.

# The widget's socket.io client, from the npm registry as pinned in web/package-lock.json.
FROM node:20-bookworm-slim AS widget
WORKDIR /web
COPY web/package.json web/package-lock.json /web/
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.10-slim-bookworm

COPY requirements/web.txt /tmp/requirements/web.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements/web.txt \
    && rm -rf /tmp/requirements \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin cps

WORKDIR /app
COPY web/__init__.py web/__main__.py /app/web/
COPY web/static/ /app/web/static/
COPY --from=widget /web/node_modules/socket.io-client/dist/ /app/web/node_modules/socket.io-client/dist/
# What the page server and /insights import from bot/, and the insights report.
COPY bot/__init__.py bot/rate_limit.py bot/folding.py bot/language_model.py bot/message_guard.py bot/token_cipher.py /app/bot/
COPY insights/ /app/insights/

ENV PYTHONPATH=/app \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=10s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/', timeout=5)"]

ENTRYPOINT ["python", "-m", "web"]
CMD ["--host", "0.0.0.0", "--port", "8080"]
