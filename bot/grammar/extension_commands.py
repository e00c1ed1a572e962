"""``extension create|update|delete|show|list``: the microsoft.flux cluster extension, as ``az k8s-extension``.

``--config KEY=VALUE`` takes known settings only (``flux_settings``); several may follow one ``--config``
and ``--config`` may be repeated. ``--version`` pins a version, which az allows only with
``--auto-upgrade false`` (given ``--version`` alone, auto-upgrade is turned off). ``KEY=`` in update
removes a setting. ``--scope`` and its namespaces (create only) are read by ``extension_scope``; ``list`` names
every extension of the cluster, whatever its type.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import (
    ClusterTarget,
    ExtensionCreate,
    ExtensionDelete,
    ExtensionList,
    ExtensionShow,
    ExtensionUpdate,
)
from bot.flux_settings import check_setting, find_setting
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.extension_scope import SCOPE_FLAGS, extension_scope
from bot.grammar.flags import Arity, Flag, Options, read_flags
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.grammar.write_flags import NO_WAIT, no_wait
from bot.models import ExtensionPatch, ExtensionSpec
from bot.usage import UsageError, code, shown
from bot.values import choice, version

NAME = Flag("name", ("--name", "-n"), metavar="NAME")
VERSION = Flag("version", ("--version",), metavar="VERSION")
AUTO_UPGRADE = Flag(
    "auto_upgrade", ("--auto-upgrade", "--auto-upgrade-minor-version", "--auto-upgrade-minor"), Arity.OPTIONAL_BOOL
)
RELEASE_TRAIN = Flag("release_train", ("--release-train",), metavar="stable|preview")
SETTINGS = Flag(
    "settings", ("--config", "--configuration-settings", "--config-settings"), Arity.PAIRS, metavar="KEY=VALUE"
)
EXTENSION_TYPE = Flag("extension_type", ("--extension-type",), metavar="microsoft.flux")
FORCE = Flag("force", ("--force",), Arity.OPTIONAL_BOOL)
YES = Flag("yes", ("--yes", "-y"), Arity.SWITCH)

#: what an update may change (``fleet extension update`` reads these too)
PATCH_FLAGS = (VERSION, AUTO_UPGRADE, RELEASE_TRAIN, SETTINGS)
_WRITE_FLAGS = (NAME, *CLUSTER_FLAGS, *PATCH_FLAGS, EXTENSION_TYPE)
_TRAINS = {"stable": "Stable", "preview": "Preview"}


def _common(options: Options) -> tuple[ClusterTarget, str]:
    name = name_argument(options, what="The extension name", required=False) or "flux"
    no_more_words(options)
    kind = options.value("extension_type")
    if kind is not None and kind.lower() != "microsoft.flux":
        raise UsageError(
            f"fluxops manages the `microsoft.flux` extension only, not {shown(kind)}.",
            hint="Leave `--extension-type` out.",
        )
    return cluster_target(options), name


def _settings(options: Options, *, removals: bool) -> tuple[tuple[str, str | None], ...]:
    found: dict[str, str | None] = {}
    for group in options.groups("settings"):
        for word in group:
            key, _, value = word.partition("=")
            if value == "":
                if not removals:
                    setting = find_setting(key)
                    raise UsageError(
                        f"{code(setting.key)} has no value.",
                        hint=f"Write {code(f'{setting.key}={setting.example}')}; to remove a setting use "
                        "`/flux extension update ... --config KEY=`.",
                    )
                canonical, normalized = find_setting(key).key, None
            else:
                canonical, normalized = check_setting(key, value)
            if canonical in found:
                raise UsageError(f"{code(canonical)} is set twice.", hint="Give it once.")
            found[canonical] = normalized
    return tuple(found.items())


def _versioning(options: Options) -> tuple[str | None, bool | None]:
    """(version, auto-upgrade) with az's rule: a pinned version means no auto-upgrade."""
    pinned = options.value("version")
    auto = options.switch("auto_upgrade")
    if pinned is None:
        return None, auto
    pinned = version(pinned, "`--version`")
    if auto is True:
        raise UsageError(
            "--version can only be set with --auto-upgrade false.",
            hint=f"Write `--version {pinned} --auto-upgrade false`, or leave `--version` out to follow new versions.",
            usage=True,
        )
    return pinned, False


def _train(options: Options) -> str | None:
    value = options.value("release_train")
    return choice(value, "`--release-train`", _TRAINS, ("stable", "preview")) if value is not None else None


def extension_create(words: Sequence[str]) -> ExtensionCreate:
    options = read_flags(words, (*_WRITE_FLAGS, *SCOPE_FLAGS, NO_WAIT), command="extension create")
    target, name = _common(options)
    scope, namespace = extension_scope(options)
    pinned, auto = _versioning(options)
    settings = tuple((key, value) for key, value in _settings(options, removals=False) if value is not None)
    spec = ExtensionSpec(
        name=name,
        auto_upgrade_minor_version=True if auto is None else auto,
        release_train=_train(options) or "Stable",
        version=pinned,
        settings=settings,
        scope=scope,
        namespace=namespace,
    )
    return ExtensionCreate(target=target, spec=spec, no_wait=no_wait(options))


def extension_update(words: Sequence[str]) -> ExtensionUpdate:
    options = read_flags(words, (*_WRITE_FLAGS, NO_WAIT), command="extension update")
    target, name = _common(options)
    return ExtensionUpdate(target=target, patch=extension_patch(options), name=name, no_wait=no_wait(options))


def extension_patch(options: Options) -> ExtensionPatch:
    """What the update flags change on the extension (``extension update`` and ``fleet extension update``)."""
    pinned, auto = _versioning(options)
    patch = ExtensionPatch(
        auto_upgrade_minor_version=auto,
        release_train=_train(options),
        version=pinned,
        settings=_settings(options, removals=True),
    )
    if patch == ExtensionPatch():
        raise UsageError(
            "Nothing to change: give at least one option.",
            hint="For example `--config helm-controller.detectDrift=true` or `--auto-upgrade true`.",
            usage=True,
        )
    return patch


def extension_delete(words: Sequence[str]) -> ExtensionDelete:
    options = read_flags(words, (NAME, *CLUSTER_FLAGS, EXTENSION_TYPE, FORCE, YES, NO_WAIT), command="extension delete")
    target, name = _common(options)
    return ExtensionDelete(target=target, name=name, force=bool(options.switch("force")), no_wait=no_wait(options))


def extension_show(words: Sequence[str]) -> ExtensionShow:
    options = read_flags(words, (NAME, *CLUSTER_FLAGS, EXTENSION_TYPE), command="extension show")
    target, name = _common(options)
    return ExtensionShow(target=target, name=name)


def extension_list(words: Sequence[str]) -> ExtensionList:
    """Every extension on the cluster (az's ``k8s-extension list``); ``--extension-type`` is not a filter there."""
    options = read_flags(words, CLUSTER_FLAGS, command="extension list")
    no_more_words(options)
    return ExtensionList(target=cluster_target(options))
