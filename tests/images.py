"""The Dockerfiles (docker/<process>.Dockerfile) and the pinned sets (requirements/<process>.txt) the images come from.

Read by the tests that check them against each other, against compose and
Helm, and by the test that starts each process as its image would.
"""
from __future__ import annotations

import json
import re
from typing import Dict, List, Tuple

from packaging.utils import canonicalize_name

from tests.stack import ROOT

PROCESSES = ("rasa", "actions", "cps_api", "web")


def pinned(process: str) -> Dict[str, str]:
    """requirements/<process>.txt as {canonical name: version}."""
    lines = (ROOT / "requirements" / f"{process}.txt").read_text().splitlines()
    return {canonicalize_name(name): version for name, version in
            (line.split("==") for line in lines if "==" in line and not line.startswith("#"))}


class Dockerfile:
    """The few instructions of docker/<process>.Dockerfile this test needs, continuation lines joined."""

    def __init__(self, process: str) -> None:
        self.path = ROOT / "docker" / f"{process}.Dockerfile"
        text = re.sub(r"\\\n\s*", " ", self.path.read_text())
        self.instructions: List[Tuple[str, str]] = []
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                keyword, _, rest = line.partition(" ")
                self.instructions.append((keyword.upper(), rest.strip()))

    def all(self, keyword: str) -> List[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def final_stage(self) -> List[Tuple[str, str]]:
        starts = [i for i, (kw, _) in enumerate(self.instructions) if kw == "FROM"]
        return self.instructions[starts[-1]:]

    def exec_form(self, keyword: str) -> List[str]:
        found = [rest for kw, rest in self.final_stage() if kw == keyword]
        return json.loads(found[-1]) if found else []

    def env(self) -> Dict[str, str]:
        values: Dict[str, str] = {}
        for kw, rest in self.final_stage():
            if kw == "ENV":
                for name, value in re.findall(r"(\w+)=(\S+)", rest):
                    values[name] = value
        return values

    def copies(self) -> List[Tuple[List[str], str]]:
        """(sources, destination) of each COPY from the build context into the final image."""
        found = []
        for kw, rest in self.final_stage():
            if kw == "COPY" and not rest.startswith("--from"):
                words = rest.split()
                found.append((words[:-1], words[-1]))
        return found

    def widget_copies(self) -> List[Tuple[str, str]]:
        return [tuple(rest.split()[1:]) for kw, rest in self.final_stage()
                if kw == "COPY" and rest.startswith("--from=widget")]
