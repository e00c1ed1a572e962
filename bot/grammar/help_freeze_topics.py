"""Help for change freezes: ``freezes`` and the ``--break-glass`` override (bot.freezes)."""

from __future__ import annotations

from bot.grammar.help_parts import CLUSTER_FLAGS, Topic

FREEZE_TOPICS: dict[str, Topic] = {
    "freezes": Topic(
        usage="/flux freezes [-c CLUSTER | --clusters KEY=VALUE,...]",
        summary="the change freezes and deployment windows on now or coming up",
        description="Lists the freezes (no changes while one is on) and deployment windows (changes only while "
        "one is open) of the policy (FLUXOPS_CONFIG `freezes:` and `windows:`) that are on now or start within "
        "30 days, with their reasons and when they end. A change to a cluster in a freeze, or outside its "
        "windows, is refused with the reason and when it ends; an admin may run it all the same with "
        '`--break-glass "REASON"` on the command (audited, and announced in the policy channel); '
        "destructive commands still ask for "
        "their confirmation. A fleet run pauses (halts) at the next wave once a freeze starts on its clusters; "
        '`/flux fleet resume RUN` carries on after the freeze, or at once with `--break-glass "REASON"`.',
        flags=(
            *CLUSTER_FLAGS,
            ("--clusters KEY=VALUE,...", "the clusters whose tags match (as `/flux clusters --selector`)"),
        ),
        examples=(
            "/flux freezes",
            "/flux freezes -c flux-demo-arc",
            "/flux freezes --clusters env=prod",
            '/flux config update cluster-config -c flux-demo-arc --branch hotfix --break-glass "INC-42 outage fix"',
        ),
    ),
}
