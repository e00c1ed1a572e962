"""Use-cases: what a job does, written against bot.ports only (Celery tasks call ``run_job``)."""

from bot.usecases.context import JobPorts, ResolvedCluster, WatchPolicy
from bot.usecases.executor import run_job

__all__ = ["JobPorts", "ResolvedCluster", "WatchPolicy", "run_job"]
