"""Commands about fluxops itself: help, clusters, audit, watches, fleet files, staged jobs, deploy keys, locks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import BaseCommand, ClusterTarget, Role


@dataclass(frozen=True)
class Help(BaseCommand):
    topic: str | None = None
    verb: ClassVar[str] = "help"


@dataclass(frozen=True)
class ListClusters(BaseCommand):
    selector: tuple[tuple[str, str], ...] = ()
    verb: ClassVar[str] = "clusters"


@dataclass(frozen=True)
class Audit(BaseCommand):
    since_seconds: int = 7 * 24 * 3600
    cluster: str | None = None
    limit: int = 20
    verb: ClassVar[str] = "audit"


@dataclass(frozen=True)
class Watch(BaseCommand):
    """Post the reconciliation results of configuration ``name`` on a cluster to a Slack channel.

    The channel also gets one message per push traced to the configuration. ``channel`` is a Slack
    channel id (``C0123ABC``); "" means the channel the command came from. It changes nothing in Azure.
    """

    name: str
    target: ClusterTarget
    channel: str = ""
    verb: ClassVar[str] = "watch"


@dataclass(frozen=True)
class Unwatch(BaseCommand):
    """Stop posting configuration ``name``'s results to a channel ("" : the channel the command came from)."""

    name: str
    target: ClusterTarget
    channel: str = ""
    verb: ClassVar[str] = "unwatch"


@dataclass(frozen=True)
class WatchClusters(BaseCommand):
    """Alert a Slack channel about the configurations (every one, or those named ``name``) of every cluster whose
    tags match ``selector`` (`/flux watch --clusters env=prod`): clusters that join the selector later count too.
    ``channel`` "" means the channel the command came from. It changes nothing in Azure."""

    selector: tuple[tuple[str, str], ...]
    name: str | None = None
    channel: str = ""
    verb: ClassVar[str] = "watch"


@dataclass(frozen=True)
class UnwatchClusters(BaseCommand):
    """Remove a selector watch made with ``WatchClusters`` (the same selector and name)."""

    selector: tuple[tuple[str, str], ...]
    name: str | None = None
    channel: str = ""
    verb: ClassVar[str] = "unwatch"


@dataclass(frozen=True)
class WatchList(BaseCommand):
    """The channel subscriptions made with ``watch``: on one cluster, or (``target`` None) everywhere."""

    target: ClusterTarget | None = None
    verb: ClassVar[str] = "watches"


@dataclass(frozen=True)
class PlanFleet(BaseCommand):
    """Recompute the plan of a pull request on a fleet repository and update its plan comment.

    Only meaningful in a pull-request comment; the pull request is where the comment was made.
    """

    verb: ClassVar[str] = "plan"


@dataclass(frozen=True)
class ApplyFleet(BaseCommand):
    """Apply the plan of the pull request this comment is on.

    The parse-level role is operator; the worker checks the role on every cluster of the plan (admin
    where the plan deletes). Not ``destructive``: the pull request's approval is its confirmation.
    """

    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "apply"


@dataclass(frozen=True)
class ConfirmJob(BaseCommand):
    """Confirm the destructive job ``job_id`` staged from a pull-request comment (PRs have no buttons).

    Viewer at parse level: the worker checks that the confirmer may run the staged command.
    """

    job_id: str
    #: the first characters of the staged command's digest, as the confirmation message shows them
    digest: str = ""
    verb: ClassVar[str] = "confirm"


@dataclass(frozen=True)
class ApproveJob(BaseCommand):
    """Approve the destructive job ``job_id`` staged on this pull request (the policy's ``approvals:``);
    ``digest`` names the staged command. Slack has an Approve button instead."""

    job_id: str
    digest: str
    verb: ClassVar[str] = "approve"


@dataclass(frozen=True)
class CancelJob(BaseCommand):
    """Cancel the destructive job ``job_id`` staged from a pull-request comment; it changes nothing."""

    job_id: str
    verb: ClassVar[str] = "cancel"


@dataclass(frozen=True)
class KeyRotate(BaseCommand):
    """Rotate deploy keys with zero downtime (or re-hand a changed HTTPS credential to its configurations).

    Exactly one way of saying what rotates:
    - ``name`` + ``target``: the key configuration ``name`` on that cluster uses;
    - ``repository``: every fluxops key of that repository, replaced by one new key (any URL spelling);
    - ``key_id``: one key by fluxops' id (``dk-0123456789``, as ``/flux key status`` shows it);
    - ``credential``: the credential fluxops holds as ``--https-key-ref REF``: its current value is given
      to every configuration that was created or updated with it (Azure DevOps has no deploy keys).
    """

    name: str | None = None
    target: ClusterTarget | None = None
    repository: str | None = None
    key_id: str | None = None
    credential: str | None = None
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "key rotate"


@dataclass(frozen=True)
class Unlock(BaseCommand):
    """Release the claim a pull request holds on a cluster (admins: a PR that will never merge or close)."""

    target: ClusterTarget
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "unlock"


@dataclass(frozen=True)
class KeyStatus(BaseCommand):
    """List the keys fluxops made: ids, repositories, ages, users and next scheduled rotation.

    ``name`` + ``target``: the key of one configuration; ``target`` alone: keys used on that cluster;
    neither: every key.
    """

    name: str | None = None
    target: ClusterTarget | None = None
    verb: ClassVar[str] = "key status"
