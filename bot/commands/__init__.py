"""Typed commands: what `/flux ...` means once the grammar has parsed it.

Every command is a frozen dataclass; the job record carries it as JSON (bot.command_codec). Class attributes
say how a command is treated:

- ``role``: the least role (see ``bot.policy``) allowed to run it on its cluster;
- ``mutates``: it changes something in Azure (audited, locked per (cluster, lock_name));
- ``destructive``: it asks for a Confirm button press before it runs.

The classes live by subject: ``base`` (what every command shares), ``configs`` (Flux configurations and their
kustomizations), ``deployed_objects`` (the Flux objects a configuration deployed), ``extensions`` (microsoft.flux),
``fleet`` (rollouts to many clusters), ``fluxops`` (help, clusters, audit, watches, fleet files, staged jobs,
deploy keys, locks). Import them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import AzureWrite, BaseCommand, ClusterTarget, CredentialRefs, Role
from bot.commands.configs import (
    ConfigCreate,
    ConfigDelete,
    ConfigList,
    ConfigShow,
    ConfigUpdate,
    KustomizationCreate,
    KustomizationDelete,
    KustomizationList,
    KustomizationShow,
    KustomizationUpdate,
    Resume,
    Status,
    Suspend,
)
from bot.commands.deployed_objects import DeployedObjectList, DeployedObjectShow
from bot.commands.doctor import Doctor, DoctorFleet, V1List, V1Migrate
from bot.commands.events import Events
from bot.commands.extensions import ExtensionCreate, ExtensionDelete, ExtensionList, ExtensionShow, ExtensionUpdate
from bot.commands.fleet import (
    FleetApply,
    FleetCancel,
    FleetExtensionUpdate,
    FleetList,
    FleetResume,
    FleetStatus,
    WaveSize,
)
from bot.commands.fluxops import (
    ApplyFleet,
    ApproveJob,
    Audit,
    CancelJob,
    ConfirmJob,
    Help,
    KeyRotate,
    KeyStatus,
    ListClusters,
    PlanFleet,
    Unlock,
    Unwatch,
    UnwatchClusters,
    Watch,
    WatchClusters,
    WatchList,
)
from bot.commands.freezes import ListFreezes
from bot.commands.reconcile import Reconcile

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
    | Reconcile
    | KustomizationCreate
    | KustomizationUpdate
    | KustomizationDelete
    | KustomizationList
    | KustomizationShow
    | ExtensionCreate
    | ExtensionUpdate
    | ExtensionDelete
    | ExtensionShow
    | ExtensionList
    | DeployedObjectList
    | DeployedObjectShow
    | Audit
    | Watch
    | Unwatch
    | WatchList
    | WatchClusters
    | UnwatchClusters
    | PlanFleet
    | ApplyFleet
    | ConfirmJob
    | ApproveJob
    | CancelJob
    | KeyRotate
    | KeyStatus
    | Unlock
    | FleetApply
    | FleetExtensionUpdate
    | FleetStatus
    | FleetList
    | FleetCancel
    | FleetResume
    | Doctor
    | DoctorFleet
    | V1List
    | V1Migrate
    | Events
    | ListFreezes
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

__all__ = [
    "ApplyFleet",
    "ApproveJob",
    "Audit",
    "AzureWrite",
    "BaseCommand",
    "CancelJob",
    "ClusterTarget",
    "Command",
    "ConfigCreate",
    "ConfigDelete",
    "ConfigList",
    "ConfigShow",
    "ConfigUpdate",
    "ConfirmJob",
    "CredentialRefs",
    "DeployedObjectList",
    "DeployedObjectShow",
    "Doctor",
    "DoctorFleet",
    "Events",
    "ExtensionCreate",
    "ExtensionDelete",
    "ExtensionList",
    "ExtensionShow",
    "ExtensionUpdate",
    "FleetApply",
    "FleetCancel",
    "FleetExtensionUpdate",
    "FleetList",
    "FleetResume",
    "FleetStatus",
    "Help",
    "Ignore",
    "KeyRotate",
    "KeyStatus",
    "KustomizationCreate",
    "KustomizationDelete",
    "KustomizationList",
    "KustomizationShow",
    "KustomizationUpdate",
    "ListClusters",
    "ListFreezes",
    "ParseResult",
    "PlanFleet",
    "Reconcile",
    "Reply",
    "Resume",
    "Role",
    "Run",
    "Status",
    "Suspend",
    "Unlock",
    "Unwatch",
    "UnwatchClusters",
    "V1List",
    "V1Migrate",
    "Watch",
    "WatchClusters",
    "WatchList",
    "WaveSize",
]
