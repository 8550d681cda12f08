"""The deployment files (docker-compose.yml, deploy/nginx.conf.template, deploy/helm/*) are safe to publish.

They name the pinned images, ports and stores, and keep the public-entry
design: nginx (compose) and the ingress (Helm) route only the support page,
/socket.io/ and (with the website's bearer) the REST webhook; every secret
comes from the environment or the Kubernetes secret `cps-secrets`, with no
default; Rasa's API token never reaches argv. Each assertion says what the
deployer has to fix. If an nginx binary is installed, the template also runs
for real against stub upstreams; if a compose CLI is installed, `compose
config` checks the file as Docker would read it.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml

from tests.images import Dockerfile, pinned
from tests.stack import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_TEMPLATE_FILE = ROOT / "deploy" / "nginx.conf.template"
RASA_VALUES_FILE = ROOT / "deploy" / "helm" / "rasa-values.yaml"
ACTION_VALUES_FILE = ROOT / "deploy" / "helm" / "actions-values.yaml"
DEPLOYMENT_FILES = [COMPOSE_FILE, NGINX_TEMPLATE_FILE, RASA_VALUES_FILE, ACTION_VALUES_FILE]

COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES: Dict[str, Dict[str, Any]] = COMPOSE["services"]
NGINX_TEMPLATE = NGINX_TEMPLATE_FILE.read_text()
RASA_VALUES = yaml.safe_load(RASA_VALUES_FILE.read_text())
ACTION_VALUES = yaml.safe_load(ACTION_VALUES_FILE.read_text())
REQUIREMENTS = {**pinned("rasa"), **pinned("actions")}

# Which process may hold which secret (SECURITY.md, "What a deployer must still set").
SECRETS_BY_SERVICE = {
    "RASA_AUTH_TOKEN": {"rasa"},
    "CONVERSATION_KEY": {"rasa"},
    "CPS_TOKEN_PUBLIC_KEY": {"rasa"},
    "CPS_TOKEN_PRIVATE_KEY": {"actions"},
    "ACTION_SERVER_TOKEN": {"rasa", "actions"},
    "POSTGRES_PASSWORD": {"postgres", "rasa"},
    "REDIS_PASSWORD": {"redis", "rasa"},
    "REST_WEBHOOK_TOKEN": {"nginx"},
}
REQUIRED_COMPOSE_VARIABLES = sorted(set(SECRETS_BY_SERVICE) - {"REST_WEBHOOK_TOKEN"} | {"CORS_ORIGINS"})
SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|SECRET|_KEY$)")
CPS_SECRETS = "cps-secrets"
PAGE_CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
REST_PATH = "/webhooks/rest/webhook"
RASA_API_PATHS = ["/conversations/anna/tracker", "/conversations/anna/tracker/events", "/model", "/model/parse",
                  "/model/train", "/status", "/version", "/domain", "/webhooks/rest/", "/webhooks/rest",
                  "/socket.io", "/_cps_rest_webhook_auth", "/health", "/webhook", "/v1/account", "/openapi.json"]


def scalars(node: Any, path: str = "") -> Iterator[Tuple[str, Any]]:
    """Every leaf of a parsed YAML document, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from scalars(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from scalars(value, f"{path}[{i}]")
    else:
        yield path, node


def argv_of(service: Dict[str, Any]) -> List[str]:
    words: List[str] = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        words += value.split() if isinstance(value, str) else [str(v) for v in value]
    return words


def web_module():
    import importlib

    return importlib.import_module("web.__main__")


# --------------------------------------------------------------------------- nginx template parsing


class Directive:
    def __init__(self, name: str, args: List[str], block: Optional[List["Directive"]]) -> None:
        self.name, self.args, self.block = name, args, block

    def find(self, name: str) -> List["Directive"]:
        return [d for d in self.block or [] if d.name == name]

    def first(self, name: str) -> Optional["Directive"]:
        found = self.find(name)
        return found[0] if found else None

    def walk(self) -> Iterator["Directive"]:
        for d in self.block or []:
            yield d
            yield from d.walk()

    def __repr__(self) -> str:
        return f"{self.name} {' '.join(self.args)}"


def nginx_tokens(text: str) -> Iterator[str]:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            yield c
            i += 1
        elif c in "'\"":
            j, word = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                word.append(text[j])
                j += 1
            yield "\0" + "".join(word)  # a quoted word, marked so that "{" in quotes is no brace
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "{};" and text[j] != "#":
                j += 1
            yield text[i:j]
            i = j


def parse_nginx(text: str) -> Directive:
    tokens = list(nginx_tokens(text))
    pos = 0

    def block() -> List[Directive]:
        nonlocal pos
        out: List[Directive] = []
        words: List[str] = []
        while pos < len(tokens):
            t = tokens[pos]
            pos += 1
            if t == ";":
                out.append(Directive(words[0], [w.lstrip("\0") for w in words[1:]], None))
                words = []
            elif t == "{":
                name, args = words[0], [w.lstrip("\0") for w in words[1:]]
                out.append(Directive(name, args, block()))
                words = []
            elif t == "}":
                assert not words, f"nginx template: unterminated directive {words} before '}}'"
                return out
            else:
                words.append(t)
        assert not words, f"nginx template: unterminated directive {words} at the end"
        return out

    return Directive("main", [], block())


NGINX = parse_nginx(NGINX_TEMPLATE)
SERVERS = NGINX.find("server")


def the_server() -> Directive:
    assert len(SERVERS) == 1, "deploy/nginx.conf.template: expected exactly one server block (the public entry)"
    return SERVERS[0]


def public_locations() -> List[Directive]:
    """The server's locations that a request from outside can reach (not `internal`)."""
    return [loc for loc in the_server().find("location") if not loc.first("internal")]


def location_key(loc: Directive) -> Tuple[str, str]:
    return (loc.args[0], loc.args[1]) if len(loc.args) == 2 else ("", loc.args[0])


def matching_location(path: str) -> Directive:
    """nginx's choice for `path`: an exact match, else the longest prefix (the template has no regex locations)."""
    locations = public_locations()
    for loc in locations:
        modifier, prefix = location_key(loc)
        if modifier == "=" and prefix == path:
            return loc
    prefixes = [loc for loc in locations
                if location_key(loc)[0] in ("", "^~") and path.startswith(location_key(loc)[1])]
    assert prefixes, f"deploy/nginx.conf.template: no location matches {path}; " \
                     "keep a catch-all `location /` that returns 404"
    return max(prefixes, key=lambda loc: len(location_key(loc)[1]))


def proxy_target(loc: Directive) -> Optional[str]:
    found = [d for d in loc.walk() if d.name == "proxy_pass"]
    return found[0].args[0] if found else None


def upstream_servers() -> Dict[str, List[str]]:
    return {u.args[0]: [s.args[0] for s in u.find("server")] for u in NGINX.find("upstream")}


PAGE_PATHS = set(web_module().FILES)


# --------------------------------------------------------------------------- compose


PROJECT_SERVICES = {"rasa": "rasa", "actions": "actions", "cps-api": "cps_api", "web": "web"}  # service: process
IMAGE_NAMES = {"rasa": "cps-rasa", "actions": "cps-actions", "cps_api": "cps-api", "web": "cps-web"}  # process: image


def test_compose_builds_the_project_images():
    for service, process in PROJECT_SERVICES.items():
        build = SERVICES[service].get("build") or {}
        assert build == {"context": ".", "dockerfile": f"docker/{process}.Dockerfile"}, \
            f"{service}: build: {{context: ., dockerfile: docker/{process}.Dockerfile}} (the image of its process)"
        assert SERVICES[service]["image"] == f"{IMAGE_NAMES[process]}:${{IMAGE_TAG:-local}}", \
            f"{service}: image: {IMAGE_NAMES[process]}:${{IMAGE_TAG:-local}} (the name `make images` gives it)"
        assert not any(v.startswith(".") for v in SERVICES[service].get("volumes") or []), \
            f"{service}: its code is in its image; mount nothing of the checkout"
    assert SERVICES["rasa"]["deploy"]["replicas"] == 3, "rasa: three replicas"
    assert SERVICES["actions"]["deploy"]["replicas"] == 2, "actions: two replicas"
    assert {"postgres", "redis", "rasa", "actions", "cps-api", "web", "nginx"} == set(SERVICES), \
        "docker-compose.yml: the services of the design, and no other"


def test_the_images_start_from_the_pinned_official_images():
    assert Dockerfile("rasa").final_stage()[0] == ("FROM", f"rasa/rasa:{REQUIREMENTS['rasa']}"), \
        "docker/rasa.Dockerfile: FROM the official rasa/rasa image of the pinned Rasa"
    assert Dockerfile("actions").final_stage()[0] == ("FROM", f"rasa/rasa-sdk:{REQUIREMENTS['rasa-sdk']}"), \
        "docker/actions.Dockerfile: FROM the official rasa/rasa-sdk image of the pinned rasa-sdk"
    for process in ("cps_api", "web"):
        assert Dockerfile(process).final_stage()[0] == ("FROM", "python:3.10-slim-bookworm"), \
            f"docker/{process}.Dockerfile: the Python of the other images (3.10)"


@pytest.mark.parametrize("process", list(IMAGE_NAMES))
def test_each_dockerfile_installs_exactly_its_requirements(process):
    instructions = Dockerfile(process).final_stage()
    copies = [rest for kw, rest in instructions if kw == "COPY" and "requirements" in rest]
    assert copies == [f"requirements/{process}.txt /tmp/requirements/{process}.txt"], \
        f"docker/{process}.Dockerfile: COPY requirements/{process}.txt, and no other requirements file"
    runs = " && ".join(rest for kw, rest in instructions if kw == "RUN")
    installs = [" ".join(words.split()) for words in re.findall(r"pip install ([^&]*)", runs)]
    assert installs == [f"--no-cache-dir --disable-pip-version-check -r /tmp/requirements/{process}.txt"], \
        f"docker/{process}.Dockerfile: one `pip install -r /tmp/requirements/{process}.txt`, nothing else installed " \
        f"by name: {installs}"
    everything = " ".join(rest for _, rest in Dockerfile(process).instructions)
    assert "requirements.txt" not in everything.replace(f"{process}.txt", "") and "dev.txt" not in everything


@pytest.mark.parametrize("process", list(IMAGE_NAMES))
def test_each_image_runs_as_a_non_root_user_with_a_health_check(process):
    instructions = Dockerfile(process).final_stage()
    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1] not in ("root", "0"), f"docker/{process}.Dockerfile: end on a non-root USER"
    last_user = max(i for i, (kw, _) in enumerate(instructions) if kw == "USER")
    assert not any(kw in ("RUN", "COPY") for kw, _ in instructions[last_user:]), \
        f"docker/{process}.Dockerfile: nothing runs or is copied after USER switches to the non-root user"
    checks = [rest for kw, rest in instructions if kw == "HEALTHCHECK"]
    expected = {"rasa": ":5005/'", "actions": ":5055/health'", "cps_api": ":8000/health'", "web": ":8080/'"}
    assert len(checks) == 1 and f"http://127.0.0.1{expected[process]}" in checks[0], \
        f"docker/{process}.Dockerfile: HEALTHCHECK on http://127.0.0.1{expected[process][:-1]}"


def test_compose_starts_each_image_as_its_dockerfile_does():
    for service, process in PROJECT_SERVICES.items():
        entrypoint = Dockerfile(process).exec_form("ENTRYPOINT")
        if "entrypoint" in SERVICES[service]:
            assert SERVICES[service]["entrypoint"] == entrypoint, \
                f"{service}: entrypoint differs from docker/{process}.Dockerfile's ENTRYPOINT {entrypoint}"


def test_make_images_builds_every_dockerfile_and_says_when_no_engine_answers(tmp_path):
    script = (ROOT / "scripts" / "build_images.sh").read_text()
    listed = re.search(r"for process in ([a-z_ ]+); do", script).group(1).split()
    assert sorted(listed) == sorted(p.name.split(".")[0] for p in (ROOT / "docker").glob("*.Dockerfile"))
    result = subprocess.run(["make", "--no-print-directory", "images"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}, timeout=60)
    assert result.returncode != 0, "make images must fail where no Docker engine answers"
    assert "No image was built" in result.stderr or "no docker client" in result.stderr, result.stderr


def test_compose_wires_ports_and_stores():
    rasa_argv = argv_of(SERVICES["rasa"])
    assert rasa_argv[rasa_argv.index("--port") + 1] == "5005", "rasa: listen on 5005"
    assert rasa_argv[rasa_argv.index("--endpoints") + 1] == "endpoints.scaled.yml", \
        "rasa: the scaled endpoints (PostgreSQL tracker store, Redis lock store)"
    assert SERVICES["actions"]["command"][-2:] == ["--port", "5055"], "actions: listen on 5055"
    env = SERVICES["rasa"]["environment"]
    assert env["TRACKER_DB_HOST"] == "postgres" and env["REDIS_HOST"] == "redis", "rasa: the tracker and lock stores"
    assert env["ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook", \
        "rasa: call the action servers directly on the internal network, not through nginx (the public entry)"
    assert SERVICES["actions"]["environment"]["SANIC_HOST"] == "0.0.0.0", \
        "actions: actions/server.py binds to loopback unless SANIC_HOST says otherwise; Rasa could not reach it"
    web_argv = argv_of(SERVICES["web"])
    assert web_argv[:3] == ["python", "-m", "web"] \
        and web_argv[web_argv.index("--rasa-url") + 1] == "http://rasa:5005", \
        "web: the support page server (python -m web --rasa-url http://rasa:5005)"


def test_rasa_and_the_action_servers_start_through_the_project_launchers():
    assert argv_of(SERVICES["rasa"])[:5] == ["python", "-m", "bot.server", "run", "--enable-api"], \
        "rasa: start it as `python -m bot.server run --enable-api ...` (reads RASA_AUTH_TOKEN from the environment)"
    assert argv_of(SERVICES["actions"])[:3] == ["python", "-m", "actions.server"], \
        "actions: start them as `python -m actions.server` (answers only ACTION_SERVER_TOKEN)"
    assert RASA_VALUES["command"] == ["python", "-m", "bot.server"] \
        and RASA_VALUES["args"][:2] == ["run", "--enable-api"], \
        "rasa-values.yaml: command must be python -m bot.server and args must start with run --enable-api"
    assert ACTION_VALUES["command"] == ["python", "-m", "actions.server"], \
        "actions-values.yaml: command must be python -m actions.server"


def test_no_token_or_jwt_secret_in_anyones_argv():
    argvs = {f"compose {name}": argv_of(service) for name, service in SERVICES.items()}
    argvs["helm rasa"] = [str(a) for a in RASA_VALUES.get("command", []) + RASA_VALUES.get("args", [])]
    argvs["helm actions"] = [str(a) for a in ACTION_VALUES.get("command", []) + ACTION_VALUES.get("args", [])]
    for where, argv in argvs.items():
        joined = " ".join(argv)
        for flag in ("--auth-token", "--jwt-secret", "token="):
            assert flag not in joined, f"{where}: {flag} in argv shows the secret in `ps` and `docker inspect`; " \
                                       "pass it in the environment (bot/server.py reads RASA_AUTH_TOKEN)"
    assert "RASA_AUTH_TOKEN" in SERVICES["rasa"]["environment"], "rasa: RASA_AUTH_TOKEN must be in its environment"


def test_every_secret_in_compose_is_required_and_has_no_default():
    references = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}", COMPOSE_FILE.read_text())
    for name, rest in references:
        if name == "REST_WEBHOOK_TOKEN":
            assert rest == ":-", \
                "REST_WEBHOOK_TOKEN: only `${REST_WEBHOOK_TOKEN:-}` (empty: not routed), no other default"
        elif SECRET_NAME.search(name) or name == "CORS_ORIGINS":
            assert rest.startswith(":?"), f"${{{name}{rest}}}: write it as ${{{name}:?set {name}}}, so that compose " \
                                          "refuses to start without it instead of using a default"
    for service_name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and key != "NGINX_ENVSUBST_FILTER":
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", str(value)) or \
                    (key == "REST_WEBHOOK_TOKEN" and value == "${REST_WEBHOOK_TOKEN:-}"), \
                    f"{service_name}.{key}={value!r}: a secret must come from the environment as ${{VAR:?message}}"


def test_each_service_gets_only_the_secrets_it_needs():
    for secret, allowed in SECRETS_BY_SERVICE.items():
        holders = {name for name, service in SERVICES.items()
                   if any(f"${{{secret}" in str(v) for v in (service.get("environment") or {}).values())}
        assert holders == allowed, f"{secret} goes to {sorted(holders)}; it must go to exactly {sorted(allowed)}"


def test_cors_origins_are_the_sites_and_never_star():
    assert SERVICES["rasa"]["environment"]["CORS_ORIGINS"].startswith("${CORS_ORIGINS:?"), \
        "rasa: CORS_ORIGINS must be required (${CORS_ORIGINS:?...}), with no default origin"
    assert RASA_VALUES["applicationSettings"]["cors"] != "*", "rasa-values.yaml: applicationSettings.cors must not be *"
    env = {e["name"]: e for e in RASA_VALUES["extraEnv"]}
    origins = env["CORS_ORIGINS"]["value"].split(",")
    assert origins and all(re.fullmatch(r"https://[a-z0-9.-]+(:\d+)?", o.strip()) for o in origins), \
        "rasa-values.yaml: CORS_ORIGINS must list the site's https origin(s), no * and no path"
    assert RASA_VALUES["applicationSettings"]["cors"] in origins, \
        "rasa-values.yaml: applicationSettings.cors and CORS_ORIGINS should name the same site"
    for path in DEPLOYMENT_FILES:
        for line in path.read_text().splitlines():
            if re.search(r"cors", line, re.I) and not line.lstrip().startswith("#"):
                assert not re.search(r"""(:|=)\s*['"]?\*""", line), f"{path.name}: CORS set to *: {line.strip()}"


def test_nothing_but_nginx_publishes_a_port_and_nginx_only_on_loopback():
    for name, service in SERVICES.items():
        assert service.get("network_mode") != "host", f"{name}: network_mode host publishes every port it opens"
        if name != "nginx":
            assert not service.get("ports"), f"{name}: only nginx may publish a port; remove `ports` from {name}"
    ports = SERVICES["nginx"]["ports"]
    assert ports == ["127.0.0.1:8080:8080"], \
        "nginx: publish only 127.0.0.1:8080:8080; the TLS proxy in front forwards to it"


def test_everything_but_nginx_lives_on_the_internal_network():
    networks = COMPOSE.get("networks") or {}
    assert networks.get("internal", {}).get("internal") is True, "networks.internal needs `internal: true` (no way out)"
    for name, service in SERVICES.items():
        attached = set(service.get("networks") or {"default"})
        if name == "nginx":
            assert attached == {"edge", "internal"}, "nginx: on `edge` (its published port) and `internal` only"
        elif name == "actions":
            assert attached == {"internal", "egress"}, "actions: `internal`, plus `egress` to reach a real CPS API"
        else:
            assert attached == {"internal"}, f"{name}: attach it to the `internal` network only"
    nginx_address = SERVICES["nginx"]["networks"]["internal"]["ipv4_address"]
    assert SERVICES["rasa"]["environment"]["TRUSTED_PROXIES"] == nginx_address, \
        "rasa: TRUSTED_PROXIES must be nginx's internal address, or every visitor shares one rate budget"
    edge_subnet = networks["edge"]["ipam"]["config"][0]["subnet"]
    assert [d.args for d in the_server().find("set_real_ip_from")] == [[edge_subnet]], \
        "nginx template: set_real_ip_from must trust only the `edge` network (the TLS proxy on the host)"


def test_the_checkout_is_mounted_read_only_and_state_nowhere():
    for name, service in SERVICES.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith(".") or source.startswith("/"):
                assert volume.endswith(":ro"), f"{name}: mount {source} read-only (`:ro`)"
                assert source.rstrip("/") not in (".", "./.state") and ".state" not in source, \
                    f"{name}: mount only the directories it runs, never the whole checkout or .state/ (make run's keys)"
                assert (ROOT / source).exists() or source == "./models", \
                    f"{name}: {source} does not exist in the checkout"  # models/ is built (make), not committed


def test_redis_and_postgres_have_passwords():
    redis_argv = " ".join(argv_of(SERVICES["redis"]))
    assert '--requirepass "$$REDIS_PASSWORD"' in redis_argv, \
        "redis: start redis-server with --requirepass \"$$REDIS_PASSWORD\" (from its environment, not a literal)"
    assert SERVICES["redis"]["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?"), \
        "redis: REDIS_PASSWORD must be required"
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?"), \
        "postgres: POSTGRES_PASSWORD must be required"
    assert "POSTGRES_HOST_AUTH_METHOD" not in SERVICES["postgres"]["environment"], \
        "postgres: keep the image's scram-sha-256 for network connections (no POSTGRES_HOST_AUTH_METHOD)"
    endpoints = yaml.safe_load((ROOT / "endpoints.scaled.yml").read_text())
    assert endpoints["lock_store"].get("password") == "${REDIS_PASSWORD}", \
        "endpoints.scaled.yml: the lock store must send password: ${REDIS_PASSWORD}"


def test_the_demo_cps_api_has_its_own_database_and_is_not_published():
    service = SERVICES["cps-api"]
    url = service["environment"]["CPS_API_DATABASE_URL"]
    assert "@postgres:" not in url and "POSTGRES_PASSWORD" not in url, \
        "cps-api: give the demo CPS API its own database, not the tracker store's (server, user or password)"
    assert not any(v.startswith("tracker-db:") for v in service.get("volumes") or []), \
        "cps-api: never mount the tracker store's volume"
    assert not SERVICES["cps-api"].get("ports"), "cps-api: never publish the demo CPS API"


def test_nginx_gets_the_template_and_substitutes_only_the_rest_token():
    nginx = SERVICES["nginx"]
    assert "./deploy/nginx.conf.template:/etc/nginx/templates/default.conf.template:ro" in nginx["volumes"], \
        "nginx: mount deploy/nginx.conf.template as /etc/nginx/templates/default.conf.template (the image's envsubst)"
    assert nginx["environment"]["NGINX_ENVSUBST_FILTER"] == "^REST_WEBHOOK_TOKEN$$", \
        "nginx: NGINX_ENVSUBST_FILTER must be ^REST_WEBHOOK_TOKEN$ ($$ in compose), so no other $name is replaced"
    assert set(re.findall(r"\$\{([^}]*)\}", NGINX_TEMPLATE)) == {"REST_WEBHOOK_TOKEN"}, \
        "nginx template: ${REST_WEBHOOK_TOKEN} is the only variable envsubst fills in"
    for line in NGINX_TEMPLATE.splitlines():
        if line.lstrip().startswith("#"):
            assert not re.search(r"\$\{?REST_WEBHOOK_TOKEN", line), \
                f"nginx template: envsubst would write the token into this comment: {line.strip()}"


def test_no_unset_no_old_token_key_anywhere():
    for path in DEPLOYMENT_FILES:
        text = path.read_text()
        assert "CPS_TOKEN_KEY" not in text and "cps-token-key" not in text, \
            f"{path.name}: CPS_TOKEN_KEY is gone; Rasa gets CPS_TOKEN_PUBLIC_KEY, " \
            "the action servers CPS_TOKEN_PRIVATE_KEY"
        if path.suffix == ".yaml" or path.suffix == ".yml":
            for where, value in scalars(yaml.safe_load(text)):
                assert value != "UNSET", \
                    f"{path.name}: {where} is 'UNSET'; the chart would use that literal as a secret"


# --------------------------------------------------------------------------- nginx routing


def test_nginx_routes_only_the_public_paths():
    routed = {location_key(loc) for loc in public_locations()}
    expected = {("=", p) for p in PAGE_PATHS} | {("", "/socket.io/"), ("=", REST_PATH), ("", "/")}
    assert routed == expected, f"nginx template: the public locations must be exactly {sorted(expected)}; " \
                               f"extra: {sorted(routed - expected)}, missing: {sorted(expected - routed)}"
    assert not any(location_key(loc)[0] in ("~", "~*") for loc in the_server().find("location")), \
        "nginx template: no regex locations (they are matched before prefixes and are easy to get wrong)"
    for loc in public_locations():
        modifier, path = location_key(loc)
        target = proxy_target(loc)
        if modifier == "=" and path in PAGE_PATHS:
            assert target == "http://cps_web", f"location {path}: the page comes from the web process"
        elif path == "/socket.io/":
            assert target == "http://cps_rasa_socketio", "location /socket.io/: to Rasa, sticky per client"
        elif path == REST_PATH:
            assert target == "http://cps_rasa_rest", f"location {REST_PATH}: to Rasa"
        else:
            assert target is None and [d.args for d in loc.find("return")] == [["404"]], \
                "location /: the catch-all must answer 404 and proxy nothing"


def test_rasas_api_and_other_services_paths_reach_no_upstream():
    for path in RASA_API_PATHS:
        loc = matching_location(path)
        assert location_key(loc) == ("", "/") and proxy_target(loc) is None, \
            f"nginx template: {path} must fall to the catch-all 404, not to {loc}"


def test_nginx_upstreams_are_only_rasa_and_the_page():
    servers = upstream_servers()
    assert servers == {"cps_rasa_socketio": ["rasa:5005"], "cps_rasa_rest": ["rasa:5005"], "cps_web": ["web:8080"]}, \
        "nginx template: upstreams only for Rasa's channels and the page; never the action servers or the CPS API"
    sticky = NGINX.find("upstream")[[u.args[0] for u in NGINX.find("upstream")].index("cps_rasa_socketio")]
    assert sticky.first("hash") or sticky.first("ip_hash"), \
        "upstream cps_rasa_socketio: sticky per client (hash/ip_hash)"


def test_the_rest_location_requires_the_websites_bearer():
    rest = matching_location(REST_PATH)
    assert [d.args for d in rest.find("set")] == [["$cps_rest_token", "${REST_WEBHOOK_TOKEN}"]], \
        f"location {REST_PATH}: set $cps_rest_token \"${{REST_WEBHOOK_TOKEN}}\""
    assert any(d.args == ["($cps_rest_token", "=", "", ")"] and d.first("return").args == ["404"]
               for d in rest.find("if")), \
        f"location {REST_PATH}: if ($cps_rest_token = \"\") {{ return 404; }} (no REST_WEBHOOK_TOKEN: not routed)"
    limit_except = rest.first("limit_except")
    assert limit_except and limit_except.args == ["POST"], f"location {REST_PATH}: POST only"
    auth = rest.first("auth_request")
    assert auth, f"location {REST_PATH}: check the bearer with auth_request (after limit_req)"
    checker = [loc for loc in the_server().find("location") if location_key(loc) == ("=", auth.args[0])]
    assert checker and checker[0].first("internal"), f"location {auth.args[0]}: must exist and be `internal`"
    check = checker[0].first("if")
    assert check and check.args == ["($http_authorization", "!=", "Bearer ${REST_WEBHOOK_TOKEN}", ")"] \
        and check.first("return").args == ["401"], \
        f"location {auth.args[0]}: if ($http_authorization != \"Bearer ${{REST_WEBHOOK_TOKEN}}\") {{ return 401; }}"


def test_body_limit_rate_limits_and_status_429():
    server = the_server()
    assert [d.args for d in server.find("client_max_body_size")] == [["16k"]], "nginx: client_max_body_size 16k"
    zones = {d.args[1].split("=")[1].split(":")[0]: d.args for d in NGINX.find("limit_req_zone")}
    chat = zones.get("cps_chat") or []
    assert chat[:1] == ["$binary_remote_addr"] and "rate=10r/s" in chat, \
        "nginx: limit_req_zone $binary_remote_addr zone=cps_chat:10m rate=10r/s (per client address)"
    for path in ("/socket.io/", REST_PATH):
        limits = [d.args for d in matching_location(path).find("limit_req")]
        assert limits == [["zone=cps_chat", "burst=20", "nodelay"]], \
            f"location {path}: limit_req zone=cps_chat burst=20 nodelay"
    for path in PAGE_PATHS:
        assert matching_location(path).find("limit_req"), f"location {path}: rate-limit the page too"
    assert [d.args for d in server.find("limit_conn")] == [["cps_addr", "20"]], \
        "nginx: limit_conn cps_addr 20 (per address)"
    assert [d.args for d in NGINX.find("limit_conn_zone")] == [["$binary_remote_addr", "zone=cps_addr:10m"]], \
        "nginx: limit_conn_zone per client address"
    for status in ("limit_req_status", "limit_conn_status"):
        assert [d.args for d in server.find(status)] == [["429"]], f"nginx: {status} 429 (nginx answers 503 by default)"


def test_access_log_has_no_query_strings_or_credentials():
    formats = {d.args[0]: "".join(d.args[1:]) for d in NGINX.find("log_format")}
    logs = [d.args for d in the_server().walk() if d.name == "access_log"]
    assert logs and all(len(args) == 2 and args[1] in formats for args in logs), \
        "nginx: every access_log names a log_format of this template (the image's `main` logs $request)"
    for args in logs:
        fmt = formats[args[1]]
        for variable in ("$request ", "$request\"", "$request_uri", "$args", "$query_string", "$arg_",
                         "$http_authorization", "$http_cookie", "$request_body"):
            assert variable not in fmt + " ", f"log_format {args[1]}: {variable.strip()} would log tokens; use $uri"
        assert "$uri" in fmt, f"log_format {args[1]}: log the path as $uri (no query string)"


def test_the_page_headers():
    headers = {d.args[0]: d.args[1:] for d in the_server().find("add_header")}
    assert headers.get("Content-Security-Policy", [None])[0] == PAGE_CSP, "nginx: the page's Content-Security-Policy"
    assert headers.get("X-Frame-Options", [None])[0] == "DENY", "nginx: X-Frame-Options DENY"
    assert headers.get("Referrer-Policy", [None])[0] == "no-referrer", "nginx: Referrer-Policy no-referrer"
    assert all(args[-1] == "always" for args in headers.values()), "nginx: add_header ... always (404 and 429 too)"
    assert not any(d.name == "add_header" for loc in the_server().find("location") for d in loc.walk()), \
        "nginx: no add_header inside a location: it would drop the server's security headers there"
    web_csp = getattr(web_module(), "SECURITY_HEADERS", {}).get("Content-Security-Policy")
    assert web_csp in (None, PAGE_CSP), "web/__main__.py and nginx send different Content-Security-Policies"


# --------------------------------------------------------------------------- nginx for real


class Upstream(ThreadingHTTPServer):
    """A stub for Rasa or the page: answers 200 with what it received."""

    daemon_threads = True

    def __init__(self, name: str) -> None:
        self.name, self.seen = name, []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                      "body": len(body)})
                payload = json.dumps({"upstream": upstream.name, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Security-Policy", "default-src *")  # nginx keeps only its own
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = answer

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningNginx:
    def __init__(self, directory: Path, token: str) -> None:
        self.rasa, self.web = Upstream("rasa"), Upstream("web")
        self.port = free_port()
        self.directory = directory
        rendered = (NGINX_TEMPLATE.replace("${REST_WEBHOOK_TOKEN}", token)
                    .replace("server rasa:5005;", f"server 127.0.0.1:{self.rasa.server_port};")
                    .replace("server web:8080;", f"server 127.0.0.1:{self.web.server_port};")
                    .replace("listen 8080 ", f"listen 127.0.0.1:{self.port} ")
                    .replace("/var/log/nginx/access.log", str(directory / "access.log"))
                    # the test's trusted proxy: 127.0.0.1; a client on 127.0.0.2 is not one
                    .replace("set_real_ip_from 172.30.53.0/24;", "set_real_ip_from 127.0.0.1;"))
        assert rendered.count("127.0.0.1:") >= 4, "the template's upstreams or listen line changed; update this test"
        (directory / "site.conf").write_text(rendered)
        temp = "".join(f"{kind}_temp_path {directory / kind};"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        user = "user root;" if os.geteuid() == 0 else ""
        (directory / "nginx.conf").write_text(
            f"{user} pid {directory / 'nginx.pid'}; error_log {directory / 'error.log'} info; worker_processes 1;\n"
            f"events {{ worker_connections 256; }}\nhttp {{ {temp} include {directory / 'site.conf'}; }}\n")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen([nginx, "-e", str(directory / "error.log"), "-p", str(directory),
                                         "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"nginx refused the rendered template:\n{self.process.stdout.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start")

    def request(self, method: str, path: str, body: bytes = b"", headers: Optional[Dict[str, str]] = None,
                source: str = "127.0.0.1") -> Tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(source, 0))
        try:
            conn.request(method, path, body=body or None, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        for upstream in (self.rasa, self.web):
            upstream.shutdown()
            upstream.server_close()


REST_TOKEN = "rest_Token-0123456789abcdefghijklmnop"
needs_nginx = pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
                                 reason="no nginx binary here (apt-get install nginx-light runs the template for real)")


@pytest.fixture(scope="module")
def entry(tmp_path_factory) -> Iterator[RunningNginx]:
    running = RunningNginx(tmp_path_factory.mktemp("nginx"), REST_TOKEN)
    yield running
    running.stop()


@needs_nginx
def test_nginx_serves_the_page_and_the_channels_and_nothing_else(entry: RunningNginx):
    for path in sorted(PAGE_PATHS):
        status, headers, body = entry.request("GET", path)
        assert status == 200 and json.loads(body)["upstream"] == "web", f"GET {path} must reach the web process"
        assert headers.get_all("Content-Security-Policy") == [PAGE_CSP], f"GET {path}: exactly one CSP, nginx's"
        assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    status, _, body = entry.request("GET", "/socket.io/?EIO=4&transport=polling")
    assert status == 200 and json.loads(body)["upstream"] == "rasa", "GET /socket.io/ must reach Rasa"
    before = len(entry.rasa.seen) + len(entry.web.seen)
    for path in RASA_API_PATHS:
        for method in ("GET", "POST", "PUT", "DELETE"):
            status, headers, _ = entry.request(method, path + "?token=x")
            if path == "/socket.io" and status == 301:  # nginx's redirect to the prefix location /socket.io/
                assert headers["Location"].startswith("/socket.io/"), "a relative redirect (absolute_redirect off)"
                continue
            assert status == 404, f"{method} {path} must be 404 at the entry point, got {status}"
            assert headers["X-Frame-Options"] == "DENY", f"{method} {path}: the security headers on errors too"
    assert len(entry.rasa.seen) + len(entry.web.seen) == before, "a Rasa API path reached an upstream"
    assert entry.request("POST", "/")[0] == 403, "POST / : the page is GET only"


@needs_nginx
def test_nginx_rest_webhook_needs_the_bearer_and_passes_no_credentials_on(entry: RunningNginx):
    message = json.dumps({"sender": "s1", "message": "hi"}).encode()
    assert entry.request("POST", REST_PATH, message)[0] == 401, "REST without the bearer must be refused"
    assert entry.request("POST", REST_PATH, message, {"Authorization": "Bearer wrong"})[0] == 401
    assert entry.request("POST", REST_PATH, message, {"Authorization": f"Bearer {REST_TOKEN.upper()}"})[0] == 401, \
        "the bearer check must be case-sensitive"
    good = {"Authorization": f"Bearer {REST_TOKEN}", "Cookie": "site-session=abc", "Content-Type": "application/json"}
    status, _, body = entry.request("POST", REST_PATH, message, good)
    assert status == 200 and json.loads(body)["upstream"] == "rasa", "REST with the bearer must reach Rasa"
    seen = entry.rasa.seen[-1]["headers"]
    assert "Authorization" not in seen and "Cookie" not in seen, "nginx must not pass the bearer or cookies to Rasa"
    assert entry.request("GET", REST_PATH, headers=good)[0] == 403, "REST: POST only"
    assert entry.request("POST", REST_PATH, b"x" * 17 * 1024, good)[0] == 413, "bodies over 16 KB must be refused"


@needs_nginx
def test_nginx_names_the_visitor_to_rasa_only_from_the_trusted_proxy(entry: RunningNginx):
    entry.request("GET", "/socket.io/?EIO=4&transport=websocket",
                  headers={"X-Forwarded-For": "203.0.113.7", "Upgrade": "websocket", "Connection": "Upgrade"})
    seen = entry.rasa.seen[-1]["headers"]
    assert seen["X-Forwarded-For"] == "203.0.113.7", "from the TLS proxy, the visitor's address goes to Rasa"
    assert seen.get("Upgrade") == "websocket" and seen.get("Connection", "").lower() == "upgrade", \
        "socket.io: the websocket upgrade must reach Rasa"
    entry.request("GET", "/socket.io/?EIO=4&transport=polling", headers={"X-Forwarded-For": "203.0.113.7"},
                  source="127.0.0.2")
    assert entry.rasa.seen[-1]["headers"]["X-Forwarded-For"] == "127.0.0.2", \
        "a client that is not the TLS proxy cannot choose the address Rasa budgets"
    _, headers, _ = entry.request("GET", "/", headers={"X-Forwarded-Proto": "https"})
    assert headers.get("Strict-Transport-Security", "").startswith("max-age="), "HSTS for visitors on TLS"
    assert "Strict-Transport-Security" not in entry.request("GET", "/")[1], "no HSTS over plain HTTP"


@needs_nginx
def test_nginx_rate_limits_per_address_with_429(entry: RunningNginx):
    statuses = [entry.request("GET", "/socket.io/?EIO=4&transport=polling",
                              headers={"X-Forwarded-For": "198.51.100.9"})[0] for _ in range(45)]
    assert statuses.count(200) >= 20 and 429 in statuses, f"10 r/s with bursts of 20, then 429: got {statuses}"
    other = entry.request("GET", "/socket.io/?EIO=4&transport=polling", headers={"X-Forwarded-For": "198.51.100.10"})
    assert other[0] == 200, "one flooding address must not limit another"


@needs_nginx
def test_nginx_access_log_has_no_query_strings_or_tokens(entry: RunningNginx):
    entry.request("GET", "/socket.io/?EIO=4&transport=polling&sid=SECRETSID123&token=SECRETTOKEN456")
    entry.request("POST", REST_PATH, b"{}", {"Authorization": f"Bearer {REST_TOKEN}"})
    time.sleep(0.2)
    log = (entry.directory / "access.log").read_text()
    assert "/socket.io/" in log, "the access log should still record the path"
    for secret in ("SECRETSID123", "SECRETTOKEN456", REST_TOKEN, "sid=", "token="):
        assert secret not in log, f"the access log contains {secret!r}"


@needs_nginx
def test_nginx_without_a_rest_token_does_not_route_the_webhook(tmp_path):
    running = RunningNginx(tmp_path, "")
    try:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer"}):
            assert running.request("POST", REST_PATH, b"{}", headers)[0] == 404, \
                "with REST_WEBHOOK_TOKEN empty the REST webhook must not be routed (404)"
        assert not running.rasa.seen
        assert running.request("GET", "/socket.io/?EIO=4&transport=polling")[0] == 200, "the widget still works"
    finally:
        running.stop()


# --------------------------------------------------------------------------- docker compose config


def compose_cli() -> List[str]:
    if shutil.which("docker") is None and shutil.which("docker-compose") is None:
        pytest.skip("no docker client here: `docker compose config` not run")
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("the docker client has no compose plugin (`docker compose` unknown): `compose config` not run")


def run_compose_config(env: Dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    base = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    return subprocess.run(compose_cli() + ["--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE),
                                           "--project-directory", str(ROOT), "config"],
                          capture_output=True, text=True, env={**base, **env}, timeout=120)


DUMMY_ENV = {name: f"dummy-{name.lower()}-0123456789abcdef" for name in REQUIRED_COMPOSE_VARIABLES}
DUMMY_ENV["CORS_ORIGINS"] = "https://support.example.com"


def test_compose_config_accepts_the_file_with_every_secret_set(tmp_path):
    result = run_compose_config(DUMMY_ENV, tmp_path)
    assert result.returncode == 0, f"`compose config` refused docker-compose.yml:\n{result.stderr}"
    config = yaml.safe_load(result.stdout)
    published = {name: service.get("ports") for name, service in config["services"].items() if service.get("ports")}
    assert list(published) == ["nginx"], f"only nginx may publish ports: {published}"
    assert all(str(p.get("host_ip", p) if isinstance(p, dict) else p).startswith("127.0.0.1")
               for p in published["nginx"]), f"nginx publishes beyond loopback: {published['nginx']}"
    assert config["services"]["nginx"]["environment"]["REST_WEBHOOK_TOKEN"] in ("", None), \
        "REST_WEBHOOK_TOKEN unset must reach nginx empty (REST not routed)"


@pytest.mark.parametrize("missing", REQUIRED_COMPOSE_VARIABLES)
def test_compose_config_refuses_to_start_without_each_secret(missing, tmp_path):
    env = {k: v for k, v in DUMMY_ENV.items() if k != missing}
    result = run_compose_config(env, tmp_path)
    assert result.returncode != 0 and missing in result.stderr, \
        f"docker-compose.yml must refuse to start without {missing} (write ${{{missing}:?set {missing}}})"


# --------------------------------------------------------------------------- Helm


def test_helm_values_for_rasas_charts():
    assert RASA_VALUES["image"]["repository"].endswith("/cps-rasa"), \
        "rasa-values.yaml: the project's Rasa image (make images: cps-rasa), not the stock rasa/rasa"
    assert RASA_VALUES["replicaCount"] == 3 and RASA_VALUES["applicationSettings"]["port"] == 5005
    endpoints = RASA_VALUES["applicationSettings"]["endpoints"]
    assert endpoints["trackerStore"]["dialect"] == "postgresql"
    assert endpoints["trackerStore"]["type"] == "bot.tracker_store.ReconnectingSQLTrackerStore"
    assert endpoints["lockStore"]["type"] == "bot.lock_store.AtomicRedisLockStore"
    lock_store = endpoints["lockStore"]
    assert lock_store.get("enabled") is True and lock_store.get("password") == "${REDIS_PASSWORD}", \
        "rasa-values.yaml: the lock store must use Redis with its password"
    assert ACTION_VALUES["image"]["repository"].endswith("/cps-actions"), \
        "actions-values.yaml: the project's action server image (make images: cps-actions), not the stock rasa/rasa-sdk"
    assert ACTION_VALUES["applicationSettings"]["port"] == 5055
    args = RASA_VALUES["args"]
    assert args[args.index("--port") + 1] == str(RASA_VALUES["applicationSettings"]["port"]) \
        == str(RASA_VALUES["service"]["port"]), \
        "rasa-values.yaml: args --port, applicationSettings.port and service.port differ"
    assert ACTION_VALUES["args"] == ["--port", str(ACTION_VALUES["applicationSettings"]["port"])], \
        "actions-values.yaml: args --port must match applicationSettings.port"


def test_helm_values_have_the_types_the_chart_schema_wants():
    settings = RASA_VALUES["applicationSettings"]
    assert isinstance(settings["token"], str), "applicationSettings.token must be a string (values.schema.json)"
    for store in ("trackerStore", "lockStore"):
        for key, value in settings["endpoints"][store].items():
            if key != "enabled":
                assert isinstance(value, str), f"applicationSettings.endpoints.{store}.{key} must be a string (schema)"
    assert isinstance(settings["cors"], str)
    assert RASA_VALUES["ingress"].get("extraPaths", {}) == {}, \
        "ingress.extraPaths: the chart pastes it into the path list but its schema wants an object; leave it empty"


def test_helm_token_and_jwt_secret_are_neither_unset_nor_used():
    settings = RASA_VALUES["applicationSettings"]
    for where, value in (("applicationSettings.token", settings["token"]),
                         ("applicationSettings.rasaX.jwtSecret", settings.get("rasaX", {}).get("jwtSecret"))):
        assert isinstance(value, str) and value and value != "UNSET", \
            f"rasa-values.yaml: {where} must be set (the chart's secret.yaml defaults it to 'UNSET')"
        assert value.startswith("not-used:"), f"rasa-values.yaml: {where} must say it is unused, and be no secret"
    assert "--jwt-secret" not in RASA_VALUES["args"] and "--auth-token" not in RASA_VALUES["args"], \
        "rasa-values.yaml: args must not pass --jwt-secret or --auth-token (the chart's would)"
    assert settings.get("telemetry", {}).get("enabled") is False, \
        "rasa-values.yaml: telemetry off (RASA_TELEMETRY_ENABLED=false)"
    assert RASA_VALUES.get("nginx", {}).get("enabled") is False, \
        "rasa-values.yaml: disable the chart's nginx sidecar (it proxies the whole API with 800 MB bodies)"


def secret_refs(values: Dict[str, Any]) -> Dict[str, Tuple[str, str]]:
    refs = {}
    for entry in values.get("extraEnv", []):
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            refs[entry["name"]] = (ref["name"], ref["key"])
    return refs


def test_helm_rasa_takes_every_secret_from_cps_secrets():
    refs = secret_refs(RASA_VALUES)
    for name in ("RASA_AUTH_TOKEN", "CONVERSATION_KEY", "CPS_TOKEN_PUBLIC_KEY", "ACTION_SERVER_TOKEN"):
        assert refs.get(name, ("", ""))[0] == CPS_SECRETS, \
            f"rasa-values.yaml: {name} must come from secretKeyRef {CPS_SECRETS}"
    assert "CPS_TOKEN_PRIVATE_KEY" not in refs, "rasa-values.yaml: Rasa must not get the private key"
    for entry in RASA_VALUES["extraEnv"] + ACTION_VALUES["extraEnv"]:
        if SECRET_NAME.search(entry["name"]):
            assert "value" not in entry, f"{entry['name']}: a secret must come from {CPS_SECRETS}, not a literal value"
    pg = RASA_VALUES["global"]["postgresql"]
    assert pg["existingSecret"] == CPS_SECRETS and not pg.get("postgresqlPassword"), \
        "rasa-values.yaml: PostgreSQL's passwords come from cps-secrets (global.postgresql.existingSecret), " \
        "none in values"
    redis = RASA_VALUES["redis"]
    assert redis["auth"]["enabled"] is True and redis["auth"]["existingSecret"] == CPS_SECRETS \
        and not redis["auth"].get("password"), "rasa-values.yaml: Redis auth on, its password from cps-secrets"
    assert redis["existingSecret"] == CPS_SECRETS and \
        redis["existingSecretPasswordKey"] == redis["auth"]["existingSecretPasswordKey"], \
        "rasa-values.yaml: redis.existingSecret(PasswordKey) feed Rasa's REDIS_PASSWORD; " \
        "use the same secret and key as the subchart"
    assert not RASA_VALUES["global"]["redis"].get("password"), "rasa-values.yaml: no Redis password literal"


def test_helm_secret_keys_are_listed_in_the_header():
    used = {key for _, key in list(secret_refs(RASA_VALUES).values()) + list(secret_refs(ACTION_VALUES).values())}
    used |= {RASA_VALUES.get("postgresql", {}).get("existingSecretKey"), "postgresql-postgres-password",
             RASA_VALUES.get("redis", {}).get("auth", {}).get("existingSecretPasswordKey")}
    header = RASA_VALUES_FILE.read_text().split("\n\n")[0]
    block = header.split("with exactly these keys:")[1].split("# for example")[0]
    listed = set(re.findall(r"^#   ([a-z][a-z0-9-]+)\s", block, re.M))
    assert listed == used, f"rasa-values.yaml: the header must list exactly the keys of {CPS_SECRETS} " \
                           "that the values " \
                           f"use; unlisted: {sorted(used - listed)}, not used: {sorted(listed - used)}"


def test_helm_ingress_has_tls_and_only_the_channel_paths():
    ingress = RASA_VALUES["ingress"]
    assert ingress["enabled"] is True
    tls = ingress.get("tls") or []
    assert tls and all(t.get("secretName") and ingress["hostname"] in t.get("hosts", []) for t in tls), \
        "rasa-values.yaml: the ingress needs a tls: block with a secretName covering its hostname"
    paths = {ingress["path"]} | {p.get("path") for p in ingress.get("extraPaths") or []}
    assert "/socket.io" in paths and paths <= {"/socket.io", REST_PATH}, \
        f"rasa-values.yaml: the ingress may route only /socket.io and {REST_PATH}, not {sorted(paths)}"
    annotations = ingress["annotations"]
    if REST_PATH in paths:
        assert "nginx.ingress.kubernetes.io/auth-url" in annotations, \
            f"rasa-values.yaml: {REST_PATH} may be public only behind the website's bearer"
    expected = {"nginx.ingress.kubernetes.io/affinity": "cookie", "nginx.ingress.kubernetes.io/proxy-body-size": "16k",
                "nginx.ingress.kubernetes.io/limit-rps": "10", "nginx.ingress.kubernetes.io/limit-connections": "20",
                "nginx.ingress.kubernetes.io/ssl-redirect": "true"}
    for key, value in expected.items():
        assert annotations.get(key) == value, f"rasa-values.yaml: ingress annotation {key}: {value!r}"
    assert all(isinstance(v, str) for v in annotations.values()), "ingress annotations must be strings (quote numbers)"
    assert not any("snippet" in key for key in annotations), \
        "rasa-values.yaml: no *-snippet annotations (raw nginx config; disabled by default in ingress-nginx)"
    assert RASA_VALUES["service"]["type"] == "ClusterIP", "rasa-values.yaml: the Rasa service stays inside the cluster"


def test_helm_action_servers_are_internal_and_get_their_two_secrets():
    assert ACTION_VALUES.get("ingress", {}).get("enabled") is False, "actions-values.yaml: no ingress for the actions"
    assert ACTION_VALUES["service"]["type"] == "ClusterIP", "actions-values.yaml: ClusterIP service only"
    refs = secret_refs(ACTION_VALUES)
    assert refs.get("CPS_TOKEN_PRIVATE_KEY", ("",))[0] == CPS_SECRETS \
        and refs.get("ACTION_SERVER_TOKEN", ("",))[0] == CPS_SECRETS, \
        "actions-values.yaml: CPS_TOKEN_PRIVATE_KEY and ACTION_SERVER_TOKEN from cps-secrets"
    assert not {"RASA_AUTH_TOKEN", "CONVERSATION_KEY", "CPS_TOKEN_PUBLIC_KEY"} & set(refs), \
        "actions-values.yaml: the action servers need no Rasa secret"
    env = {e["name"]: e.get("value") for e in ACTION_VALUES["extraEnv"]}
    assert env.get("SANIC_HOST") == "0.0.0.0", "actions-values.yaml: SANIC_HOST=0.0.0.0 or Rasa cannot reach the pod"
    action = RASA_VALUES["applicationSettings"]["endpoints"]["additionalEndpoints"]["action_endpoint"]
    assert action["url"] == f"http://{ACTION_VALUES['fullnameOverride']}:{ACTION_VALUES['service']['port']}/webhook", \
        "rasa-values.yaml: the action endpoint must name the action servers' service and port"
    assert action["headers"]["Authorization"] == "Bearer ${ACTION_SERVER_TOKEN}", \
        "rasa-values.yaml: Rasa must send Authorization: Bearer ${ACTION_SERVER_TOKEN} to the action servers"
    chart_action = RASA_VALUES["rasa-action-server"]
    assert chart_action["install"] is False and chart_action["external"]["enabled"] is False, \
        "rasa-values.yaml: the chart's own action endpoint (no headers) would clash with additionalEndpoints"


def test_scaled_endpoints_use_postgres_and_redis():
    endpoints = yaml.safe_load((ROOT / "endpoints.scaled.yml").read_text())
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["tracker_store"]["type"] == "bot.tracker_store.ReconnectingSQLTrackerStore"
    assert endpoints["lock_store"]["type"] == "bot.lock_store.AtomicRedisLockStore"
    from rasa.core.lock_store import RedisLockStore

    from bot.lock_store import AtomicRedisLockStore

    assert issubclass(AtomicRedisLockStore, RedisLockStore)
