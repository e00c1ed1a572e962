"""Typed commands: what `/flux ...` means once the grammar has parsed it.

Every command is a frozen dataclass. The job layer re-parses the stored text to get it back, so a
command never has to be serialized. Class attributes say how a command is treated:

- ``role``: the least role (see ``bot.policy``) allowed to run it on its cluster;
- ``mutates``: it changes something in Azure (audited, locked per (cluster, lock_name));
- ``destructive``: it asks for a Confirm button press before it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from bot.models import (
    ClusterType,
    ExtensionPatch,
    ExtensionSpec,
    FluxConfigPatch,
    FluxConfigSpec,
    Kustomization,
    KustomizationChange,
)


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return (Role.VIEWER, Role.OPERATOR, Role.ADMIN).index(self)


@dataclass(frozen=True)
class ClusterTarget:
    """A cluster as the user named it: an inventory alias, a cluster name or a full ARM id.

    ``resource_group`` and ``cluster_type`` disambiguate, as ``-g`` and ``-t`` do in az.
    """

    cluster: str
    resource_group: str | None = None
    cluster_type: ClusterType | None = None

    def __str__(self) -> str:
        return self.cluster


@dataclass(frozen=True)
class CredentialRefs:
    """Names of credentials fluxops holds (never the secrets themselves: those are not typed into chat)."""

    https_key: str | None = None
    ssh_private_key: str | None = None
    known_hosts: str | None = None
    secret_key: str | None = None  # bucket: the secret half of --access-key
    account_key: str | None = None  # azure blob: storage account key
    sas_token: str | None = None  # azure blob: SAS token

    def is_empty(self) -> bool:
        return all(
            ref is None
            for ref in (
                self.https_key,
                self.ssh_private_key,
                self.known_hosts,
                self.secret_key,
                self.account_key,
                self.sas_token,
            )
        )


@dataclass(frozen=True)
class BaseCommand:
    role: ClassVar[Role] = Role.VIEWER
    mutates: ClassVar[bool] = False
    destructive: ClassVar[bool] = False
    #: the words that name the command in help and audit ("config create")
    verb: ClassVar[str] = ""

    @property
    def cluster_target(self) -> ClusterTarget | None:
        target = getattr(self, "target", None)
        return target if isinstance(target, ClusterTarget) else None

    @property
    def lock_name(self) -> str | None:
        """What a mutation locks on its cluster: the configuration name, or "extension"."""
        return None


@dataclass(frozen=True)
class Help(BaseCommand):
    topic: str | None = None
    verb: ClassVar[str] = "help"


@dataclass(frozen=True)
class ListClusters(BaseCommand):
    selector: tuple[tuple[str, str], ...] = ()
    verb: ClassVar[str] = "clusters"


@dataclass(frozen=True)
class ConfigCreate(BaseCommand):
    target: ClusterTarget
    spec: FluxConfigSpec
    credentials: CredentialRefs = CredentialRefs()
    #: install microsoft.flux first when the cluster has none (az does); --no-extension turns it off
    install_extension: bool = True
    #: --deploy-key generate (keys are generated and registered by the deploy-key issue)
    generate_deploy_key: bool = False
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "config create"

    @property
    def lock_name(self) -> str | None:
        return self.spec.name


@dataclass(frozen=True)
class ConfigUpdate(BaseCommand):
    target: ClusterTarget
    name: str
    patch: FluxConfigPatch
    credentials: CredentialRefs = CredentialRefs()
    #: --deploy-key generate with -u: a key for the new repository (the old key does not follow the URL)
    generate_deploy_key: bool = False
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "config update"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class ConfigDelete(BaseCommand):
    target: ClusterTarget
    name: str
    force: bool = False
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "config delete"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class ConfigShow(BaseCommand):
    target: ClusterTarget
    name: str
    verb: ClassVar[str] = "config show"


@dataclass(frozen=True)
class ConfigList(BaseCommand):
    target: ClusterTarget
    verb: ClassVar[str] = "config list"


@dataclass(frozen=True)
class Status(BaseCommand):
    """`status NAME` is one configuration; `status` alone is every configuration on the cluster."""

    target: ClusterTarget
    name: str | None = None
    verb: ClassVar[str] = "status"


@dataclass(frozen=True)
class Suspend(BaseCommand):
    target: ClusterTarget
    name: str
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "suspend"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class Resume(BaseCommand):
    target: ClusterTarget
    name: str
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "resume"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class KustomizationCreate(BaseCommand):
    target: ClusterTarget
    config: str
    kustomization: Kustomization
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "kustomization create"

    @property
    def lock_name(self) -> str | None:
        return self.config


@dataclass(frozen=True)
class KustomizationUpdate(BaseCommand):
    target: ClusterTarget
    config: str
    change: KustomizationChange
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "kustomization update"

    @property
    def lock_name(self) -> str | None:
        return self.config


@dataclass(frozen=True)
class KustomizationDelete(BaseCommand):
    target: ClusterTarget
    config: str
    name: str
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "kustomization delete"

    @property
    def lock_name(self) -> str | None:
        return self.config


@dataclass(frozen=True)
class KustomizationList(BaseCommand):
    target: ClusterTarget
    config: str
    verb: ClassVar[str] = "kustomization list"


@dataclass(frozen=True)
class KustomizationShow(BaseCommand):
    target: ClusterTarget
    config: str
    name: str
    verb: ClassVar[str] = "kustomization show"


@dataclass(frozen=True)
class ExtensionCreate(BaseCommand):
    target: ClusterTarget
    spec: ExtensionSpec
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "extension create"

    @property
    def lock_name(self) -> str | None:
        return "extension"


@dataclass(frozen=True)
class ExtensionUpdate(BaseCommand):
    target: ClusterTarget
    patch: ExtensionPatch
    name: str = "flux"
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "extension update"

    @property
    def lock_name(self) -> str | None:
        return "extension"


@dataclass(frozen=True)
class ExtensionDelete(BaseCommand):
    target: ClusterTarget
    name: str = "flux"
    force: bool = False
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "extension delete"

    @property
    def lock_name(self) -> str | None:
        return "extension"


@dataclass(frozen=True)
class ExtensionShow(BaseCommand):
    target: ClusterTarget
    name: str = "flux"
    verb: ClassVar[str] = "extension show"


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


Command = (
    Help
    | ListClusters
    | ConfigCreate
    | ConfigUpdate
    | ConfigDelete
    | ConfigShow
    | ConfigList
    | Status
    | Suspend
    | Resume
    | KustomizationCreate
    | KustomizationUpdate
    | KustomizationDelete
    | KustomizationList
    | KustomizationShow
    | ExtensionCreate
    | ExtensionUpdate
    | ExtensionDelete
    | ExtensionShow
    | Audit
    | Watch
    | Unwatch
    | WatchList
    | PlanFleet
    | ApplyFleet
    | ConfirmJob
    | ApproveJob
    | CancelJob
    | KeyRotate
    | KeyStatus
    | Unlock
)


@dataclass(frozen=True)
class Run:
    """The text is a command to run (after authorization)."""

    command: Command


@dataclass(frozen=True)
class Reply:
    """Answer now without running anything: help, or a usage error that says what to type instead."""

    text: str
    error: bool = False


@dataclass(frozen=True)
class Ignore:
    """Not addressed to fluxops (a PR comment that does not start with /flux)."""


ParseResult = Run | Reply | Ignore
