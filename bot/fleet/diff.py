"""The plan's content: per cluster, what happens to each Flux configuration, kustomization and the extension,
field by field, with typed before/after values (``FieldDiff``), and what to call to do it (specs and patches)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.commands import CredentialRefs
from bot.models import ClusterRef, ExtensionPatch, ExtensionSpec, FluxConfigPatch, FluxConfigSpec, RepositoryRef


class Action(StrEnum):
    CREATE = "create"
    INSTALL = "install"  # the extension
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


#: a field's value as the models hold it: text, a switch, a duration in seconds (the only numbers a plan has),
#: a Git reference, names (``dependsOn``) or name/value pairs (``substitute``); None: not set
Value = str | bool | int | RepositoryRef | tuple[str, ...] | tuple[tuple[str, str], ...] | None


@dataclass(frozen=True)
class FieldDiff:
    """One field: its path as the fleet file spells it, before and after as model values (None: not set).

    How a value is shown (``10m``, ``branch main``, ``[infra]``) is the renderer's business
    (``bot.render.plan_markdown``).
    """

    path: str
    old: Value
    new: Value


@dataclass(frozen=True)
class KustomizationDiff:
    action: Action
    name: str
    fields: tuple[FieldDiff, ...] = ()
    blocked: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigChange:
    """One Flux configuration: what happens to it, field by field, and what to call.

    ``spec`` and ``credentials`` are set for a create, ``patch`` (only the changed fields) for an update.
    """

    action: Action
    name: str
    fields: tuple[FieldDiff, ...] = ()
    kustomizations: tuple[KustomizationDiff, ...] = ()
    blocked: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    spec: FluxConfigSpec | None = None
    credentials: CredentialRefs = field(default_factory=CredentialRefs)
    patch: FluxConfigPatch | None = None

    @property
    def all_blocked(self) -> tuple[str, ...]:
        """Its own blocked reasons and its kustomizations'."""
        return self.blocked + tuple(reason for k in self.kustomizations for reason in k.blocked)


@dataclass(frozen=True)
class ExtensionChange:
    """The microsoft.flux extension: installed (``spec``), updated (``patch``) or unchanged.

    ``implicit``: not declared, but a new configuration needs it. ``unmanaged_settings``: settings on
    the cluster that the fleet files do not mention (left as they are).
    """

    action: Action
    name: str = "flux"
    fields: tuple[FieldDiff, ...] = ()
    implicit: bool = False
    spec: ExtensionSpec | None = None
    patch: ExtensionPatch | None = None
    unmanaged_settings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterPlan:
    """One cluster: ``key`` as the fleet file names it, ``label`` as fluxops shows it (its alias or name)."""

    key: str
    label: str
    cluster: ClusterRef | None = None
    extension: ExtensionChange | None = None
    configs: tuple[ConfigChange, ...] = ()
    #: configurations on the cluster the repository never declared: left alone
    unmanaged: tuple[str, ...] = ()
    #: the cluster cannot be planned (not in the inventory, declared twice, ...): nothing is applied to it
    error: str | None = None
    #: the selector documents ("file:line") that give this cluster configurations or its extension
    selected_by: tuple[str, ...] = ()

    @property
    def changes(self) -> tuple[ConfigChange, ...]:
        return tuple(c for c in self.configs if c.action is not Action.UNCHANGED)

    @property
    def blocked(self) -> tuple[tuple[str, str], ...]:
        """(configuration, reason) of everything that cannot be applied as declared."""
        return tuple((c.name, reason) for c in self.configs for reason in c.all_blocked)

    @property
    def status(self) -> str:
        """error | blocked | change | unchanged."""
        if self.error is not None:
            return "error"
        if self.blocked:
            return "blocked"
        extension_changes = self.extension is not None and self.extension.action is not Action.UNCHANGED
        return "change" if self.changes or extension_changes else "unchanged"
