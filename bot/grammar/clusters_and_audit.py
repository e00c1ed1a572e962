"""``clusters`` and ``audit``: the commands about many clusters rather than one."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.commands import Audit, ListClusters
from bot.grammar.arguments import no_more_words
from bot.grammar.flags import Arity, Flag, read_flags
from bot.usage import UsageError, code, shown
from bot.values import cluster_name, integer, since_seconds

SELECTOR = Flag("selector", ("--selector", "-l"), Arity.PAIRS, metavar="KEY=VALUE,...")
SINCE = Flag("since", ("--since",), metavar="PERIOD")
AUDIT_CLUSTER = Flag("cluster", ("--cluster", "-c", "--cluster-name"), metavar="CLUSTER")
LIMIT = Flag("limit", ("--limit",), metavar="N")

_TAG_KEY = re.compile(r"^[A-Za-z0-9_.\-/]{1,512}$")
AUDIT_LIMIT = 100


def selector(words: Sequence[str], flag: str = "--selector") -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` tags, comma-separated or in several words, as ``flag`` took them (``fleet`` reads
    ``--clusters`` with it)."""
    pairs: dict[str, str] = {}
    for word in words:
        for item in word.split(","):
            if not item:
                continue
            key, sep, value = item.partition("=")
            if not sep or not _TAG_KEY.match(key):
                raise UsageError(
                    f"{code(flag)} takes `KEY=VALUE` tags (e.g. `env=prod,region=weu`), not {shown(item)}."
                )
            if key in pairs and pairs[key] != value:
                raise UsageError(f"{code(flag)} asks for two values of {code(key)}.", hint="A cluster has one.")
            pairs[key] = value
    return tuple(pairs.items())


def clusters(words: Sequence[str]) -> ListClusters:
    options = read_flags(words, (SELECTOR,), command="clusters")
    # `clusters env=prod` reads as `clusters --selector env=prod`
    tagged = [w for w in options.positionals if "=" in w]
    options.positionals[:] = [w for w in options.positionals if "=" not in w]
    no_more_words(options)
    return ListClusters(selector=selector([w for group in options.groups("selector") for w in group] + tagged))


def audit(words: Sequence[str]) -> Audit:
    options = read_flags(words, (SINCE, AUDIT_CLUSTER, LIMIT), command="audit")
    no_more_words(options)
    since = options.value("since")
    cluster = options.value("cluster")
    limit = options.value("limit")
    return Audit(
        since_seconds=since_seconds(since, "`--since`") if since is not None else Audit.since_seconds,
        cluster=cluster_name(cluster, code(options.spelled("cluster"))) if cluster is not None else None,
        limit=integer(limit, "`--limit`", low=1, high=AUDIT_LIMIT) if limit is not None else Audit.limit,
    )
