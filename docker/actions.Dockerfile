# The action server: actions/ on rasa-sdk, answering only Rasa's bearer (actions/server.py).
#   make images        (or: docker build -f docker/actions.Dockerfile -t cps-actions .)
# From the official image of the pinned rasa-sdk; installs exactly requirements/actions.txt,
# which tests/test_process_requirements.py builds into a clean venv and starts.
FROM rasa/rasa-sdk:3.6.2

USER root
COPY requirements/actions.txt /tmp/requirements/actions.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements/actions.txt \
    && rm -rf /tmp/requirements

WORKDIR /app
COPY actions/ /app/actions/
# The two parts of bot/ the actions import. No domain: the actions pass values, the Rasa server writes the texts.
COPY bot/__init__.py bot/token_cipher.py bot/message_guard.py /app/bot/

ENV PYTHONPATH=/app \
    SANIC_HOST=0.0.0.0
# The image's own non-root user.
USER 1001
EXPOSE 5055

HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=5)"]

ENTRYPOINT ["python", "-m", "actions.server"]
CMD ["--port", "5055"]
