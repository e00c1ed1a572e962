"""A write ARM accepted that the job does not follow (az's ``--no-wait``), and what the job says of it.

``bot.usecases.no_wait`` decides when a job does not wait; ``Job`` reads these two to do it: an ``Accepted``
operation is not waited for, and a job with a ``NoWait`` ends saying where to follow the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from bot import errors


@dataclass(frozen=True)
class NoWait:
    """The job returns once ARM accepted its write; ``follow`` is the command that shows where it got to."""

    follow: str

    @property
    def note(self) -> str:
        """What the job's message says when it ends."""
        return f"accepted by Azure; not waiting for it: see `{self.follow}`"


@dataclass(frozen=True)
class Accepted:
    """A bot.ports.LongRunning for a write ARM accepted and nobody follows: nothing to poll, nothing to resume (a
    new run of the job submits again: the same PUT, PATCH or DELETE, which ARM takes as the same change)."""

    token: str = ""

    def done(self) -> bool:
        return True

    def result(self, timeout: float | None = None) -> NoReturn:
        # Job.wait returns at once for an Accepted write: a caller asking its result wants to follow it
        raise errors.InvalidRequest(
            "this change was submitted with --no-wait, so fluxops does not follow it",
            recommendation="run the command again without `--no-wait` to follow it to the end",
        )


ACCEPTED = Accepted()
