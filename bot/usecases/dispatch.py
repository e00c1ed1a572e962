"""Which use-case runs a job: by its kind, and for commands by where they came from.

- ``push``: trace the pushed commit to every cluster that tracks it (push_trace);
- ``plan`` / ``apply``: config-as-code on a fleet repository's pull request (fleet_jobs);
- ``preflight``: what a pull request on a source repository breaks (preflight);
- ``command`` from a pull-request comment: authorize the commenter, then run it (pr_commands);
- ``command`` from Slack: run it (executor; the web process authorized it);
- ``command`` from the schedule (beat: key rotation by age): run it (executor).
"""

from __future__ import annotations

from bot.gitevents import PushEvent
from bot.jobs import SCHEDULE, JobRecord
from bot.ports import Reporter
from bot.usecases import fleet_jobs, pr_commands
from bot.usecases.context import Job, JobPorts
from bot.usecases.executor import run_job
from bot.usecases.preflight import PREFLIGHT, run_preflight
from bot.usecases.push_trace import trace_push
from bot.views import Phase


def run(record: JobRecord, ports: JobPorts, reporter: Reporter) -> Phase:
    """Run the job to its end (or to where it waits for a confirmation). Returns its phase."""
    saved = ports.jobs.get(record.job_id, "phase")
    if saved is not None and Phase(saved).terminal:
        return Phase(saved)
    if record.kind == "push":
        event = PushEvent.from_json(record.event)
        job = Job(record, ports, reporter, f"push {event.after[:12]} to {event.branch} of {event.repo.full_name}")
        return trace_push(job, event)
    if record.kind in ("plan", "apply"):
        return fleet_jobs.run(record, ports, reporter)
    if record.kind == PREFLIGHT:
        return run_preflight(record, ports)
    if record.platform not in ("slack", SCHEDULE):
        return pr_commands.run(record, ports, reporter)
    return run_job(record, ports, reporter)
