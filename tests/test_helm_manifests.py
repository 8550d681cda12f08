"""The Helm values, as Rasa's charts render them (tests/fixtures/helm/*.yaml), deploy this code safely.

Rasa's charts come from helm.rasa.com, which this machine cannot reach, so the
manifests were rendered where the charts were at hand (`make helm-fixtures
CHARTS=<checkout of RasaHQ/helm-charts>`: the values validated against each
chart's values.schema.json, then rendered by Helm's engine; rasa 1.17.8,
rasa-action-server 1.0.9) and committed. A fixture records the hash of the
values it was rendered from: change the values and this fails until they are
rendered again. What is checked is what the cluster would run: the project's
images, the ports, the probes on the real health endpoints, every secret from
the Kubernetes secret `cps-secrets`, the tracker store on PostgreSQL and the
lock store on Redis, no "UNSET", no CORS "*", only /socket.io at the ingress.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any, Dict, List

import pytest
import yaml

from tests.stack import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "helm"
VALUES = {"rasa": ROOT / "deploy" / "helm" / "rasa-values.yaml", "actions": ROOT / "deploy" / "helm" / "actions-values.yaml"}
CHART_VERSIONS = {"rasa": "rasa/rasa --version 1.17.8", "actions": "rasa/rasa-action-server --version 1.0.9"}
IMAGES = {"rasa": "cps-rasa", "actions": "cps-actions"}  # the names `make images` gives (scripts/build_images.sh)
HEALTH = {"rasa": (5005, "/"), "actions": (5055, "/health")}  # as in docker/<process>.Dockerfile's HEALTHCHECK
SECRET_ENV = re.compile(r"(PASSWORD|TOKEN|SECRET|_KEY)$")
CHART_OWN_SECRETS = {"RASA_TOKEN", "JWT_SECRET"}  # the chart always sets them; nothing reads them (rasa-values.yaml)


def documents(release: str) -> List[Dict[str, Any]]:
    return [d for d in yaml.safe_load_all((FIXTURES / f"{release}.yaml").read_text()) if d]


def kind(release: str, name: str) -> List[Dict[str, Any]]:
    return [d for d in documents(release) if d["kind"] == name]


def container(release: str) -> Dict[str, Any]:
    (deployment,) = kind(release, "Deployment")
    (main,) = deployment["spec"]["template"]["spec"]["containers"]
    return main


def env_of(release: str) -> Dict[str, Dict[str, Any]]:
    return {e["name"]: e for e in container(release).get("env", [])}


@pytest.mark.parametrize("release", ["rasa", "actions"])
def test_the_fixture_was_rendered_from_the_current_values(release):
    header = (FIXTURES / f"{release}.yaml").read_text().split("---", 1)[0]
    digest = hashlib.sha256(VALUES[release].read_bytes()).hexdigest()
    assert f"values sha256: {digest}" in header, \
        f"{VALUES[release].name} changed since tests/fixtures/helm/{release}.yaml was rendered: " \
        "make helm-fixtures CHARTS=<checkout of RasaHQ/helm-charts>"
    assert CHART_VERSIONS[release] in header and "values.schema.json" in header


@pytest.mark.parametrize("release", ["rasa", "actions"])
def test_the_projects_image_runs_as_non_root(release):
    values = yaml.safe_load(VALUES[release].read_text())
    main = container(release)
    assert main["image"] == f"{values['image']['repository']}:{values['image']['tag']}"
    assert main["image"].rsplit(":", 1)[0].endswith("/" + IMAGES[release]), \
        f"{release}: the project's image ({IMAGES[release]}), not a stock one: {main['image']}"
    (deployment,) = kind(release, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"].get("runAsNonRoot") is True, f"{release}: runAsNonRoot"
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert main["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert not pod.get("initContainers"), f"{release}: no init container (the model is in the image)"


@pytest.mark.parametrize("release", ["rasa", "actions"])
def test_ports_and_probes_are_the_real_health_endpoints(release):
    port, path = HEALTH[release]
    main = container(release)
    assert [p["containerPort"] for p in main["ports"] if p["name"] == "http"] == [port]
    for probe in ("livenessProbe", "readinessProbe"):
        check = main[probe]["httpGet"]
        assert (check["path"], check["port"]) == (path, "http"), f"{release} {probe}: GET {path} on {port}"
    (service,) = kind(release, "Service")
    assert service["spec"]["type"] == "ClusterIP" and [p["port"] for p in service["spec"]["ports"]] == [port]


def test_the_launchers_start_rasa_and_the_actions_and_no_token_is_in_argv():
    rasa, actions = container("rasa"), container("actions")
    assert rasa["command"] == ["python", "-m", "bot.server"] and rasa["args"][:2] == ["run", "--enable-api"]
    assert actions["command"] == ["python", "-m", "actions.server"]
    for argv in (rasa["command"] + rasa["args"], actions["command"] + actions["args"]):
        assert not {"--auth-token", "--jwt-secret", "--cors"} & set(argv), argv


@pytest.mark.parametrize("release", ["rasa", "actions"])
def test_every_secret_comes_from_cps_secrets(release):
    for name, entry in env_of(release).items():
        if SECRET_ENV.search(name) and name not in CHART_OWN_SECRETS:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            assert ref and ref["name"] == "cps-secrets", f"{release}: {name} must come from the secret cps-secrets"
            assert "value" not in entry


def test_the_charts_own_secret_holds_no_unset_and_no_secret():
    (secret,) = kind("rasa", "Secret")
    for key, value in secret["data"].items():
        text = base64.b64decode(value).decode()
        assert text.startswith("not-used:"), f"the chart's secret {key} holds {text!r}: it must say it is unused"
    for name in CHART_OWN_SECRETS:
        assert env_of("rasa")[name]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]


@pytest.mark.parametrize("release", ["rasa", "actions"])
def test_no_unset_and_no_cors_star_anywhere(release):
    text = (FIXTURES / f"{release}.yaml").read_text()
    assert "UNSET" not in text, f"{release}: a chart default 'UNSET' was rendered"
    for document in documents(release):
        blob = json.dumps(document)
        assert not re.search(r'"(--cors|cors|CORS_ORIGINS)"[^}]*"\*"', blob), f"{release}: CORS * in {document['kind']}"
    if release == "rasa":
        origins = env_of("rasa")["CORS_ORIGINS"]["value"].split(",")
        assert all(re.fullmatch(r"https://[a-z0-9.-]+", o.strip()) for o in origins), origins


def test_tracker_store_on_postgresql_lock_store_on_redis_actions_with_the_bearer():
    (config,) = kind("rasa", "ConfigMap")
    endpoints = yaml.safe_load(config["data"]["endpoints"])
    tracker, lock, action = endpoints["tracker_store"], endpoints["lock_store"], endpoints["action_endpoint"]
    assert tracker["type"] == "bot.tracker_store.ReconnectingSQLTrackerStore" and tracker["dialect"] == "postgresql"
    assert tracker["password"] == "${DB_PASSWORD}" and lock["password"] == "${REDIS_PASSWORD}"
    assert lock["type"] == "bot.lock_store.AtomicRedisLockStore"
    env = env_of("rasa")
    for variable in ("DB_PASSWORD", "REDIS_PASSWORD"):
        assert env[variable]["valueFrom"]["secretKeyRef"]["name"] == "cps-secrets", variable
    (actions_service,) = kind("actions", "Service")
    assert action["url"] == f"http://{actions_service['metadata']['name']}:{HEALTH['actions'][0]}/webhook"
    assert action["headers"]["Authorization"] == "Bearer ${ACTION_SERVER_TOKEN}"
    credentials = yaml.safe_load(config["data"]["credentials"])
    assert set(credentials) == {"bot.channels.GuardedRestInput", "bot.channels.GuardedSocketIOInput"}, \
        "only the guarded channels (no stock rest/socketio)"
    mounts = {m["mountPath"] for m in container("rasa")["volumeMounts"]}
    args = container("rasa")["args"]
    assert args[args.index("--endpoints") + 1] in mounts and args[args.index("--credentials") + 1] in mounts, \
        "Rasa must read the chart's endpoints and credentials (the ConfigMap above)"


def test_the_ingress_routes_only_the_widget_channel_with_tls():
    (ingress,) = kind("rasa", "Ingress")
    rules = ingress["spec"]["rules"]
    paths = [p["path"] for rule in rules for p in rule["http"]["paths"]]
    assert paths == ["/socket.io"], f"the ingress routes {paths}; only /socket.io may be public"
    hosts = {rule["host"] for rule in rules}
    assert all(hosts <= set(t["hosts"]) and t["secretName"] for t in ingress["spec"]["tls"])
    assert not kind("actions", "Ingress"), "no ingress for the action servers"
