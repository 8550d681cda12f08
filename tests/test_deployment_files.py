"""The deployment files parse and name the right images, ports and stores."""
from __future__ import annotations

import yaml

from tests.stack import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
RASA_VALUES = yaml.safe_load((ROOT / "deploy" / "helm" / "rasa-values.yaml").read_text())
ACTION_VALUES = yaml.safe_load((ROOT / "deploy" / "helm" / "actions-values.yaml").read_text())
REQUIREMENTS = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().split() if "==" in line)


def test_compose_images_match_the_pinned_versions():
    services = COMPOSE["services"]
    assert services["rasa"]["image"] == f"rasa/rasa:{REQUIREMENTS['rasa']}-full"
    assert services["actions"]["image"] == f"rasa/rasa-sdk:{REQUIREMENTS['rasa-sdk']}"
    assert services["rasa"]["deploy"]["replicas"] == 3
    assert {"postgres", "redis", "nginx", "cps-api"} <= set(services)


def test_compose_wires_ports_and_stores():
    services = COMPOSE["services"]
    assert "--port 5005" in services["rasa"]["command"] and "endpoints.scaled.yml" in services["rasa"]["command"]
    assert services["actions"]["command"][-1] == "5055"
    assert services["nginx"]["ports"] == ["127.0.0.1:5005:5005"]
    env = services["rasa"]["environment"]
    assert env["TRACKER_DB_HOST"] == "postgres" and env["REDIS_HOST"] == "redis"
    assert "${CPS_TOKEN_KEY" in env["CPS_TOKEN_KEY"]  # a secret from the environment, not a value


def test_helm_values_for_rasas_charts():
    assert RASA_VALUES["image"]["repository"] == "rasa/rasa"
    assert RASA_VALUES["image"]["tag"] == f"{REQUIREMENTS['rasa']}-full"
    assert RASA_VALUES["replicaCount"] == 3 and RASA_VALUES["applicationSettings"]["port"] == 5005
    endpoints = RASA_VALUES["applicationSettings"]["endpoints"]
    assert endpoints["trackerStore"]["dialect"] == "postgresql"
    assert endpoints["trackerStore"]["type"] == "bot.tracker_store.ReconnectingSQLTrackerStore"
    assert endpoints["lockStore"]["type"] == "bot.lock_store.AtomicRedisLockStore"
    assert ACTION_VALUES["image"]["tag"] == REQUIREMENTS["rasa-sdk"]
    assert ACTION_VALUES["applicationSettings"]["port"] == 5055


def test_scaled_endpoints_use_postgres_and_redis():
    endpoints = yaml.safe_load((ROOT / "endpoints.scaled.yml").read_text())
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["tracker_store"]["type"] == "bot.tracker_store.ReconnectingSQLTrackerStore"
    assert endpoints["lock_store"]["type"] == "bot.lock_store.AtomicRedisLockStore"
    from rasa.core.lock_store import RedisLockStore

    from bot.lock_store import AtomicRedisLockStore

    assert issubclass(AtomicRedisLockStore, RedisLockStore)
