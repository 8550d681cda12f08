"""`make soak`: the scaled stack keeps serving while its processes are killed, one after another.

Starts the scaled set-up (2 Rasa instances, 2 action servers, nginx, PostgreSQL, Redis, the
CPS API; loopback only) and runs SOAK_CONVERSATIONS mixed six-language REST conversations at
once through nginx for SOAK_MINUTES, each signed in with the demo token, each turn after a
visitor's pause. Every SOAK_KILL_EVERY seconds the next process in turn gets SIGKILL (a Rasa
instance, an action server, the CPS API, PostgreSQL, Redis, nginx, and round again); its
recovery is timed (kill -> supervisord has a new pid and the health check answers).

The client behaves like the website's backend: a turn that fails (HTTP error, no connection,
timeout) or is answered "please try again" (utter_service_unavailable, which the stack sends
for a turn it did not store) is sent again after a short pause. At the end every
conversation's tracker is compared with what the client saw answered: a message answered but
not stored is lost, one stored more often than answered is duplicated. Both must be 0, and
every killed process must come back; otherwise the exit status is 1.

Writes reports/soak/results.{json,md} and latency.png (each attempt's latency over time, kills
marked). The stack's logs stay in reports/soak/state/logs for evidence.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.phrases import FEE_QUESTION, GREETING_LOGIN_RESET, POINTS  # noqa: E402
from tests.stack import RESPONSES, SOMETHING_WENT_WRONG, Stack, new_sender, response_texts  # noqa: E402
from tests.supervision import (  # noqa: E402
    SUPERVISORCTL, Supervised, accepts_queries, answers, answers_with_its_password, postgres_port, redis_port,
)

OUT = ROOT / "reports" / "soak"
MINUTES = float(os.environ.get("SOAK_MINUTES", "20"))
KILL_EVERY = float(os.environ.get("SOAK_KILL_EVERY", "180"))
CONVERSATIONS = int(os.environ.get("SOAK_CONVERSATIONS", "8"))  # at once, each thread one after another
# A visitor reads the answer before typing the next message; without it 8 threads would turn the
# soak into a CPU load test of a 2-core machine, which `make bench` already is.
PAUSE = float(os.environ.get("SOAK_PAUSE", "1.0"))
TURN_TIMEOUT = 150.0  # above Rasa's 60 s ticket lifetime: a killed instance's lock expires first
TRIES = 8  # per message; the pauses between them (1, 2, 4, 8, 10 ... s) outlast a store's restart
RECOVERY_TIMEOUT = 300.0  # a killed process not back by then did not come back
WIND_DOWN = 180.0  # after SOAK_MINUTES, turns in flight may finish (and be sent again) this long
PROGRESS_EVERY = 30.0
TOKEN = "demo-pro"
LANGUAGES = ("cs", "hu", "da", "lt", "fi", "en")
KILL_ORDER = ("rasa", "actions", "cps-api", "postgres", "redis", "nginx")
ANSWERED, TRY_AGAIN = "answered", "try again"


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


def script(language: str) -> List[str]:
    """One conversation: FAQ answers (greeting, log-in, fees, password) around an account answer (points)."""
    greeting, login, reset = GREETING_LOGIN_RESET[language]
    return [greeting, login, POINTS[language], FEE_QUESTION[language], reset]


def texts_by_language() -> Dict[str, Set[str]]:
    """Every response text of the catalogue (domain/responses/), per language (placeholders unfilled: those never match)."""
    return {language: {text for name in RESPONSES for text in response_texts(name, language)}
            for language in LANGUAGES}


@dataclass
class Attempt:
    """One HTTP request of the client: `t` is its start in seconds since the soak began."""

    t: float
    latency: float
    outcome: str  # ANSWERED, TRY_AGAIN, "silent", "http 502", "connection", "timeout", "not Rasa's JSON"
    sender: str
    message: int  # index in the conversation's script
    last_killed: Optional[str]  # the process killed last before the attempt ended
    last_kill: Optional[int]  # index of that kill in the soak's kills
    api_unavailable: bool = False  # a real answer saying the account cannot be reached now
    wrong_language: bool = False  # an answer text of another language only


@dataclass
class Conversation:
    sender: str
    language: str
    sent: List[str] = field(default_factory=list)  # messages the client tried, in order
    answered: List[str] = field(default_factory=list)  # those that got a real answer
    gave_up: bool = False  # a message still unanswered after TRIES attempts ended the conversation


@dataclass
class Kill:
    program: str  # supervisord's name, e.g. "rasa-41234"
    t: float
    old_pid: int
    new_pid: int = 0
    recovery_s: Optional[float] = None  # None: not back within RECOVERY_TIMEOUT
    status: str = ""  # supervisorctl's status line once it was back
    others_down: List[str] = field(default_factory=list)  # killed earlier and not back yet at this kill


class Soak:
    """The client threads, the killer and what both recorded."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.supervised = Supervised(stack)
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.started = time.monotonic()
        self.end = self.started + MINUTES * 60
        self.stop_retrying = self.end + WIND_DOWN
        self.lock = threading.Lock()
        self.attempts: List[Attempt] = []
        self.conversations: List[Conversation] = []
        self.kills: List[Kill] = []
        self.watchers: List[threading.Thread] = []
        self.status_at_end: Dict[str, str] = {}
        own = texts_by_language()
        # Texts only other languages have: such an answer is in the wrong language.
        self.foreign = {language: set().union(*(t for other, t in own.items() if other != language)) - own[language]
                        for language in LANGUAGES}
        self.api_unavailable = {language: set(response_texts("utter_api_unavailable", language))
                                for language in LANGUAGES}

    def now(self) -> float:
        return time.monotonic() - self.started

    def last_kill(self) -> Optional[int]:
        with self.lock:
            return len(self.kills) - 1 if self.kills else None

    # -- the client ------------------------------------------------------------------------

    def attempt(self, session: requests.Session, conversation: Conversation, index: int) -> Attempt:
        """Sends one message once and classifies what came back."""
        text, language = conversation.sent[index], conversation.language
        begun = self.now()

        def record(outcome: str, **extra: bool) -> Attempt:
            # The fault that hit an attempt is the last kill before it ended (one cut short by a kill began before).
            last = self.last_kill()
            return Attempt(begun, self.now() - begun, outcome, conversation.sender, index,
                           None if last is None else self.kills[last].program, last, **extra)

        try:
            response = session.post(self.url, timeout=TURN_TIMEOUT, json={
                "sender": conversation.sender, "message": text,
                "metadata": {"language": language, "cps_token": TOKEN}})
        except requests.Timeout:
            return record("timeout")
        except requests.RequestException:
            return record("connection")
        if response.status_code != 200:
            return record(f"http {response.status_code}")
        try:
            replies = [r["text"] for r in response.json() if r.get("text")]
        except (ValueError, TypeError, AttributeError):
            return record("not Rasa's JSON")
        if not replies:
            return record("silent")
        if any(reply in SOMETHING_WENT_WRONG for reply in replies):
            return record(TRY_AGAIN)
        return record(ANSWERED, api_unavailable=any(r in self.api_unavailable[language] for r in replies),
                      wrong_language=any(r in self.foreign[language] for r in replies))

    def turn(self, session: requests.Session, conversation: Conversation, index: int) -> bool:
        """One message until it is answered, as the website's backend would: True once answered."""
        for n in range(TRIES):
            result = self.attempt(session, conversation, index)
            with self.lock:
                self.attempts.append(result)
            if result.outcome == ANSWERED:
                conversation.answered.append(conversation.sent[index])
                return True
            if time.monotonic() > self.stop_retrying:
                break
            time.sleep(min(2 ** n, 10))
        return False

    def converse(self, worker: int) -> None:
        """Conversation after conversation, the languages in turn, until SOAK_MINUTES are over."""
        session = requests.Session()
        number = worker
        while time.monotonic() < self.end:
            language = LANGUAGES[number % len(LANGUAGES)]
            number += CONVERSATIONS
            conversation = Conversation(new_sender(f"soak-{language}"), language)
            with self.lock:
                self.conversations.append(conversation)
            for index, text in enumerate(script(language)):
                if time.monotonic() >= self.end:
                    break
                conversation.sent.append(text)
                if not self.turn(session, conversation, index):
                    conversation.gave_up = True
                    break
                time.sleep(PAUSE)

    # -- the killer ------------------------------------------------------------------------

    def victim(self, k: int) -> str:
        """The k-th process to kill: KILL_ORDER in turn, the instances of a kind taking turns by round."""
        kind, round_ = KILL_ORDER[k % len(KILL_ORDER)], k // len(KILL_ORDER)
        programs = sorted(self.supervised.programs())
        if kind in programs:
            return kind
        instances = [name for name in programs if name.startswith(f"{kind}-")]
        return instances[round_ % len(instances)]

    def health(self, program: str) -> Callable[[], bool]:
        """The check that says the program serves again."""
        port = program.rsplit("-", 1)[-1]
        if program.startswith("rasa-"):
            return lambda: answers(f"http://127.0.0.1:{port}/")
        if program.startswith("actions-"):
            return lambda: answers(f"http://127.0.0.1:{port}/health")
        if program == "cps-api":
            return lambda: answers(f"{self.stack.cps_api_url}/health")
        if program == "postgres":
            pg = postgres_port(self.stack)
            return lambda: accepts_queries(pg)
        if program == "redis":
            port_ = redis_port(self.stack)
            return lambda: answers_with_its_password(self.stack, port_)
        if program == "nginx":
            return lambda: accepting(int(self.stack.env["RASA_PORT"]))
        raise ValueError(f"no health check for {program!r}")

    def kill(self, program: str) -> None:
        """SIGKILL to the program's process; a thread times its way back."""
        healthy = self.health(program)
        pid = self.supervised.kill(program)
        record = Kill(program, self.now(), pid, others_down=[w.program for w in self.recovering()])
        with self.lock:
            self.kills.append(record)
        log(f"killed {program} (pid {pid}) at {record.t:.0f}s")
        watcher = threading.Thread(target=self.watch, args=(record, healthy), daemon=True)
        watcher.start()
        self.watchers.append(watcher)

    def watch(self, record: Kill, healthy: Callable[[], bool]) -> None:
        """Polls until supervisord has started a new process and its health check answers."""
        killed_at = self.started + record.t
        while time.monotonic() - killed_at < RECOVERY_TIMEOUT:
            try:
                if healthy():
                    pid = self.supervised.pid(record.program)
                    if pid not in (0, record.old_pid):
                        record.new_pid, record.recovery_s = pid, time.monotonic() - killed_at
                        break
            except Exception:  # a check that raises is a check that failed (a store half up)
                pass
            time.sleep(0.2)
        if record.recovery_s is None:
            log(f"{record.program} NOT back within {RECOVERY_TIMEOUT:.0f}s")
            return
        # supervisord counts a process RUNNING once it stayed up startsecs (5 s); one that exits at once
        # (a port still taken, say) goes to BACKOFF and, after startretries, FATAL.
        for _ in range(30):
            time.sleep(1)
            record.status = program_status(self.supervised, record.program)
            if record.status.startswith(("RUNNING", "FATAL")):
                break
        log(f"{record.program} back after {record.recovery_s:.1f}s ({record.status})")

    def recovering(self) -> List[Kill]:
        with self.lock:
            return [k for k in self.kills if k.recovery_s is None and self.now() - k.t < RECOVERY_TIMEOUT]

    def progress(self) -> None:
        with self.lock:
            outcomes = collections.Counter(a.outcome for a in self.attempts)
        failed = sum(n for outcome, n in outcomes.items() if outcome not in (ANSWERED, TRY_AGAIN))
        log(f"{self.now():.0f}s: {outcomes[ANSWERED]} turns answered, {failed} attempts failed, "
            f"{outcomes[TRY_AGAIN]} try-again answers, {len(self.kills)} kills")

    def run(self) -> None:
        """Clients for SOAK_MINUTES; a kill every KILL_EVERY seconds.

        Kills keep their schedule even while an earlier victim of another kind is still coming back
        (each kill records which were): a slow Rasa start must not hold back the other faults."""
        workers = [threading.Thread(target=self.converse, args=(n,), daemon=True) for n in range(CONVERSATIONS)]
        for worker in workers:
            worker.start()
        next_kill, next_progress, k = self.started + KILL_EVERY, self.started + PROGRESS_EVERY, 0
        delayed = False
        while time.monotonic() < self.end:
            if time.monotonic() >= next_progress:
                self.progress()
                next_progress += PROGRESS_EVERY
            if time.monotonic() >= next_kill:
                victim, kind = self.victim(k), KILL_ORDER[k % len(KILL_ORDER)]
                # Never the last instance of a kind: while another one is still starting, the kill waits.
                waiting = [w.program for w in self.recovering() if w.program.split("-")[0] == kind.split("-")[0]]
                if waiting:
                    if not delayed:
                        log(f"the kill of {victim} waits for {', '.join(waiting)} to come back")
                        delayed = True
                else:
                    delayed = False
                    self.kill(victim)
                    k += 1
                    next_kill = max(next_kill + KILL_EVERY, time.monotonic() + 1)
            time.sleep(0.5)
        log(f"{MINUTES:g} minutes over: no new turns; in-flight ones may take up to {WIND_DOWN:.0f}s more")
        for worker in workers:
            worker.join(max(0.0, self.stop_retrying + TURN_TIMEOUT - time.monotonic()))
        for watcher in self.watchers:
            watcher.join(RECOVERY_TIMEOUT + 10)
        # A process supervisord could not start again ends in BACKOFF, then FATAL: the state at the end tells.
        self.status_at_end = {k.program: program_status(self.supervised, k.program) for k in self.kills}
        self.progress()


def accepting(port: int) -> bool:
    """Something accepts TCP connections on the loopback port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def program_status(supervised: Supervised, program: str) -> str:
    """supervisorctl's status line for one program, without the name ("RUNNING pid 123, uptime 0:00:07")."""
    out = subprocess.run([str(SUPERVISORCTL), "-c", str(supervised.conf), "status", supervised.name(program)],
                         capture_output=True, text=True, timeout=30).stdout
    return " ".join(out.split()[1:])


def stack_ports(stack: Stack, supervised: Supervised) -> List[int]:
    """Every port a process of the stack listens on: the entry points, the instances, the stores."""
    ports = {int(stack.env[name]) for name in ("RASA_PORT", "RASA_API_PORT", "ACTIONS_PORT", "CPS_API_PORT",
                                               "WEB_PORT")}
    ports |= {int(name.rsplit("-", 1)[1]) for name in supervised.programs() if name.rsplit("-", 1)[-1].isdigit()}
    return sorted(ports | {postgres_port(stack), redis_port(stack)})


def listeners(ports: Sequence[int]) -> Dict[int, List[int]]:
    """The pids listening on these loopback ports (ss -ltnp), by port."""
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, timeout=30).stdout
    found: Dict[int, List[int]] = {}
    for line in out.splitlines():
        fields = line.split()
        port = int(fields[3].rsplit(":", 1)[1]) if len(fields) > 3 and fields[3].rsplit(":", 1)[-1].isdigit() else 0
        if port in ports:
            found[port] = sorted({int(p) for p in re.findall(r"pid=(\d+)", line)})
    return found


def end_leftovers(ports: Sequence[int]) -> Dict[str, List[int]]:
    """Processes still listening on the stack's ports after it stopped: logged, then ended by pid
    (SIGTERM, SIGKILL after 5 s) so that the soak leaves nothing behind on a shared machine."""
    left = listeners(ports)
    for port, pids in left.items():
        for pid in pids:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            log(f"LEFT BEHIND after the stop: pid {pid} ({command.strip()}) listening on port {port}; ending it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and listeners(ports):
        time.sleep(0.2)
    for pids in listeners(ports).values():
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return {str(port): pids for port, pids in left.items()}


def stored_user_texts(stack: Stack, sender: str) -> List[str]:
    """The user messages the tracker store holds for a conversation, in order."""
    for _ in range(5):
        try:
            return [e.get("text") for e in stack.tracker(sender)["events"] if e["event"] == "user"]
        except requests.RequestException:
            time.sleep(2)
    raise RuntimeError(f"the tracker of {sender} could not be read; see {stack.state_dir}/logs")


def integrity(stack: Stack, conversations: Sequence[Conversation]) -> List[Dict[str, object]]:
    """Per conversation: answered messages missing from the tracker (lost), stored more often than
    answered (duplicated), stored though never answered (the client gave up on it), and whether the
    stored messages keep the order they were answered in."""
    rows = []
    for conversation in conversations:
        if not conversation.sent:
            continue
        stored = stored_user_texts(stack, conversation.sender)
        counts = collections.Counter(stored)
        answered = collections.Counter(conversation.answered)
        lost = sum(max(answered[text] - counts[text], 0) for text in answered)
        duplicated = sum(max(counts[text] - answered[text], 0) for text in counts if answered[text])
        unanswered_stored = sum(counts[text] for text in counts if not answered[text])
        first_seen = list(dict.fromkeys(stored))
        rows.append({"sender": conversation.sender, "language": conversation.language,
                     "sent": len(conversation.sent), "answered": len(conversation.answered),
                     "stored": len(stored), "lost": lost, "duplicated": duplicated,
                     "stored_unanswered": unanswered_stored, "gave_up": conversation.gave_up,
                     "in_order": [t for t in first_seen if answered[t]] == conversation.answered})
    return rows


def summarise(soak: Soak, rows: List[Dict[str, object]], duration: float) -> Dict[str, object]:
    attempts = soak.attempts
    outcomes = collections.Counter(a.outcome for a in attempts)
    latencies = sorted(a.latency for a in attempts if a.outcome == ANSWERED) or [0.0]
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    processes = {}
    for program in dict.fromkeys(k.program for k in soak.kills):
        kills = [k for k in soak.kills if k.program == program]
        times = [k.recovery_s for k in kills if k.recovery_s is not None]
        processes[program] = {
            "kills": len(kills),
            "mean_recovery_s": statistics.mean(times) if times else None,
            "max_recovery_s": max(times) if times else None,
            "status_at_end": soak.status_at_end.get(program, ""),
            "restarted": all(k.recovery_s is not None and k.new_pid not in (0, k.old_pid)
                             and k.status.startswith("RUNNING") for k in kills)
            and soak.status_at_end.get(program, "").startswith("RUNNING"),
        }
    failed_after = collections.Counter(a.last_kill for a in attempts if a.outcome != ANSWERED)
    return {
        "duration_s": duration,
        "conversations": len(rows),
        "turns_answered": outcomes[ANSWERED],
        "attempts": len(attempts),
        "attempts_failed": {o: n for o, n in sorted(outcomes.items()) if o not in (ANSWERED, TRY_AGAIN)},
        "try_again_answers": outcomes[TRY_AGAIN],
        "api_unavailable_answers": sum(a.api_unavailable for a in attempts),
        "wrong_language_answers": sum(a.wrong_language for a in attempts),
        "messages_given_up": sum(bool(r["gave_up"]) for r in rows),
        "events_lost": sum(int(r["lost"]) for r in rows),
        "events_duplicated": sum(int(r["duplicated"]) for r in rows),
        "stored_unanswered": sum(int(r["stored_unanswered"]) for r in rows),
        "conversations_out_of_order": sum(not r["in_order"] for r in rows),
        "latency_answered_s": {"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": latencies[-1]},
        # attempts not answered, by the kill before them ("-" before the first)
        "not_answered_after_kill": {("-" if k is None else str(k)): n for k, n in failed_after.items()},
        "processes": processes,
    }


def describe_leftovers(left: Dict[str, List[int]]) -> str:
    return "; ".join(f"port {port}: pid {', '.join(map(str, pids))}" for port, pids in left.items()) or "none"


def render(summary: Dict[str, object], kills: List[Kill]) -> str:
    failed = summary["attempts_failed"]
    latency = summary["latency_answered_s"]
    lines = [
        f"Soak: {MINUTES:g} minutes, {CONVERSATIONS} conversations at once ({PAUSE:g} s pause between turns), "
        f"a process killed (SIGKILL) every {KILL_EVERY:g} s.", "",
        "| measure | value |", "|---|---|",
        f"| duration | {MINUTES:g} min of conversations, {summary['duration_s'] / 60:.1f} min with the wind-down "
        "(turns in flight, recoveries) |",
        f"| conversations | {summary['conversations']} |",
        f"| turns answered | {summary['turns_answered']} (of {summary['attempts']} attempts) |",
        f"| attempts failed, by kind | {', '.join(f'{k} {n}' for k, n in failed.items()) or 'none'} |",
        f"| try-again answers (utter_service_unavailable) | {summary['try_again_answers']} |",
        f"| account-unreachable answers (utter_api_unavailable) | {summary['api_unavailable_answers']} |",
        f"| answers in another language | {summary['wrong_language_answers']} |",
        f"| messages given up after {TRIES} tries | {summary['messages_given_up']} |",
        f"| answered latency p50 / p95 / p99 / max | {latency['p50']:.2f} / {latency['p95']:.2f} / "
        f"{latency['p99']:.2f} / {latency['max']:.2f} s |",
        f"| **events lost** | **{summary['events_lost']}** |",
        f"| **events duplicated** | **{summary['events_duplicated']}** |",
        f"| stored though never answered | {summary['stored_unanswered']} |",
        f"| conversations out of order | {summary['conversations_out_of_order']} |",
        f"| processes left listening after the stop | {describe_leftovers(summary['left_behind_after_stop'])} |",
        f"| load average (1 min) at start / end, {os.cpu_count()} cores | "
        f"{summary['load_average_1min']['start']:.1f} / {summary['load_average_1min']['end']:.1f} |",
        "", "| process | kills | mean recovery s | max recovery s | restarted |", "|---|---|---|---|---|"]
    for program, p in summary["processes"].items():
        seconds = lambda v: "not back" if v is None else f"{v:.1f}"  # noqa: E731
        restarted = "yes" if p["restarted"] else f"**no** (at the end: {p['status_at_end']})"
        lines.append(f"| {program} | {p['kills']} | {seconds(p['mean_recovery_s'])} | "
                     f"{seconds(p['max_recovery_s'])} | {restarted} |")
    by_kill = summary["not_answered_after_kill"]
    lines += ["", "| kill at s | process | pid old -> new | recovery s | supervisorctl 6-30 s after | "
              "still down then | attempts not answered after it (before the next kill) |", "|---|---|---|---|---|---|---|"]
    for i, k in enumerate(kills):
        recovery = "not back" if k.recovery_s is None else f"{k.recovery_s:.1f}"
        lines.append(f"| {k.t:.0f} | {k.program} | {k.old_pid} -> {k.new_pid or '-'} | {recovery} | {k.status} | "
                     f"{', '.join(k.others_down) or '-'} | {by_kill.get(str(i), 0)} |")
    lines.append(f"\nAttempts not answered before the first kill: {by_kill.get('-', 0)}.")
    return "\n".join(lines) + "\n"


def plot(attempts: List[Attempt], kills: List[Kill], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(14, 5))
    styles = {ANSWERED: ("#1c5fc4", "answered", 4), TRY_AGAIN: ("#e08a00", "try again", 12)}
    for outcome in sorted({a.outcome for a in attempts}, key=lambda o: (o != ANSWERED, o)):
        colour, label, size = styles.get(outcome, ("#c4161c", outcome, 14))
        chosen = [a for a in attempts if a.outcome == outcome]
        ax.scatter([a.t for a in chosen], [max(a.latency, 1e-3) for a in chosen], s=size, c=colour, label=label,
                   alpha=0.6 if outcome == ANSWERED else 0.9, marker="." if outcome == ANSWERED else "x")
    ax.set_yscale("log")
    ax.set_ylim(top=max([a.latency for a in attempts] + [1.0]) * 40)  # room above the points for the labels
    for k in kills:
        ax.axvline(k.t, color="#555555", linestyle="--", linewidth=0.8)
        ax.text(k.t, 0.99, f"{k.program} ", rotation=90, va="top", ha="right", fontsize=8, color="#333333",
                transform=ax.get_xaxis_transform())
    ax.set_xlabel("seconds since the start")
    ax.set_ylabel("latency of the attempt (s, log)")
    ax.set_title("Soak: every REST attempt's latency; dashed lines are SIGKILLs of the named process")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    state = OUT / "state"
    shutil.rmtree(state, ignore_errors=True)
    pg_data = tempfile.mkdtemp(prefix="cps-soak-pg-")  # reachable by the postgres user
    started_utc = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    stack = Stack(state, env={"RASA_INSTANCES": "2", "ACTION_SERVERS": "2", "PG_DATA": pg_data}, fault_proxy=False)
    ports: List[int] = []
    try:
        log("starting the scaled stack (2 Rasa instances, 2 action servers, nginx, PostgreSQL, Redis, CPS API)")
        stack.start(timeout=600)
        ports = stack_ports(stack, Supervised(stack))
        load_before = os.getloadavg()
        log(f"running {CONVERSATIONS} conversations for {MINUTES:g} minutes, a kill every {KILL_EVERY:g}s "
            f"(load average {load_before[0]:.1f})")
        soak = Soak(stack)
        soak.run()
        duration = soak.now()
        log("comparing every conversation with its tracker")
        rows = integrity(stack, soak.conversations)
    finally:
        log("stopping the stack")
        stack.stop()
        left_behind = end_leftovers(ports)
        shutil.rmtree(pg_data, ignore_errors=True)

    summary = summarise(soak, rows, duration)
    summary["left_behind_after_stop"] = left_behind
    summary["load_average_1min"] = {"start": load_before[0], "end": os.getloadavg()[0]}
    (OUT / "results.json").write_text(json.dumps({
        "settings": {"minutes": MINUTES, "kill_every_s": KILL_EVERY, "conversations_at_once": CONVERSATIONS,
                     "pause_s": PAUSE, "turn_timeout_s": TURN_TIMEOUT, "tries": TRIES, "cores": os.cpu_count(),
                     "started_utc": started_utc},
        "summary": summary, "kills": [asdict(k) for k in soak.kills],
        "conversations": rows, "attempts": [asdict(a) for a in soak.attempts]}, indent=1))
    plot(soak.attempts, soak.kills, OUT / "latency.png")
    markdown = render(summary, soak.kills)
    (OUT / "results.md").write_text(markdown)
    print(markdown)
    log(f"written: {OUT / 'results.md'}, {OUT / 'results.json'}, {OUT / 'latency.png'}; logs: {state / 'logs'}")
    faults = []
    if summary["events_lost"] or summary["events_duplicated"]:
        faults.append(f"{summary['events_lost']} events lost, {summary['events_duplicated']} duplicated")
    if summary["conversations_out_of_order"]:
        faults.append(f"{summary['conversations_out_of_order']} conversations out of order")
    not_back = [name for name, p in summary["processes"].items() if not p["restarted"]]
    if not_back:
        faults.append(f"not back (or not restarted by supervisord): {', '.join(not_back)}")
    if left_behind:
        faults.append(f"processes left listening after the stop on ports {', '.join(left_behind)}")
    if faults:
        log("FAILED: " + "; ".join(faults))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
