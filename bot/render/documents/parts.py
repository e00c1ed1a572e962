"""Pieces several documents share: names on one line, where a cluster is, a state with its mark."""

from __future__ import annotations

from bot.models import ClusterRef
from bot.render import wording as w
from bot.render.document import Code, Inline, Line, Mark, Strong, Text, strong
from bot.render.wording import one_line
from bot.views import Phase

#: Ours, so one row or value stays readable; what is clipped says how much was left out.
ROW_MESSAGE_CHARS = 500
NAME_CHARS = 200


def name(text: str | None) -> str:
    """A name from a Git host or Azure on one line and at most ``NAME_CHARS`` long (not escaped)."""
    return w.clip(one_line(text or ""), NAME_CHARS)


def row_message(text: str) -> str:
    """A message shown in a row: on one line, full commit ids shortened, clipped to ``ROW_MESSAGE_CHARS``."""
    return w.clip(one_line(w.short_revision(text)), ROW_MESSAGE_CHARS)


def phase_mark(phase: Phase) -> Mark:
    return Mark("phase", phase.value)


def state(value: str) -> Line:
    """A compliance or provisioning state with its mark: ✅ Compliant."""
    return (Mark("state", value), " ", Text(value))


def where(ref: ClusterRef) -> Line:
    """``*flux-demo-arc* (Arc · resource group `flux-demo-rg`)``."""
    return (Strong((Text(ref.name),)), f" ({w.cluster_kind(ref)} · resource group ", Code(ref.resource_group), ")")


def byline(phase: Phase, *rest: Inline) -> Line:
    """``*Succeeded* · …``: the phase in words, then ``rest``."""
    return (strong(w.PHASE_WORDS[phase]), *rest)


def yes(flag: bool) -> str:
    return "true" if flag else "false"
