"""``plan``, ``apply``, ``confirm``, ``cancel``: the commands of a pull-request comment.

``plan`` and ``apply`` act on the pull request the comment is on (a fleet repository's), so they take
no arguments. ``confirm JOB_ID`` and ``cancel JOB_ID`` answer a destructive command started from a
comment: pull requests have no buttons. Where a command came from is the worker's to check; the grammar
reads the same text the same way wherever it was typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.commands import ApplyFleet, ApproveJob, CancelJob, ClusterTarget, ConfirmJob, PlanFleet, Unlock
from bot.grammar.arguments import no_more_words
from bot.grammar.flags import read_flags
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.usage import UsageError, code, shown
from bot.values import cluster_name

#: how job ids are made (``j-`` and 12 hex digits of a uuid4)
_JOB_ID = re.compile(r"j-[0-9a-f]{12}")
#: how a confirmation names the staged command (bot.decision.short)
_DIGEST = re.compile(r"[0-9a-f]{8}")
_WHOLE_PLAN = {
    "plan": "plans the whole pull request",
    "apply": "applies the pull request's whole plan",
}


def _no_arguments(words: Sequence[str], command: str) -> None:
    # CLUSTER_FLAGS are read only to say why they do not apply here
    options = read_flags(words, CLUSTER_FLAGS, command=command)
    given = [dest for dest in ("cluster", "resource_group", "cluster_type") if options.given(dest)]
    if given:
        raise UsageError(
            f"`{command}` {_WHOLE_PLAN[command]}; it takes no {code(options.spelled(given[0]))}.",
            hint="The fleet repository's files say which clusters it changes.",
            usage=True,
        )
    if options.positionals:
        raise UsageError(
            f"`{command}` takes no arguments, not {shown(options.positionals[0])}.",
            hint=f"Comment just {code('/flux ' + command)} on the pull request; it {_WHOLE_PLAN[command]}.",
            usage=True,
        )


def plan(words: Sequence[str]) -> PlanFleet:
    _no_arguments(words, "plan")
    return PlanFleet()


def apply(words: Sequence[str]) -> ApplyFleet:
    _no_arguments(words, "apply")
    return ApplyFleet()


def job_id_argument(words: Sequence[str], command: str, *, what: str = "JOB_ID", hint: str = "") -> str:
    """The one job id ``words`` hold (``j-`` and 12 hex digits), lowercased; ``what`` is how the usage line names
    it and ``hint`` where to find it (default: the message that asked for confirmation)."""
    options = read_flags(words, (), command=command)
    if not options.positionals:
        raise UsageError(
            f"{what} is missing.",
            hint=hint or "The job id (`j-` and 12 hex digits) is in the message that asked.",
            usage=True,
        )
    if len(options.positionals) > 1:
        raise UsageError(
            f"Unexpected word {shown(options.positionals[1])}.", hint=f"`{command}` takes one job id.", usage=True
        )
    value = options.positionals[0]
    if not _JOB_ID.fullmatch(value.lower()):
        raise UsageError(
            f"`{command}` takes a job id such as `j-0123456789ab` (`j-` and 12 hex digits), not {shown(value)}.",
            hint=hint or "Copy it from the message that asked for confirmation.",
        )
    return value.lower()


def confirm(words: Sequence[str]) -> ConfirmJob:
    """``confirm JOB DIGEST``: the digest (8 hex digits, from the message that asked) names the command."""
    words = list(words)
    named = ""
    if len(words) == 2 and _DIGEST.fullmatch(words[1].lower()):
        named = words.pop().lower()
    return ConfirmJob(job_id=job_id_argument(words, "confirm"), digest=named)


def approve(words: Sequence[str]) -> ApproveJob:
    """``approve JOB DIGEST``: both as the message that asked shows them."""
    words = list(words)
    if len(words) == 2 and _DIGEST.fullmatch(words[1].lower()):
        named = words.pop().lower()
        return ApproveJob(job_id=job_id_argument(words, "approve"), digest=named)
    job_id = job_id_argument(words[:1], "approve") if words else job_id_argument(words, "approve")
    raise UsageError(
        "`approve` takes the job id and the digest of its command, as the message that asked shows them.",
        hint=f"For example `/flux approve {job_id} 1a2b3c4d`.",
        usage=True,
    )


def cancel(words: Sequence[str]) -> CancelJob:
    return CancelJob(job_id=job_id_argument(words, "cancel"))


def unlock(words: Sequence[str]) -> Unlock:
    """``unlock CLUSTER`` or ``unlock -c CLUSTER [-g RG] [-t TYPE]``."""
    options = read_flags(words, CLUSTER_FLAGS, command="unlock")
    if options.given("cluster"):
        target = cluster_target(options)
    elif options.positionals:
        target = ClusterTarget(cluster_name(options.positionals.pop(0), "CLUSTER"))
    else:
        raise UsageError("Which cluster? `/flux unlock CLUSTER`.", hint="`/flux clusters` lists them.", usage=True)
    no_more_words(options)
    return Unlock(target=target)
