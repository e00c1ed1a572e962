"""What a preflight check reports: a problem at a file and line, or a note that a check could not run."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """A finding fails the check; a note is said without failing it (a check that could not run)."""

    ERROR = "error"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Finding:
    """``path:line — message``; ``line`` 0 when the problem has no line (a deleted directory)."""

    path: str
    line: int
    message: str
    check: str
    level: Level = Level.ERROR

    @property
    def where(self) -> str:
        if not self.path:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path

    @property
    def text(self) -> str:
        """One line: ``apps/a.yaml:7 — message``."""
        return f"{self.where} — {self.message}" if self.where else self.message

    def same_problem(self, other: Finding) -> bool:
        """Whether two findings name the same problem, whatever line it moved to (a PR that adds lines above
        a problem the base already had does not cause it)."""
        return (self.check, self.path, self.message) == (other.check, other.path, other.message)


def introduced(head: list[Finding], base: list[Finding]) -> list[Finding]:
    """The findings of the PR's head that the base branch does not already have: what the PR breaks."""
    return sorted(f for f in head if not any(f.same_problem(b) for b in base))
