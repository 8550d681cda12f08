# The two commands: `make run` and `make test`. Everything else is a step they use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := RASA_TELEMETRY_ENABLED=false PYTHONPATH=$(CURDIR) TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore $(VENV)/bin/rasa
MODEL := models/cps-assistant.tar.gz
VALIDATED := models/.validated
# What the model is trained from: retrain only when one of these changed. The
# server side of bot/ (channels, guard, token sealing, stores, launcher) shapes
# no model, so changing it retrains nothing.
SERVER_SIDE := bot/nlg.py bot/cldr.py bot/channels.py bot/message_guard.py bot/token_cipher.py bot/conversation_ids.py \
	bot/rate_limit.py bot/server.py bot/turns.py bot/tracker_store.py bot/lock_store.py
MODEL_INPUTS := config.yml $(shell find domain data -type f -name '*.yml' 2>/dev/null) \
	$(filter-out $(SERVER_SIDE),$(wildcard bot/*.py))

.PHONY: run run-scaled test venv web train validate images openapi helm-fixtures test-stories eval-nlu ablate-spacy ablate-word-forms bench bench-flood soak transcripts clean lock insights insights-export insights-import bench-insights translations-export translations-import

run: venv web $(MODEL)
	@bash scripts/run.sh

# N Rasa instances and M action servers behind nginx, PostgreSQL + Redis.
N ?= 3
M ?= 2
run-scaled: venv web $(MODEL)
	@RASA_INSTANCES=$(N) ACTION_SERVERS=$(M) bash scripts/run.sh

test: venv $(VALIDATED) $(MODEL)
	@bash scripts/setup_web.sh --test
	@$(MAKE) --no-print-directory test-stories
	$(PY) -m pytest tests

web:
	@bash scripts/setup_web.sh

# One venv with every process's set (requirements/dev.txt); the per-process sets are for the images.
venv: $(VENV)/.requirements.sha256
$(VENV)/.requirements.sha256: requirements/dev.txt scripts/setup_venv.sh
	@bash scripts/setup_venv.sh

# Validated once per change of the inputs, before training (which then skips its own copy of the check).
$(VALIDATED): $(MODEL_INPUTS) scripts/validate.sh | venv
	@bash scripts/validate.sh
	@mkdir -p models && touch $@

train: venv $(MODEL)
$(MODEL): $(MODEL_INPUTS) $(VALIDATED) | venv
	@echo "==> training (data, domain or config changed)"
	@mkdir -p reports; start=$$(date +%s); \
	$(RASA) train --domain domain --skip-validation --fixed-model-name cps-assistant --out models --quiet && \
	echo "==> trained $(MODEL) in $$(( $$(date +%s) - start ))s" | tee reports/train-time.txt
	@touch $(MODEL)

validate: venv
	@bash scripts/validate.sh

# Test stories: rasa test compares predicted actions, and fails on a mismatch.
test-stories: venv $(MODEL)
	$(RASA) test core --e2e --model $(MODEL) --stories tests/stories --out reports/stories --fail-on-prediction-errors --no-plot

eval-nlu: venv $(MODEL)
	$(PY) -m bench.eval_nlu

# The NLU pipeline with and without spaCy lookup lemmas, on the held-out set.
ablate-spacy: venv
	$(PY) -m bench.ablate_spacy

# Which word forms the features count (bot/plain_words.py), on a dev split of the training data.
ablate-word-forms: venv
	$(PY) -m bench.ablate_word_forms

# Ours (1 and BENCH_INSTANCES=2 instances) against a stock `rasa init` assistant, side by side; each level is
# BENCH_SECONDS (default 30) per stack, in BENCH_ROUNDS turns (default 3) that alternate the stacks.
bench: venv web $(MODEL)
	$(PY) -m bench.load

# The scaled stack under SOAK_MINUTES (20) of six-language conversations while a process is killed every
# SOAK_KILL_EVERY seconds (180) in turn: recovery times, failed turns, events lost or duplicated (must be 0).
SOAK_MINUTES ?= 20
SOAK_KILL_EVERY ?= 180
soak: venv web $(MODEL)
	SOAK_MINUTES=$(SOAK_MINUTES) SOAK_KILL_EVERY=$(SOAK_KILL_EVERY) $(PY) -m bench.soak

# What one client flooding the public entry point costs the other visitors (SECURITY.md, "Limits").
bench-flood: venv web $(MODEL)
	$(PY) -m bench.flood

# One sample conversation per flow and language: reports/transcripts/<language>.md
transcripts: venv web $(MODEL)
	$(PY) scripts/transcripts.py

# What visitors ask and where the assistant fails them: reports/insights/index.html (+ report.json, PNGs)
# from the tracker store, read-only. SINCE/UNTIL as YYYY-MM-DD (UNTIL exclusive; default the last 30 days),
# DB=<SQLAlchemy URL> or INSIGHTS_DB_URL for another store (default: the one `make run` uses).
INSIGHTS := SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m insights
INSIGHTS_RANGE = $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) $(if $(DB),--db '$(DB)')
insights: venv
	$(INSIGHTS) report $(INSIGHTS_RANGE)

# The unanswered messages as reports/insights/unanswered-<language>.csv, for annotation (fill `intent`).
insights-export: venv
	$(INSIGHTS) export $(INSIGHTS_RANGE)

# The annotated lines into data/nlu/, each in its intent's block of its language; duplicates refused.
insights-import: venv
	@test -n "$(FILE)" || { echo "usage: make insights-import FILE=reports/insights/unanswered-cs.csv" >&2; exit 2; }
	$(INSIGHTS) import '$(FILE)'

# The report on 100,000 generated conversations: time and peak memory (target < 2 min, < 500 MB).
bench-insights: venv
	SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m bench.insights

# A translator's round trip: one language's texts as a PO file (reports/translations/<LANG>.po, English
# source as msgid, a note on every placeholder), and back into domain/responses/ after checking every entry.
LANGUAGES := cs hu da lt fi en
translations-export: venv
	@test -n "$(filter $(LANGUAGES),$(LANG))" || { echo "usage: make translations-export LANG=<one of $(LANGUAGES)>" >&2; exit 2; }
	$(PY) -m translations export $(LANG)

translations-import: venv
	@test -n "$(FILE)" || { echo "usage: make translations-import FILE=reports/translations/cs.po" >&2; exit 2; }
	$(PY) -m translations import '$(FILE)'

# requirements/<set>.txt from requirements/<set>.in, pinned to the versions installed in .venv
# (pip install a new package into .venv first).
lock:
	$(PY) scripts/lock_requirements.py

# One image per process (docker/*.Dockerfile), tagged cps-<process>:$(IMAGE_TAG), where a Docker engine answers.
# IMAGE_REGISTRY (e.g. registry.example.com/cps/, with the slash) prefixes the names, for a cluster's registry.
IMAGE_TAG ?= local
IMAGE_REGISTRY ?=
images:
	@bash scripts/build_images.sh --check
	@$(MAKE) --no-print-directory $(MODEL)
	@IMAGE_REGISTRY='$(IMAGE_REGISTRY)' bash scripts/build_images.sh $(IMAGE_TAG)

# tests/fixtures/helm/*.yaml: deploy/helm/*-values.yaml rendered with Rasa's charts (CHARTS=<checkout of
# RasaHQ/helm-charts>; helm.rasa.com is not reachable from here), in a venv of requirements/helm-render.txt.
helm-fixtures:
	@test -n "$(CHARTS)" || { echo "usage: make helm-fixtures CHARTS=<checkout of RasaHQ/helm-charts>" >&2; exit 2; }
	@test -x .venvs-cache/helm-render/bin/python || { python3 -m venv .venvs-cache/helm-render && \
		.venvs-cache/helm-render/bin/pip install --quiet -r requirements/helm-render.txt; }
	.venvs-cache/helm-render/bin/python scripts/render_helm.py '$(CHARTS)'

# cps_api/openapi.yaml: the contract, written from the reference server's own document.
openapi: venv
	$(PY) -m cps_api.contract --write

clean:
	rm -rf models .rasa reports .state
