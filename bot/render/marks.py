"""How a backend shows a ``Mark`` (a state or sign of ``bot.render.document``): one emoji table per platform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.render.document import Mark
from bot.views import Phase, TraceState


@dataclass(frozen=True)
class Emoji:
    """A platform's emoji for every family of marks; an unknown state shows the ``unknown`` sign."""

    phase: Mapping[Phase, str]
    state: Mapping[str, str]
    trace: Mapping[TraceState, str]
    #: audit results ("succeeded", "failed", "refused"); any other result shows ``other_result``
    result: Mapping[str, str]
    other_result: str
    #: ``unknown``, ``warning``, ``failed``, ``focus``, ``note``, ``people``
    sign: Mapping[str, str]

    def of(self, mark: Mark) -> str:
        """The emoji that shows ``mark``."""
        if mark.family == "phase":
            return self.phase[Phase(mark.key)]
        if mark.family == "state":
            return self.state.get(mark.key, self.sign["unknown"])
        if mark.family == "trace":
            return self.trace[TraceState(mark.key)]
        if mark.family == "result":
            return self.result.get(mark.key, self.other_result)
        return self.sign[mark.key]
