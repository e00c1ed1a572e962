"""``deployed-object list|show NAME -c CLUSTER``: the Flux objects a configuration deployed, as az names them.

``az k8s-configuration flux deployed-object show`` names an object by ``--object-name``, ``--object-namespace``
and ``--object-kind``; fluxops reads the same flags (the namespace may be left out when the name and kind say
which object). The kind is read as ``/flux events --kind`` reads it: any case, plurals and Flux's short names.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import DeployedObjectList, DeployedObjectShow
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.event_commands import flux_kind
from bot.grammar.flags import Flag, read_flags
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.usage import UsageError, code

NAME = Flag("name", ("--name", "-n"), metavar="NAME")
OBJECT_NAME = Flag("object_name", ("--object-name",), metavar="OBJECT")
OBJECT_NAMESPACE = Flag("object_namespace", ("--object-namespace",), metavar="NAMESPACE")
OBJECT_KIND = Flag("object_kind", ("--object-kind",), metavar="KIND")


def deployed_object_list(words: Sequence[str]) -> DeployedObjectList:
    options = read_flags(words, (NAME, *CLUSTER_FLAGS), command="deployed-object list")
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    return DeployedObjectList(target=cluster_target(options), name=name)


def deployed_object_show(words: Sequence[str]) -> DeployedObjectShow:
    flags = (NAME, *CLUSTER_FLAGS, OBJECT_NAME, OBJECT_NAMESPACE, OBJECT_KIND)
    options = read_flags(words, flags, command="deployed-object show")
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    target = cluster_target(options)
    object_name, kind = options.value("object_name"), options.value("object_kind")
    if object_name is None or kind is None:
        missing = [code(flag) for flag, value in (("--object-name", object_name), ("--object-kind", kind)) if not value]
        raise UsageError(
            f"Which object? {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing.",
            hint=f"`/flux deployed-object list {name} -c {target}` lists the objects with their kinds and namespaces.",
            usage=True,
        )
    return DeployedObjectShow(
        target=target,
        name=name,
        object_name=object_name,
        object_kind=flux_kind(kind, code(options.spelled("object_kind"))),
        object_namespace=options.value("object_namespace"),
    )
