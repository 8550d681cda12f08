"""`make bench`: our assistant against a stock `rasa init` assistant, same machine, same run.

Closed-loop REST load at 1, 8 and 32 concurrent conversations for a fixed
time each (loopback only, bounded), on the baseline, on our single-process
stack and on our scaled stack (BENCH_INSTANCES Rasa instances and action
servers behind nginx, PostgreSQL, Redis); plus training time, model size,
resident memory per process and /model/parse latency. The three stacks run
side by side and take turns within each level (BENCH_ROUNDS turns each), so
that a slow minute of the machine falls on all three instead of one. Writes
reports/bench/results.{json,md} and latency_histogram.png.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Sequence, Tuple, Union

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import MODEL, Stack, free_port  # noqa: E402

OUT = ROOT / "reports" / "bench"
LEVELS = (1, 8, 32)
SECONDS_PER_LEVEL = float(os.environ.get("BENCH_SECONDS", "30"))
INSTANCES = int(os.environ.get("BENCH_INSTANCES", "2"))  # Rasa instances (and action servers) when scaled
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # turns per stack and level; each gets SECONDS_PER_LEVEL / ROUNDS
RASA = str(ROOT / ".venv" / "bin" / "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}

# Multi-turn conversations in all six languages; some signed in, so the API is used.
OURS: List[Tuple[str, Sequence[str], str]] = [
    ("cs", ("Dobrý den", "jak se přihlásím?", "kolik mám bodů?", "děkuji"), "demo-incomplete"),
    ("hu", ("Jó napot", "hogyan jelentkezem be?", "milyen tagsági szintek vannak?", "köszönöm"), "demo-pro"),
    ("da", ("Goddag", "hvordan betaler jeg?", "hvor mange point har jeg?", "tak"), "demo-corporate"),
    ("lt", ("Laba diena", "pamiršau slaptažodį", "kiek turiu taškų?", "ačiū"), "demo-legacy"),
    ("fi", ("Hyvää päivää", "milloin saan laskun?", "paljonko minulla on pisteitä?", "kiitos"), "demo-member"),
    ("en", ("Hello", "how do I register my camera?", "how many points do I need for CPS?", "thanks"), ""),
]
BASELINE: List[Tuple[str, Sequence[str], str]] = [
    ("en", ("hello", "I am sad", "yes", "bye"), ""),
    ("en", ("hi", "great", "goodbye"), ""),
    ("en", ("hey", "very bad", "no", "bye"), ""),
]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# What each process of a stack is, from its command line (first match wins).
ROLES = (("rasa_sdk", "action server"), ("rasa run", "Rasa server"), ("cps_api", "CPS API"),
         ("-m web", "web page"), ("nginx", "nginx"), ("postgres", "PostgreSQL"), ("redis", "Redis"))


def process_tree(pids: Sequence[int]) -> Iterator[Tuple[int, str]]:
    """These processes and their descendants, with the role each plays (None if no known role)."""
    seen, todo = set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            todo.extend(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        except OSError:
            continue
        yield pid, next((name for needle, name in ROLES if needle in command), None)


def rss_by_role(pids: Sequence[int]) -> Dict[str, float]:
    """Resident memory (MB) of these processes and their descendants, summed per role."""
    totals: Dict[str, float] = {}
    for pid, role in process_tree(pids):
        try:
            rss_kb = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
        if role:
            totals[role] = totals.get(role, 0.0) + rss_kb / 1024
    return totals


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time (user + system) these processes and their descendants have used so far."""
    ticks = 0
    for pid, _ in process_tree(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def drive(url: str, scripts, concurrency: int, seconds: float) -> Tuple[List[float], int]:
    """Closed loop: each worker holds conversations back to back until time is up.

    Returns the latencies (ms) of the answered messages and the number of errors."""
    latencies: List[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n: int) -> None:
        session = requests.Session()
        i = n
        while time.monotonic() < stop_at:
            language, turns, token = scripts[i % len(scripts)]
            i += concurrency
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for text in turns:
                if time.monotonic() >= stop_at:
                    break
                metadata = {"language": language, **({"cps_token": token} if token else {})}
                started = time.perf_counter()
                try:
                    ok = session.post(url, json={"sender": sender, "message": text, "metadata": metadata},
                                      timeout=60).status_code == 200
                except requests.RequestException:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def summarise(latencies: List[float], errors: int, seconds: float) -> Dict[str, object]:
    ordered = sorted(latencies) or [0.0]
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"messages": len(latencies), "errors": errors, "msg_per_s": len(latencies) / seconds,
            "p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99), "latencies": latencies}


def parse_latency(rasa_url: str, texts: Sequence[str], rounds: int = 5, token: str = "") -> float:
    samples = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            requests.post(f"{rasa_url}/model/parse", json={"text": text}, params={"token": token}, timeout=30)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def baseline_project() -> Tuple[Path, float]:
    directory = OUT / "baseline"
    model = directory / "models" / "baseline.tar.gz"
    if not model.exists():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        log("creating and training the stock `rasa init` assistant (same Rasa version)")
        started = time.monotonic()
        subprocess.run([RASA, "init", "--no-prompt", "--init-dir", str(directory)], env=ENV, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for old in (directory / "models").glob("*.tar.gz"):
            old.rename(model)
        (directory / "train-seconds.txt").write_text(f"{time.monotonic() - started:.1f}")
    return model, float((directory / "train-seconds.txt").read_text())


class Baseline:
    def __init__(self, model: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [RASA, "run", "--enable-api", "--model", str(model), "--interface", "127.0.0.1", "--port", str(self.port)],
            cwd=model.parent.parent, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                requests.get(self.url, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(1)
        raise TimeoutError("baseline did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def histogram(results: Dict[str, Dict[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(LEVELS), figsize=(15, 4), sharey=False)
    for ax, level in zip(axes, LEVELS):
        for name, colour in (("baseline", "#888888"), ("ours", "#c4161c"), ("scaled", "#1c5fc4")):
            data = results[name][str(level)]["latencies"]
            if data:
                ax.hist(data, bins=40, alpha=0.6, label=name, color=colour)
        ax.set_title(f"{level} concurrent conversation(s)")
        ax.set_xlabel("latency (ms)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def start_ours(name: str, env: Dict[str, str], meta: Dict[str, object], timeout: float) -> Stack:
    """Starts our stack (scripts/run.sh) with `env`."""
    log(f"starting our stack: {name}")
    state = OUT / f"state-{name}"
    shutil.rmtree(state, ignore_errors=True)
    stack = Stack(state, env=dict(env), fault_proxy=False).start(timeout=timeout)
    meta[f"{name}_parse_p50_ms"] = parse_latency(stack.api_url, [t for _, turns, _ in OURS for t in turns],
                                                 token=stack.api_token["token"])
    return stack


def drive_in_turns(targets: Dict[str, Tuple[str, Sequence, Sequence[int]]]) -> Dict[str, Dict[str, dict]]:
    """Every level: the stacks take ROUNDS turns each, in a rotating order, and each turn's figures are pooled.

    `targets` maps a stack's name to its URL, its conversations and the pids of its processes, whose CPU
    time is read before and after each turn, as is this driver's own."""
    results: Dict[str, Dict[str, dict]] = {name: {} for name in targets}
    share = SECONDS_PER_LEVEL / ROUNDS
    for level in LEVELS:
        pooled = {name: {"latencies": [], "errors": 0, "cpu_s": 0.0, "driver_cpu_s": 0.0} for name in targets}
        names = list(targets)
        for round_ in range(ROUNDS):
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                log(f"{level} concurrent conversation(s), turn {round_ + 1}/{ROUNDS}: {name} for {share:.1f}s")
                url, scripts, pids = targets[name]
                cpu_before, driver_before = cpu_seconds(pids), sum(os.times()[:2])
                latencies, errors = drive(url, scripts, level, share)
                turn = pooled[name]
                turn["cpu_s"] += cpu_seconds(pids) - cpu_before
                turn["driver_cpu_s"] += sum(os.times()[:2]) - driver_before
                turn["latencies"] += latencies
                turn["errors"] += errors
        for name, turn in pooled.items():
            answered = max(len(turn["latencies"]), 1)
            results[name][str(level)] = {
                **summarise(turn["latencies"], turn["errors"], SECONDS_PER_LEVEL),
                "cpu_ms_per_msg": 1000 * turn["cpu_s"] / answered,
                "driver_cpu_ms_per_msg": 1000 * turn["driver_cpu_s"] / answered,
            }
    return results


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    baseline_model, baseline_train = baseline_project()
    meta: Dict[str, object] = {"seconds_per_level": SECONDS_PER_LEVEL, "instances": INSTANCES, "rounds": ROUNDS}
    pg_data = tempfile.mkdtemp(prefix="cps-bench-pg-")  # reachable by the postgres user
    running: Dict[str, Union[Baseline, Stack]] = {}
    try:
        log("starting the stock assistant")
        running["baseline"] = baseline = Baseline(baseline_model)
        meta["baseline_parse_p50_ms"] = parse_latency(baseline.url, ["hello", "I am sad", "bye"])
        running["ours"] = ours = start_ours("ours", {}, meta, timeout=300)
        running["scaled"] = scaled = start_ours(
            "scaled", {"RASA_INSTANCES": str(INSTANCES), "ACTION_SERVERS": str(INSTANCES), "PG_DATA": pg_data},
            meta, timeout=600)
        results = drive_in_turns({
            "baseline": (f"{baseline.url}/webhooks/rest/webhook", BASELINE, [baseline.process.pid]),
            "ours": (f"{ours.rasa_url}/webhooks/rest/webhook", OURS, [ours.process.pid]),
            "scaled": (f"{scaled.rasa_url}/webhooks/rest/webhook", OURS, [scaled.process.pid]),
        })
        for name, stack in running.items():
            meta[f"{name}_rss_mb"] = rss_by_role([stack.process.pid])
    finally:
        for stack in running.values():
            stack.stop()
        shutil.rmtree(pg_data, ignore_errors=True)

    train_file = ROOT / "reports" / "train-time.txt"
    meta.update({
        "ours_model_mb": MODEL.stat().st_size / 1e6,
        "baseline_model_mb": baseline_model.stat().st_size / 1e6,
        # `make train` writes "... in 268s"; components Rasa had cached are not retrained.
        "ours_training": (re.findall(r"\d+s", train_file.read_text()) or ["unknown"])[-1] + " (last `make train`)"
        if train_file.exists() else "unknown",
        "baseline_training_s": baseline_train,
        "cores": os.cpu_count(),
    })
    histogram(results, OUT / "latency_histogram.png")
    summary = {name: {lvl: {k: v for k, v in r.items() if k != "latencies"} for lvl, r in per.items()}
               for name, per in results.items()}
    (OUT / "results.json").write_text(json.dumps({"load": summary, **meta}, indent=2))
    markdown = render(summary, meta)
    (OUT / "results.md").write_text(markdown)
    print(markdown)


def render(summary: Dict[str, Dict[str, dict]], meta: Dict[str, object]) -> str:
    n = meta["instances"]
    columns = (("baseline", "baseline"), ("ours", "ours, 1 instance"), ("scaled", f"ours, {n} instances"))
    lines = ["| concurrency | " + " | ".join(f"{title}: p50 / p95 / p99 ms, msg/s" for _, title in columns)
             + " | p95 vs baseline (1 / scaled) | throughput vs baseline (1 / scaled) | errors |",
             "|---" * (len(columns) + 4) + "|"]
    for level in map(str, LEVELS):
        row = [summary[name][level] for name, _ in columns]
        b, o, s = row
        cells = [f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} / {r['p99_ms']:.0f}, {r['msg_per_s']:.1f}" for r in row]
        ratio = lambda x, y: x / max(y, 1e-9)  # noqa: E731
        lines.append(f"| {level} | " + " | ".join(cells)
                     + f" | {ratio(o['p95_ms'], b['p95_ms']):.2f} / {ratio(s['p95_ms'], b['p95_ms']):.2f}"
                     + f" | {ratio(o['msg_per_s'], b['msg_per_s']):.2f} / {ratio(s['msg_per_s'], b['msg_per_s']):.2f}"
                     + f" | {' / '.join(str(r['errors']) for r in row)} |")
    lines += ["", f"CPU time per answered message (ms), summed over the stack's processes, and this load driver's "
              f"own; the ceiling is what {meta['cores']} cores could answer per second if nothing but that CPU "
              "time counted:", "",
              "| concurrency | " + " | ".join(f"{title}: stack + driver CPU ms, ceiling msg/s" for _, title in columns)
              + " |", "|---" * (len(columns) + 1) + "|"]
    for level in map(str, LEVELS):
        cells = []
        for name, _ in columns:
            r = summary[name][level]
            per_message = r["cpu_ms_per_msg"] + r["driver_cpu_ms_per_msg"]
            cells.append(f"{r['cpu_ms_per_msg']:.1f} + {r['driver_cpu_ms_per_msg']:.1f}, "
                         f"{meta['cores'] * 1000 / max(per_message, 1e-9):.0f}")
        lines.append(f"| {level} | " + " | ".join(cells) + " |")
    memory = lambda name: ", ".join(f"{role} {mb:.0f}" for role, mb in sorted(meta[f"{name}_rss_mb"].items()))  # noqa: E731
    rasa_ratio = meta["ours_rss_mb"].get("Rasa server", 0) / max(meta["baseline_rss_mb"].get("Rasa server", 1), 1e-9)
    lines += ["", "| measure | ours | baseline |", "|---|---|---|",
              f"| resident memory after load, MB (1 instance) | {memory('ours')} | {memory('baseline')} |",
              f"| Rasa server memory, ours / baseline | {rasa_ratio:.2f} | 1.00 |",
              f"| resident memory after load, MB ({n} instances) | {memory('scaled')} | |",
              f"| model size (MB) | {meta['ours_model_mb']:.1f} | {meta['baseline_model_mb']:.1f} |",
              f"| /model/parse p50 over HTTP (ms) | {meta['ours_parse_p50_ms']:.1f} | "
              f"{meta['baseline_parse_p50_ms']:.1f} |",
              f"| training | {meta['ours_training']} | {meta['baseline_training_s']:.0f}s |", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
