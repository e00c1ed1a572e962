"""The document of a fleet run (``FleetRunView``): a headline, one line per wave, ARM's throttle and the time left.

A run may span a thousand clusters and fail on many of them, so nothing here grows with the fleet: a wave's line
names at most ``FAILURES_NAMED`` failed clusters (then "and N more"), each reason clipped to ``REASON_CHARS``.
"""

from __future__ import annotations

from bot.render import wording as w
from bot.render.document import (
    Block,
    Byline,
    Code,
    Document,
    Inline,
    Items,
    Line,
    Mark,
    Paragraph,
    Person,
    Problem,
    Rich,
    Status,
    Text,
    strong,
)
from bot.render.documents.parts import byline, name, phase_mark
from bot.render.wording import one_line
from bot.views import ClusterFailure, FleetRunView, Phase, ThrottleInfo, WaveRow, WaveState

#: failed clusters a wave's line names before "and N more"
FAILURES_NAMED = 5
#: a wave this small names its clusters (a canary, a pull request's few clusters)
SMALL_WAVE = 5
#: how much of one failure's reason a wave's line shows
REASON_CHARS = 160
#: how a wave's state is marked: the phase it reads as
WAVE_PHASE = {
    WaveState.WAITING: Phase.QUEUED,
    WaveState.RUNNING: Phase.RUNNING,
    WaveState.DONE: Phase.SUCCEEDED,
    WaveState.HALTED: Phase.HALTED,
    WaveState.CANCELED: Phase.CANCELED,
}
WAVE_WORDS = {
    WaveState.WAITING: "waiting",
    WaveState.RUNNING: "running",
    WaveState.DONE: "done",
    WaveState.HALTED: "halted",
    WaveState.CANCELED: "canceled",
}


def fleet_document(view: FleetRunView) -> Document:
    """The run's one message: phase and progress, what went wrong, each wave, the throttle, the time left."""
    blocks: list[Block] = [
        Byline(byline(view.phase, " · asked by ", Person(view.actor), " · job ", Code(view.run_id))),
        Status(headline(view)),
    ]
    if view.error is not None:
        error = view.error
        mark = Mark("sign", "failed" if view.phase is Phase.FAILED else "warning")
        blocks.append(Problem(mark, error.doing, error.message, error.recommendation, error.code))
    if view.note:
        blocks.append(Paragraph(Rich(view.note, mentions=True), lead=(Mark("sign", "note"), " ")))
    if view.waves:
        blocks.append(Items((strong("Waves"),), tuple(wave_line(wave) for wave in view.waves), "waves"))
    pace = pace_line(view)
    if pace:
        blocks.append(Status(pace))
    phase = w.PHASE_WORDS[view.phase].lower()
    return Document(
        mark=phase_mark(view.phase),
        title=view.title or f"fleet run {view.run_id}",
        blocks=tuple(blocks),
        summary=f"{one_line(view.title)}: {phase} — {count(view.done)}/{count(view.total)} clusters "
        f"(job {view.run_id})",
        job_id=view.run_id,
        # `fleet status` shows the run in its own message: that job ended once it showed it
        metadata=(view.shown_by, Phase.SUCCEEDED.value, True)
        if view.shown_by
        else (view.run_id, view.phase.value, view.phase.terminal),
    )


def count(number: int) -> str:
    """``1,000``."""
    return f"{number:,}"


def headline(view: FleetRunView) -> Line:
    """``*Running* · 42/1,000 clusters done · 12 to create · 30 to update · 958 unchanged``."""
    line: list[Inline] = [
        phase_mark(view.phase),
        " ",
        strong(w.PHASE_WORDS[view.phase]),
        f" · {count(view.done)}/{count(view.total)} clusters done",
    ]
    for number, words in ((view.creates, "to create"), (view.updates, "to update"), (view.unchanged, "unchanged")):
        if number:
            line.append(f" · {count(number)} {words}")
    return tuple(line)


def wave_line(wave: WaveRow) -> Line:
    """``✅ Wave 1 · done · 1/1`` or ``🛑 Wave 2 · halted · 7/10 · 1 in flight · 2 failed: `a` — reason; …``."""
    line: list[Inline] = [
        Mark("phase", WAVE_PHASE[wave.state].value),
        " ",
        strong(f"Wave {wave.number}"),
        f" · {WAVE_WORDS[wave.state]} · {count(wave.done)}/{count(wave.total)}",
    ]
    if 0 < len(wave.clusters) <= SMALL_WAVE:
        line.append(": ")
        for index, cluster in enumerate(wave.clusters):
            line += [", " if index else "", Code(name(cluster))]
    if wave.in_flight:
        line.append(f" · {count(wave.in_flight)} in flight")
    if wave.failed:
        line.append(f" · {count(len(wave.failed))} failed: ")
        line += failures(wave.failed)
    return tuple(line)


def failures(failed: tuple[ClusterFailure, ...]) -> list[Inline]:
    """``a`` — reason; ``b`` — reason; and 3 more (at most ``FAILURES_NAMED`` named)."""
    out: list[Inline] = []
    for index, failure in enumerate(failed[:FAILURES_NAMED]):
        if index:
            out.append("; ")
        out += [Code(name(failure.cluster)), " — ", Text(w.clip(one_line(failure.reason), REASON_CHARS))]
    if len(failed) > FAILURES_NAMED:
        out.append(f"; and {count(len(failed) - FAILURES_NAMED)} more")
    return out


def pace_line(view: FleetRunView) -> Line:
    """ARM's write budget and the time left, while the run goes on (nothing once it ended)."""
    if view.phase.terminal:
        throttled = view.throttle.throttled if view.throttle is not None else 0
        return (Mark("sign", "note"), f" 429s absorbed: {count(throttled)}") if throttled else ()
    parts = throttle_words(view.throttle) if view.throttle is not None else []
    if view.eta_seconds is not None:
        parts.append(eta(view.eta_seconds))
    return (Mark("sign", "note"), " " + " · ".join(parts)) if parts else ()


def throttle_words(throttle: ThrottleInfo) -> list[str]:
    """``ARM writes: 143 left`` or ``throttled: waiting 4 s for ARM``, then ``429s absorbed: 3``."""
    if throttle.shut_seconds > 0:
        words = [f"throttled: waiting {max(1, round(throttle.shut_seconds))} s for ARM"]
    elif throttle.remaining is not None:
        words = [f"ARM writes: {count(throttle.remaining)} left"]
    else:
        words = ["ARM writes: budget not known yet"]
    if throttle.throttled:
        words.append(f"429s absorbed: {count(throttle.throttled)}")
    return words


def eta(seconds: float) -> str:
    """``less than a minute left``, ``about 2 min left``, ``about 1 h 5 min left``."""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, rest = divmod(minutes, 60)
    return f"about {hours} h {rest} min left" if rest else f"about {hours} h left"
