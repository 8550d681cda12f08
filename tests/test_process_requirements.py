"""Each process runs from its own requirements alone, with the files its image copies.

For every image (docker/<process>.Dockerfile) this builds a virtualenv from
requirements/<process>.txt only, lays out the files the Dockerfile COPYs into
an empty /app, and starts the process there as the image would (its
ENTRYPOINT and CMD, its ENV) until its health endpoint answers, then asks it
for something only a whole process can answer. A dependency the runtime set
lacks, or a file the image does not copy, fails here instead of in a cluster.
No Docker engine is needed.

The venvs of the action server, the CPS API and the page server are built by
pip from the registry, in parallel, and kept under `.venvs-cache/` keyed by
the hash of their requirements file, so a second run reuses them (a fresh
clone builds them once: about a minute on 2 cores). The Rasa set (164
packages, TensorFlow among them) costs 4 to 5 minutes to install, so by
default its venv is *linked*: a new venv whose site-packages holds, file by
file, exactly the distributions requirements/rasa.txt names, as pip installed
them at those versions into .venv (`make lock` pins the sets from .venv); a
module of any other distribution is not importable there. The closure is
checked as pip check would (every requirement of every listed distribution is
listed, at a version that satisfies it). `PROCESS_VENVS_PIP=1` builds the
Rasa venv with pip as well (done here on 2026-12-03: pip's `freeze` of that
venv equals requirements/rasa.txt).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
import requests
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.images import PROCESSES, Dockerfile, pinned
from tests.stack import ROOT, free_port
CACHE = ROOT / ".venvs-cache"
PIP_BUILT = {"actions", "cps_api", "web"} | ({"rasa"} if os.environ.get("PROCESS_VENVS_PIP") == "1" else set())
BARE_VENV = {"pip", "setuptools"}  # what `python -m venv` brings before anything is installed
TOKEN = "process-test-token-0123456789abcdef"


def lay_out_app(process: str, app: Path) -> None:
    """The files the image's COPY instructions put under /app, from this checkout."""
    dockerfile = Dockerfile(process)
    for sources, destination in dockerfile.copies():
        if not destination.startswith("/app"):
            continue  # the requirements file, installed and removed
        target = app / destination[len("/app/"):] if destination != "/app" else app
        for source in sources:
            origin = ROOT / source
            assert origin.exists(), f"{dockerfile.path.name}: COPY {source}: not in the checkout"
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
            else:
                where = target / origin.name if destination.endswith("/") else target
                where.parent.mkdir(parents=True, exist_ok=True)
                if origin.stat().st_size > 10_000_000:
                    where.symlink_to(origin)  # the model: read only
                else:
                    shutil.copy2(origin, where)
    for source, destination in dockerfile.widget_copies():
        # The widget stage's `npm ci` of web/package-lock.json is what scripts/setup_web.sh runs here.
        origin = ROOT / "web" / source[len("/web/"):]
        assert origin.exists(), f"{origin} missing: run scripts/setup_web.sh (npm ci in web/)"
        shutil.copytree(origin, app / destination[len("/app/"):], dirs_exist_ok=True)


# --------------------------------------------------------------------------- venvs


def python310() -> str:
    """The interpreter .venv was built with (scripts/setup_venv.sh found a Python 3.10)."""
    config = (ROOT / ".venv" / "pyvenv.cfg").read_text()
    home = re.search(r"^home = (.+)$", config, re.M).group(1).strip()
    return str(Path(home) / "python3.10")


def venv_key(process: str, how: str) -> str:
    digest = hashlib.sha256((ROOT / "requirements" / f"{process}.txt").read_bytes()).hexdigest()[:16]
    return f"{process}-{how}-{digest}"


def pip_venv(process: str) -> Path:
    """A venv built by pip from requirements/<process>.txt alone, reused while that file is unchanged."""
    target = CACHE / venv_key(process, "pip")
    if (target / "done").exists():
        return target
    for stale in CACHE.glob(f"{process}-pip-*"):  # built from an earlier version of the file
        shutil.rmtree(stale, ignore_errors=True)
    subprocess.run([python310(), "-m", "venv", str(target)], check=True)
    log = CACHE / f"{target.name}.log"
    with log.open("w") as out:
        result = subprocess.run([str(target / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                                 "--progress-bar", "off", "-r", str(ROOT / "requirements" / f"{process}.txt")],
                                stdout=out, stderr=subprocess.STDOUT)
    assert result.returncode == 0, f"pip could not install requirements/{process}.txt alone; see {log}"
    (target / "done").write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
    return target


def linked_venv(process: str) -> Path:
    """A venv holding, as symlinks into .venv, exactly the distributions requirements/<process>.txt names."""
    target = CACHE / venv_key(process, "linked")
    if (target / "done").exists():
        return target
    for stale in CACHE.glob(f"{process}-linked-*"):
        shutil.rmtree(stale, ignore_errors=True)
    subprocess.run([python310(), "-m", "venv", "--without-pip", str(target)], check=True)
    site = target / "lib" / "python3.10" / "site-packages"
    wanted = pinned(process)
    for distribution in metadata.distributions():
        name = canonicalize_name(distribution.metadata["Name"])
        if name not in wanted:
            continue
        assert distribution.version == wanted[name], \
            f".venv has {name} {distribution.version}, requirements/{process}.txt pins {wanted[name]}: make venv"
        base = Path(distribution.locate_file(""))
        for file in distribution.files or []:
            if file.parts[0] == "..":
                continue  # scripts in bin/: the processes start as `python -m ...`
            source, link = base / file, site / file
            if source.exists() and not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(source)
    (target / "done").write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
    return target


@pytest.fixture(scope="module")
def venvs() -> Dict[str, Path]:
    CACHE.mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=len(PROCESSES)) as pool:
        futures = {p: pool.submit(pip_venv if p in PIP_BUILT else linked_venv, p) for p in PROCESSES}
        return {p: future.result() for p, future in futures.items()}


def installed(venv: Path) -> Dict[str, str]:
    code = ("import json; from importlib import metadata; "
            "print(json.dumps({d.metadata['Name']: d.version for d in metadata.distributions()}))")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True).stdout
    return {canonicalize_name(k): v for k, v in json.loads(out).items()}


# --------------------------------------------------------------------------- running a process


class Process:
    """One process started from its venv in an /app laid out as its image."""

    def __init__(self, process: str, venv: Path, app: Path, argv: List[str], env: Dict[str, str]) -> None:
        self.app, self.log = app, app.parent / f"{process}.log"
        image_env = {k: v.replace("/app", str(app)) for k, v in Dockerfile(process).env().items()}
        environment = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(app.parent), "LANG": "C.UTF-8",
                       **image_env, "PYTHONPATH": str(app), **env}
        assert argv[0] == "python", f"docker/{process}.Dockerfile: ENTRYPOINT should start with python"
        self.popen = subprocess.Popen([str(venv / "bin" / "python")] + argv[1:], cwd=app, env=environment,
                                      stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def wait_for(self, url: str, seconds: float) -> requests.Response:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                pytest.fail(f"the process exited with {self.popen.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                answer = requests.get(url, timeout=5)
                if answer.status_code == 200:
                    return answer
            except requests.RequestException:
                pass
            time.sleep(0.5)
        pytest.fail(f"{url} did not answer 200 within {seconds} s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def start(process: str, venvs: Dict[str, Path], tmp_path: Path, port: int, env: Dict[str, str],
          flags: Optional[Dict[str, str]] = None) -> Process:
    """The image's ENTRYPOINT + CMD on a free port and loopback, with `flags` given other values."""
    app = tmp_path / "app"
    app.mkdir()
    lay_out_app(process, app)
    dockerfile = Dockerfile(process)
    argv = dockerfile.exec_form("ENTRYPOINT") + dockerfile.exec_form("CMD")
    values = {"--port": str(port), "--host": "127.0.0.1", **(flags or {})}
    argv = [values.get(previous, word) for previous, word in zip([""] + argv, argv)]
    return Process(process, venvs[process], app, argv, env)


def health_path(process: str) -> Tuple[int, str]:
    """The port and path of the image's HEALTHCHECK."""
    check = " ".join(Dockerfile(process).all("HEALTHCHECK"))
    found = re.search(r"http://127\.0\.0\.1:(\d+)(/[^'\"]*)", check)
    assert found, f"docker/{process}.Dockerfile: HEALTHCHECK must request http://127.0.0.1:<port>/<path>"
    return int(found.group(1)), found.group(2)


def key_pair() -> Tuple[str, str]:
    from bot.token_cipher import new_key_pair

    return new_key_pair()


# --------------------------------------------------------------------------- the sets themselves


@pytest.mark.parametrize("process", PROCESSES)
def test_the_venv_holds_exactly_the_set(process, venvs):
    have, want = installed(venvs[process]), pinned(process)
    extra = {name: v for name, v in have.items() if name not in want and name not in BARE_VENV}
    missing = {name: v for name, v in want.items() if have.get(name) != v}
    assert not missing and not extra, \
        f"requirements/{process}.txt is not what its venv holds: missing or other version {missing}, " \
        f"pulled in besides {extra}; pin the closure with `make lock`"


@pytest.mark.parametrize("process", PROCESSES)
def test_every_dependency_of_the_set_is_in_the_set(process):
    """What `pip check` says of the venv, from the distributions' own metadata in .venv."""
    want = pinned(process)
    unmet = []
    for name, version in want.items():
        for text in metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            dependency = canonicalize_name(requirement.name)
            if dependency not in want or want[dependency] not in requirement.specifier:
                unmet.append(f"{name} {version} needs {requirement}, the set has {want.get(dependency)}")
    assert not unmet, f"requirements/{process}.txt is not closed: {unmet}"


def test_the_sets_agree_with_each_other_and_the_dev_venv():
    dev = pinned("dev")
    for process in PROCESSES + ("bench",):
        for name, version in pinned(process).items():
            assert dev.get(name) == version, \
                f"requirements/{process}.txt pins {name}=={version}, requirements/dev.txt {dev.get(name)}: make lock"
    assert not set(pinned("actions")) & {"rasa", "tensorflow", "pytest", "selenium"}
    # (Rasa needs matplotlib; lingua tells the languages it does not speak apart, bot/other_languages.py)
    assert not set(pinned("rasa")) & {"pytest", "selenium", "langdetect", "langid", "fastapi", "uvicorn", "supervisor"}, \
        "requirements/rasa.txt: no test, bench or other process's package in the Rasa image"


def test_the_dev_venv_is_requirements_dev():
    have = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    missing = {name: v for name, v in pinned("dev").items() if have.get(name) != v}
    assert not missing, f".venv lacks {missing}: make venv"


# --------------------------------------------------------------------------- import and start


def test_cps_api_starts_from_its_set(venvs, tmp_path):
    port = free_port()
    expected_port, path = health_path("cps_api")
    assert expected_port == 8000 and path == "/health"
    process = start("cps_api", venvs, tmp_path, port, {
        "CPS_API_HOST": "127.0.0.1", "CPS_API_PORT": str(port),
        "CPS_API_DATABASE_URL": f"sqlite:///{tmp_path / 'cps.sqlite3'}"})
    try:
        assert process.wait_for(f"http://127.0.0.1:{port}{path}", 60).json() == {"status": "ok"}
        account = requests.get(f"http://127.0.0.1:{port}/v1/points", timeout=10,
                               headers={"Authorization": "Bearer demo-incomplete"})
        assert account.status_code == 200 and account.json()["allocated"] == 420
    finally:
        process.stop()


def test_action_server_starts_from_its_set_and_registers_every_action(venvs, tmp_path):
    import yaml

    port = free_port()
    assert health_path("actions") == (5055, "/health")
    private, _ = key_pair()
    process = start("actions", venvs, tmp_path, port, {
        "SANIC_HOST": "127.0.0.1", "ACTION_SERVER_TOKEN": TOKEN, "CPS_TOKEN_PRIVATE_KEY": private,
        "CPS_API_URL": "http://127.0.0.1:9"})
    try:
        process.wait_for(f"http://127.0.0.1:{port}/health", 60)
        served = requests.get(f"http://127.0.0.1:{port}/actions", timeout=10,
                              headers={"Authorization": f"Bearer {TOKEN}"})
        assert served.status_code == 200
        names = {action["name"] for action in served.json()}
        # An entry is a name, or {name: {send_domain: true}} (domain/domain.yml).
        domain_actions = {a if isinstance(a, str) else next(iter(a))
                          for a in yaml.safe_load((ROOT / "domain" / "domain.yml").read_text())["actions"]}
        assert domain_actions <= names, \
            f"actions the domain names but the image's action server does not register: {sorted(domain_actions - names)}"
        log = process.log.read_text()
        assert "Failed to register package" not in log and "ModuleNotFoundError" not in log, log[-3000:]
    finally:
        process.stop()


def test_page_server_starts_from_its_set_and_insights_imports(venvs, tmp_path):
    port = free_port()
    assert health_path("web") == (8080, "/")
    process = start("web", venvs, tmp_path, port, {})
    try:
        page = process.wait_for(f"http://127.0.0.1:{port}/", 30)
        assert "<html" in page.text.lower() and page.headers["Content-Security-Policy"].startswith("default-src 'self'")
        vendor = requests.get(f"http://127.0.0.1:{port}/vendor/socket.io.min.js", timeout=10)
        assert vendor.status_code == 200 and len(vendor.content) > 10_000
    finally:
        process.stop()
    # /insights (with INSIGHTS_TOKEN) imports the report and its plots on first use: import them here.
    result = subprocess.run([str(venvs["web"] / "bin" / "python"), "-c",
                             "import insights.web, insights.render, insights.report, insights.source; "
                             "import psycopg2"],
                            cwd=process.app, env={"PYTHONPATH": str(process.app), "MPLCONFIGDIR": str(tmp_path)},
                            capture_output=True, text=True)
    assert result.returncode == 0, f"/insights cannot import in the web image:\n{result.stderr[-3000:]}"


def test_rasa_starts_from_its_set_with_the_projects_components(venvs, tmp_path):
    port = free_port()
    assert health_path("rasa") == (5005, "/")
    _, public = key_pair()
    process = start("rasa", venvs, tmp_path, port, {
        "RASA_AUTH_TOKEN": TOKEN, "CONVERSATION_KEY": "process-test-conversation-key-0123",
        "CPS_TOKEN_PUBLIC_KEY": public, "ACTION_SERVER_TOKEN": TOKEN,
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:9/webhook", "TRACKER_DB": str(tmp_path / "tracker.sqlite3"),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2"},
        # SQLite here: the image's endpoints.scaled.yml needs PostgreSQL and Redis (their clients are imported below).
        flags={"--endpoints": "endpoints.yml"})
    try:
        hello = process.wait_for(f"http://127.0.0.1:{port}/", 240)
        assert "Rasa" in hello.text
        parsed = requests.post(f"http://127.0.0.1:{port}/model/parse", params={"token": TOKEN}, timeout=30,
                               json={"text": "hvor mange point har jeg?"}).json()
        assert parsed["intent"]["name"] == "check_points" and parsed["language"]["name"] == "da", parsed
        reply = requests.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", timeout=60,
                              json={"sender": "process-test", "message": "hello", "metadata": {"language": "en"}})
        assert reply.status_code == 200 and reply.json(), "the guarded REST channel answers"
    finally:
        process.stop()
    # The scaled set-up's stores (endpoints.scaled.yml): PostgreSQL and Redis clients import in the image.
    result = subprocess.run([str(venvs["rasa"] / "bin" / "python"), "-c",
                             "import psycopg2, redis, bot.lock_store, bot.tracker_store, bot.channels"],
                            cwd=process.app, env={"PYTHONPATH": str(process.app), "HOME": str(tmp_path)},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
