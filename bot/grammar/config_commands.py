"""``config create|update|delete|show|list``, ``status``, ``suspend``, ``resume``: one Flux configuration's commands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import sources
from bot.commands import (
    ConfigCreate,
    ConfigDelete,
    ConfigList,
    ConfigShow,
    ConfigUpdate,
    CredentialRefs,
    Resume,
    Status,
    Suspend,
)
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.flags import Arity, Flag, Options, read_flags
from bot.grammar.kustomizations import BOOLEAN_KEYS, kustomization_changes, kustomizations_for_create
from bot.grammar.sources import SOURCE_FLAGS
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.grammar.write_flags import NO_WAIT, no_wait
from bot.models import FluxConfigPatch, FluxConfigSpec
from bot.usage import UsageError, code
from bot.values import choice, dns_label

NAME = Flag("name", ("--name", "-n"), metavar="NAME")
NAMESPACE = Flag("namespace", ("--namespace", "--ns"), metavar="NAMESPACE")
SCOPE = Flag("scope", ("--scope",), metavar="cluster|namespace")
SUSPEND = Flag("suspend", ("--suspend",), Arity.OPTIONAL_BOOL)
NO_EXTENSION = Flag("no_extension", ("--no-extension",), Arity.SWITCH)
KUSTOMIZATION = Flag(
    "kustomization",
    ("--kustomization", "--kustomizations"),
    Arity.PAIRS,
    metavar="name=NAME KEY=VALUE ...",
    lone_keys=BOOLEAN_KEYS,
)
FORCE = Flag("force", ("--force",), Arity.OPTIONAL_BOOL)
#: az asks "are you sure?" unless --yes; fluxops always asks with a button, so --yes changes nothing
YES = Flag("yes", ("--yes", "-y"), Arity.SWITCH)

#: the flags that describe a configuration (``fleet apply`` reads them too, with ``--clusters`` for ``-c``)
CREATE_FLAGS = (NAME, *CLUSTER_FLAGS, *SOURCE_FLAGS, NAMESPACE, SCOPE, SUSPEND, NO_EXTENSION, KUSTOMIZATION)
#: update reads every create flag, to explain the ones it cannot change
UPDATE_FLAGS = CREATE_FLAGS
_CREATE_ONLY = ("namespace", "scope", "kind")
#: the flags ``config update`` can change: every source flag but the kind, and the kustomizations
#: (namespace, scope and kind shape only a configuration being created; suspend has its own commands)
UPDATABLE = {flag.dest for flag in (NAME, *CLUSTER_FLAGS, *SOURCE_FLAGS)} - set(_CREATE_ONLY) | {"kustomization"}
_SCOPES = {"cluster": "cluster", "namespace": "namespace"}


def config_create(words: Sequence[str]) -> ConfigCreate:
    options = read_flags(words, (*CREATE_FLAGS, NO_WAIT), command="config create")
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    target = cluster_target(options)
    spec, credentials, generate = create_spec(options, name)
    return ConfigCreate(
        target=target,
        spec=spec,
        credentials=credentials,
        install_extension=not options.given("no_extension"),
        generate_deploy_key=generate,
        no_wait=no_wait(options),
    )


def create_spec(options: Options, name: str) -> tuple[FluxConfigSpec, CredentialRefs, bool]:
    """The configuration the create flags describe, the credentials it names, and whether to generate a deploy
    key (``config create``, and ``fleet apply`` where the configuration is missing)."""
    source, credentials, generate = sources.build_source(options)
    namespace = options.value("namespace")
    scope = options.value("scope")
    spec = FluxConfigSpec(
        name=name,
        source=source,
        namespace=dns_label(namespace, code(options.spelled("namespace"))) if namespace is not None else "default",
        scope=choice(scope, "`--scope`", _SCOPES) if scope is not None else "cluster",
        kustomizations=kustomizations_for_create(options.groups("kustomization")),
        suspend=bool(options.switch("suspend")),
    )
    return spec, credentials, generate


def _refuse_fixed(options: Options, name: str) -> None:
    """Flags ``config update`` cannot change, each with what to do instead."""
    for dest in _CREATE_ONLY:
        if options.given(dest):
            raise UsageError(
                f"{code(options.spelled(dest))} can only be set when a configuration is created.",
                hint="To change it, delete the configuration and create it again (`/flux config delete`, then "
                "`/flux config create`).",
            )
    if options.given("suspend"):
        raise UsageError(
            "`config update` does not suspend or resume.",
            hint=f"Use `/flux suspend {name}` or `/flux resume {name}` with the same `-c`.",
        )
    if options.given("deploy_key") and not options.given("url"):
        raise UsageError(
            "`config update` takes `--deploy-key generate` only with a new URL (`-u URL`): it keys that repository.",
            hint="To rotate the key of the same repository use `/flux key rotate NAME -c CLUSTER`; to switch to a "
            "key fluxops holds, use `--ssh-private-key-ref REF`.",
        )
    for flag in CREATE_FLAGS:
        if options.given(flag.dest) and flag.dest not in UPDATABLE | {"deploy_key"}:
            raise UsageError(
                f"`config update` cannot change {code(options.spelled(flag.dest))}.",
                hint="Delete the configuration and create it again to change it.",
            )


def config_update(words: Sequence[str]) -> ConfigUpdate:
    options = read_flags(words, (*UPDATE_FLAGS, NO_WAIT), command="config update")
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    _refuse_fixed(options, name)
    target = cluster_target(options)
    patch, credentials, generate = update_patch(options)
    if patch == FluxConfigPatch() and credentials.is_empty() and not generate:
        raise nothing_to_change()
    return ConfigUpdate(
        target=target,
        name=name,
        patch=patch,
        credentials=credentials,
        generate_deploy_key=generate,
        no_wait=no_wait(options),
    )


def update_patch(options: Options) -> tuple[FluxConfigPatch, CredentialRefs, bool]:
    """What the update flags change (a merge patch), the credentials they name, and whether to generate a
    deploy key (``config update``, and ``fleet apply`` where the configuration exists)."""
    source, credentials, generate = sources.source_changes(options)
    patch = replace(source, kustomizations=kustomization_changes(options.groups("kustomization")))
    return patch, credentials, generate


def nothing_to_change() -> UsageError:
    return UsageError(
        "Nothing to change: give at least one option.",
        hint="For example `--branch main`, `--interval 5m` or `--kustomization name=apps path=./apps`.",
        usage=True,
    )


def _named(words: Sequence[str], command: str, extra: tuple[Flag, ...] = ()) -> tuple[Options, str]:
    options = read_flags(words, (NAME, *CLUSTER_FLAGS, *extra), command=command)
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    return options, name


def config_delete(words: Sequence[str]) -> ConfigDelete:
    options, name = _named(words, "config delete", (FORCE, YES, NO_WAIT))
    return ConfigDelete(
        target=cluster_target(options), name=name, force=bool(options.switch("force")), no_wait=no_wait(options)
    )


def config_show(words: Sequence[str]) -> ConfigShow:
    options, name = _named(words, "config show")
    return ConfigShow(target=cluster_target(options), name=name)


def config_list(words: Sequence[str]) -> ConfigList:
    options = read_flags(words, CLUSTER_FLAGS, command="config list")
    no_more_words(options)
    return ConfigList(target=cluster_target(options))


def status(words: Sequence[str]) -> Status:
    options = read_flags(words, (NAME, *CLUSTER_FLAGS), command="status")
    name = name_argument(options, required=False)
    no_more_words(options)
    return Status(target=cluster_target(options), name=name)


def suspend(words: Sequence[str]) -> Suspend:
    options, name = _named(words, "suspend")
    return Suspend(target=cluster_target(options), name=name)


def resume(words: Sequence[str]) -> Resume:
    options, name = _named(words, "resume")
    return Resume(target=cluster_target(options), name=name)
