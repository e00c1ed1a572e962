"""YAML that does not parse, in the files a configuration applies: Flux stops at the first such file."""

from __future__ import annotations

from collections.abc import Iterable

from bot.preflight.findings import Finding
from bot.preflight.tree import Broken, Tree

CHECK = "yaml"


def broken_yaml(tree: Tree, files: Iterable[str]) -> list[Finding]:
    """One finding per file among ``files`` that does not parse, at the line PyYAML stopped."""
    found = []
    for path in sorted(set(files)):
        parsed = tree.parse(path)
        if isinstance(parsed, Broken):
            found.append(Finding(path, parsed.line, f"YAML does not parse: {parsed.problem}", CHECK))
    return found
