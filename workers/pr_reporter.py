"""A job's messages on a pull request: one reply comment, edited in place as the job moves.

GitHub: a comment on the pull request's conversation; Azure DevOps: a reply in the thread of the
comment that asked. The comment's id is kept in the job store, so a job picked up again by another
worker edits the same comment. Pull requests have no private messages: errors and refusals go into
that same comment (they never contain secrets: the renderer masks them).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from bot.git_host import CommentRef
from bot.gitevents import RepoRef
from bot.jobs import JobRecord
from bot.ports import JobStore, PullRequests, Reporter
from bot.render.markdown import render_markdown
from bot.views import ConfirmView, FleetRunView, JobView, PushView, TextView

COMMENT_KEY = "pr_comment"
FINGERPRINT_KEY = "pr_fingerprint"


class PullRequestReporter:
    """bot.ports.Reporter for a job started from (or reporting to) a pull request."""

    def __init__(
        self,
        *,
        host: PullRequests,
        jobs: JobStore,
        record: JobRecord,
        repo: RepoRef,
        number: int,
        reply_to: CommentRef | None = None,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._host = host
        self._jobs = jobs
        self._record = record
        self._repo = repo
        self._number = number
        self._reply_to = reply_to
        self._min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._last_sent = -1e9

    def show(self, view: JobView | ConfirmView | PushView | FleetRunView) -> None:
        self._publish(render_markdown(view))

    def private(self, view: TextView | JobView) -> None:
        self._publish(render_markdown(view))

    def _publish(self, body: str) -> None:
        job_id = self._record.job_id
        fingerprint = hashlib.sha256(body.encode()).hexdigest()
        if self._jobs.get(job_id, FINGERPRINT_KEY) == fingerprint:
            return
        wait = self._min_interval - (self._clock() - self._last_sent)
        if wait > 0:
            self._sleep(wait)
        saved = self._jobs.get(job_id, COMMENT_KEY)
        if saved:
            ref = CommentRef(**json.loads(saved))
            self._host.edit_comment(self._repo, self._number, ref, body)
        else:
            ref = self._host.comment(self._repo, self._number, body, reply_to=self._reply_to)
            self._jobs.put(job_id, COMMENT_KEY, json.dumps({"id": ref.id, "thread_id": ref.thread_id}))
        self._last_sent = self._clock()
        self._jobs.put(job_id, FINGERPRINT_KEY, fingerprint)


class SilentReporter:
    """For jobs whose output goes elsewhere (a push trace posts to channels and commit statuses)."""

    def show(self, view: JobView | ConfirmView | PushView | FleetRunView) -> None:
        return None

    def private(self, view: TextView | JobView) -> None:
        return None


class PublicOnlyReporter:
    """For jobs nobody typed (scheduled key rotations): their message goes to the channel; there is no
    person to tell privately, so private copies are dropped (the channel message says the same)."""

    def __init__(self, inner: Reporter) -> None:
        self._inner = inner

    def show(self, view: JobView | ConfirmView | PushView | FleetRunView) -> None:
        self._inner.show(view)

    def private(self, view: TextView | JobView) -> None:
        return None
