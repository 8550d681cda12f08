# The Rasa server with the project's components (bot/) and its trained model.
#   make images        (or: docker build -f docker/rasa.Dockerfile -t cps-rasa .)
# From the official image of the pinned Rasa; installs exactly requirements/rasa.txt,
# which tests/test_process_requirements.py builds into a clean venv and starts.
FROM rasa/rasa:3.6.21

USER root
COPY requirements/rasa.txt /tmp/requirements/rasa.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements/rasa.txt \
    && rm -rf /tmp/requirements

WORKDIR /app
COPY bot/ /app/bot/
COPY endpoints.yml endpoints.scaled.yml credentials.yml /app/
COPY models/cps-assistant.tar.gz /app/models/cps-assistant.tar.gz

ENV PYTHONPATH=/app \
    RASA_TELEMETRY_ENABLED=false
# The image's own non-root user.
USER 1001
EXPOSE 5005

# Rasa's health endpoint: GET / answers once the model is loaded (about a minute here).
HEALTHCHECK --interval=15s --timeout=10s --start-period=600s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=5)"]

# The project's launcher: `rasa run` with the API token read from RASA_AUTH_TOKEN, never argv.
ENTRYPOINT ["python", "-m", "bot.server"]
CMD ["run", "--enable-api", "--port", "5005", "--model", "/app/models/cps-assistant.tar.gz", \
     "--endpoints", "endpoints.scaled.yml", "--credentials", "credentials.yml"]
