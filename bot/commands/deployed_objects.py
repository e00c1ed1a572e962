"""The Flux objects a configuration deployed, as Azure reports them (``az k8s-configuration flux deployed-object``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import BaseCommand, ClusterTarget


@dataclass(frozen=True)
class DeployedObjectList(BaseCommand):
    """Every object of configuration ``name`` (its ``statuses``): kind, name, namespace, compliance, applied by."""

    target: ClusterTarget
    name: str
    verb: ClassVar[str] = "deployed-object list"


@dataclass(frozen=True)
class DeployedObjectShow(BaseCommand):
    """One object of configuration ``name``, named by kind, name and namespace as az names it (the namespace may
    be left out when only one object of that kind has that name)."""

    target: ClusterTarget
    name: str
    object_name: str
    object_kind: str
    object_namespace: str | None = None
    verb: ClassVar[str] = "deployed-object show"
