"""Just enough of a Dockerfile reader for the image's tests: instructions, stages, and exec-form arguments."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper-case: FROM, RUN, COPY, ...
    args: str  # the rest of the (joined) line

    def exec_form(self) -> list[str]:
        """The JSON array of CMD / ENTRYPOINT / HEALTHCHECK CMD, or the shell words of the other form."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text[text.index("CMD") + len("CMD") :].strip()
        if text.startswith("["):
            words = json.loads(text)
            assert isinstance(words, list)
            return [str(word) for word in words]
        return shlex.split(text)

    def flags(self) -> dict[str, str]:
        """The ``--name=value`` options before the operands (COPY --from=build, FROM --platform=...)."""
        words = shlex.split(self.args)
        leading = words[: len(words) - len(self.operands())]
        return dict(word[2:].partition("=")[::2] for word in leading)

    def operands(self) -> list[str]:
        """The shell words after the leading options (COPY sources and destination, FROM image and alias)."""
        words = shlex.split(self.args)
        while words and words[0].startswith("--"):
            words.pop(0)
        return words


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass(frozen=True)
class Dockerfile:
    global_args: dict[str, str]  # ARGs before the first FROM, with their defaults
    stages: list[Stage]

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        return cls.parse(path.read_text())

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        global_args: dict[str, str] = {}
        stages: list[Stage] = []
        for instruction in instructions(text):
            if instruction.keyword == "FROM":
                words = instruction.operands()
                name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
                stages.append(Stage(base=words[0], name=name))
            elif not stages:
                assert instruction.keyword == "ARG", f"{instruction.keyword} before the first FROM"
                key, _, default = instruction.args.partition("=")
                global_args[key.strip()] = default.strip().strip('"')
            else:
                stages[-1].instructions.append(instruction)
        return cls(global_args=global_args, stages=stages)

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile: comments and blank lines dropped, backslash continuations joined."""
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            keyword, _, args = joined.partition(" ")
            found.append(Instruction(keyword=keyword.upper(), args=args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return found
