"""Renders scripts/supervisord.conf.template for scripts/run.sh.

Reads the programs from stdin, one per line: group, name, log file, stop
signal and command, tab-separated. Writes the [supervisord] part once, a
[group:...] block per group (priority 100, 200, ... in the order the groups
are given, so they start in that order and stop in the reverse one) and a
[program:...] block per program.

    render_supervisord.py TEMPLATE OUT ROOT STATE_DIR LOGS GROUP...
"""
from __future__ import annotations

import string
import sys
from typing import List, Sequence


def block(part: str) -> str:
    """A template block: what follows its marker line, without the template's own ';;;' comments."""
    body = part.split("\n", 1)[1]
    return "".join(line for line in body.splitlines(True) if not line.startswith(";;;"))


def render(template: str, programs: Sequence[List[str]], groups: Sequence[str], **common: str) -> str:
    head, rest = template.split(";;; group:", 1)
    group_block, program_block = (block(part) for part in rest.split(";;; program:", 1))
    text = string.Template(head).substitute(common)
    for priority, group in enumerate(groups, 1):
        names = [name for program_group, name, *_ in programs if program_group == group]
        if names:
            text += string.Template(group_block).substitute(group=group, programs=",".join(names),
                                                            priority=priority * 100)
    for _group, name, log, stop_signal, command in programs:
        text += string.Template(program_block).substitute(common, name=name, log=log, stopsignal=stop_signal,
                                                          command=command) + "\n"
    return text


def main(argv: Sequence[str]) -> None:
    template, out, root, state_dir, logs, *groups = argv
    programs = [line.rstrip("\n").split("\t") for line in sys.stdin if line.strip()]
    unknown = {program[0] for program in programs} - set(groups)
    if unknown:
        raise SystemExit(f"error: programs in groups run.sh does not start: {sorted(unknown)}")
    with open(template, encoding="utf-8") as source:
        text = render(source.read(), programs, groups, root=root, state_dir=state_dir, logs=logs)
    with open(out, "w", encoding="utf-8") as target:
        target.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
