"""What reading the fleet files gives: the declared clusters (``FleetSpec``), or every problem (``FleetError``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from bot.commands import CredentialRefs
from bot.errors import ConfigurationError
from bot.models import ExtensionSpec, FluxConfigSpec

EXAMPLE_FILE = "deploy/fleet.example.yaml"
#: at most this many problems are listed in one error
MAX_PROBLEMS = 25

_FIX = f"fix the fleet files and push again (README 'Config-as-code'; {EXAMPLE_FILE} is a complete example)"


@dataclass(frozen=True)
class DesiredExtension:
    """The extension as declared; None fields are not managed here. A setting whose value is None is removed."""

    auto_upgrade_minor_version: bool | None = None
    release_train: str | None = None  # "Stable" | "Preview"
    version: str | None = None
    settings: tuple[tuple[str, str | None], ...] = ()

    def install_spec(self) -> ExtensionSpec:
        """What to install when the cluster has no extension (az's defaults for what is not declared)."""
        auto = self.auto_upgrade_minor_version
        return ExtensionSpec(
            auto_upgrade_minor_version=(self.version is None) if auto is None else auto,
            release_train=self.release_train or "Stable",
            version=self.version,
            settings=tuple((k, v) for k, v in self.settings if v is not None),
        )


@dataclass(frozen=True)
class DesiredCluster:
    """One declared cluster: ``key`` as written (alias, name or ARM id) and where it was declared."""

    key: str
    extension: DesiredExtension | None = None
    configurations: tuple[FluxConfigSpec, ...] = ()
    #: (configuration name, the credential names it uses), for configurations that name any
    credentials: tuple[tuple[str, CredentialRefs], ...] = ()
    origin: str = ""  # "file:line"
    #: the selector documents ("file:line") that gave this cluster configurations or its extension
    selected_by: tuple[str, ...] = ()
    #: (configuration, "file:line") for configurations declared elsewhere than ``origin`` (by a selector)
    config_origins: tuple[tuple[str, str], ...] = ()

    def origin_of(self, name: str) -> str:
        """Where configuration ``name`` was declared ("file:line")."""
        return next((where for config, where in self.config_origins if config == name), self.origin)

    def credentials_for(self, name: str) -> CredentialRefs:
        return next((refs for config, refs in self.credentials if config == name), CredentialRefs())

    def configuration(self, name: str) -> FluxConfigSpec | None:
        return next((c for c in self.configurations if c.name == name), None)


#: a selector: (key, value) pairs every cluster must match; () is ``selector: all``
Selector = tuple[tuple[str, str], ...]


def selector_text(selector: Selector) -> str:
    """``env=prod, region=weu``, or ``all``."""
    return ", ".join(f"{key}={value}" for key, value in selector) if selector else "all"


@dataclass(frozen=True)
class FleetSelection:
    """A selector document as read: what it gives each cluster it selects, before the inventory is known.

    ``template`` is built (and checked) from the document with its ``${...}`` variables left in; ``lines``
    maps key paths in the document (``configurations.apps.kustomizations.web.path``) to their lines.
    """

    file: str
    line: int
    selector: Selector
    template: DesiredCluster
    lines: tuple[tuple[str, int], ...] = ()

    @property
    def origin(self) -> str:
        return f"{self.file}:{self.line}"

    def line_of(self, key: str) -> int:
        """The line of ``key`` (a dotted key path), else that of ``selector:``."""
        return next((line for path, line in self.lines if path == key), self.line)


@dataclass(frozen=True)
class SelectorMatch:
    """What a selector document expanded to: the clusters it selected, as (label, ARM id), by label."""

    origin: str
    selector: Selector
    clusters: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        return selector_text(self.selector)


def _by_place(match: SelectorMatch) -> tuple[str, int]:
    file, _, line = match.origin.rpartition(":")
    return file, int(line) if line.isdigit() else 0


class FleetSpec(Mapping[str, DesiredCluster]):
    """Every declared cluster by its key, in a stable order (case-insensitive by key).

    ``selections`` are the selector documents not expanded yet (``bot.fleet.selection.expand_fleet`` turns
    them into clusters against the inventory); ``matches`` says what the expanded ones selected.
    """

    def __init__(
        self,
        clusters: Iterable[DesiredCluster] = (),
        *,
        selections: Iterable[FleetSelection] = (),
        matches: Iterable[SelectorMatch] = (),
    ) -> None:
        ordered = sorted(clusters, key=lambda c: (c.key.casefold(), c.key))
        self._clusters: dict[str, DesiredCluster] = {c.key: c for c in ordered}
        self.selections = tuple(sorted(selections, key=lambda s: (s.file, s.line)))
        self.matches = tuple(sorted(matches, key=_by_place))

    def __getitem__(self, key: str) -> DesiredCluster:
        return self._clusters[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._clusters)

    def __len__(self) -> int:
        return len(self._clusters)

    def __repr__(self) -> str:
        selections = f", selections={[s.origin for s in self.selections]!r}" if self.selections else ""
        return f"FleetSpec({list(self._clusters)!r}{selections})"


@dataclass(frozen=True)
class FleetProblem:
    """One thing wrong in a fleet file: where (file, line, key path) and what."""

    file: str
    line: int
    key: str
    text: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.text}" if self.key else f"{where}: {self.text}"


class FleetError(ConfigurationError):
    """The fleet files cannot be read; ``problems`` lists each one (the message lists them too)."""

    def __init__(self, problems: Iterable[FleetProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.file, p.line, p.key, p.text)))
        count = len(self.problems)
        shown = [f"- {p}" for p in self.problems[:MAX_PROBLEMS]]
        if count > MAX_PROBLEMS:
            shown.append(f"- and {count - MAX_PROBLEMS} more")
        heading = "the fleet files have a problem" if count == 1 else f"the fleet files have {count} problems"
        super().__init__(heading + ":\n" + "\n".join(shown), recommendation=_FIX)
