"""A job: one command from one person, from the moment it is accepted until it ends.

The web process writes the record (atomically with the enqueue); workers read it by id. ``text`` is what
was typed (for messages and the audit log); ``command`` is what intake parsed from it, as JSON
(bot.command_codec): the worker runs that and never parses the text again. ``decision``
(bot.decision.Decision as JSON) is what intake decided about exactly that command: the worker runs nothing
else, on no other cluster, and checks the decision again against the policy it has now.

``kind`` says what the job does: ``command`` (a /flux command from Slack or a PR comment), ``push``
(trace a pushed commit to every cluster that tracks it), ``plan`` (comment the config-as-code plan on a
pull request, or release its cluster locks when it closes) or ``apply`` (apply a pull request's plan, by
`/flux apply` or on merge). ``event`` is the bot.gitevents event that started it, as JSON.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from enum import IntEnum

#: the platform of jobs the beat task starts (scheduled rotations): no person asked, so none is authorized
SCHEDULE = "schedule"
#: who a scheduled job is from (audit log, messages): beat's rotations of old deploy keys
SCHEDULER = "fluxops-scheduler"
#: the job-store key (bot.ports.JobStore) under which the approve script keeps an approver's Slack groups
APPROVER_GROUPS = "approver-groups:"


class Confirmation(IntEnum):
    """What a Confirm press (or `/flux confirm`) did to a staged job; true only when it was enqueued."""

    CONFIRMED = 1
    NOT_WAITING = 0  # pressed twice, canceled, unknown
    OTHER_COMMAND = -1  # the press named another command than the staged one
    NEEDS_APPROVALS = -2  # the policy wants approvals from others first (or they expired)

    def __bool__(self) -> bool:
        return self is Confirmation.CONFIRMED


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    text: str  # the /flux arguments as typed (never contains a secret: the grammar accepts none)
    platform: str  # "slack", "github" or "azure-devops"
    actor: str  # the platform's user id (Slack user id, GitHub login, Azure DevOps unique name)
    channel: str = ""  # where the job's message goes: a Slack channel, or "owner/repo#12" for a PR
    team: str = ""
    response_url: str = ""  # Slack's per-command reply URL (ephemeral replies)
    created_at: float = 0.0
    confirmed_by: str = ""  # who pressed Confirm (destructive commands)
    kind: str = "command"  # "command" | "push" | "plan" | "apply"
    event: str = ""  # the bot.gitevents event (JSON) of a job a Git host started
    decision: str = ""  # the bot.decision.Decision (JSON) intake made about ``text``
    approved_by: str = ""  # who approved a staged job, comma-separated (the approve script keeps it)
    #: the parsed command (bot.command_codec JSON): a Command, or for a PR comment the Reply to post
    command: str = ""
    #: the W3C traceparent of the web request that enqueued it, when tracing is on (telemetry/tracing.py)
    traceparent: str = ""

    @property
    def origin(self) -> str:
        return f"{self.platform}:{self.channel}" if self.channel else self.platform

    @property
    def actor_id(self) -> str:
        return f"{self.platform}:{self.actor}"

    def to_mapping(self) -> dict[str, str]:
        """The record as the job hash's fields; empty ones are left out (``from_mapping`` gives them back as
        their defaults), so intake sends Redis only what the job has."""
        values = ((name, required, getattr(self, name)) for name, required in _RECORD_FIELDS)
        return {name: str(value) for name, required, value in values if value != "" or required}

    @classmethod
    def from_mapping(cls, data: dict[str, str]) -> JobRecord:
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        for key, value in data.items():
            if key not in known:
                continue
            values[key] = float(value) if key == "created_at" else value
        return cls(**values)  # type: ignore[arg-type]


#: each field's name and whether it has no default (read once: intake writes a record per delivery)
_RECORD_FIELDS = tuple((f.name, f.default is MISSING) for f in fields(JobRecord))
