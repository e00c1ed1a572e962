"""Help: the overview lists every command; each command's help has usage, description, flags and examples."""

from __future__ import annotations

import re

import pytest

from bot.commands import Help, Reply, Run
from bot.flux_settings import SETTINGS as FLUX_SETTINGS
from bot.grammar import help_text, parse
from bot.grammar.config_commands import CREATE_FLAGS
from bot.grammar.extension_commands import AUTO_UPGRADE, RELEASE_TRAIN, SETTINGS, VERSION
from bot.grammar.help_topics import TOPICS, TUTORIAL_EXAMPLE
from bot.grammar.kustomization_commands import _FIELDS, SUBSTITUTE
from bot.grammar.vocabulary import COMMANDS, GROUPS
from tests.bot.grammar_helpers import error, reply


def test_overview_lists_every_command_on_one_line() -> None:
    overview = help_text(None)
    for command in COMMANDS:
        lines = [line for line in overview.splitlines() if f"`/flux {command}`" in line]
        assert len(lines) == 1, command
    assert "never typed into chat" in overview


@pytest.mark.parametrize("command", [c for c in COMMANDS])
def test_each_command_has_usage_description_flags_and_examples(command: str) -> None:
    text = help_text(command)
    topic = TOPICS[command]
    assert text.startswith(f"*`/flux {command}`*")
    assert f"Usage: `{topic.usage}`" in text
    assert topic.description in text
    assert "Example" in text
    if command not in ("help", "plan", "apply", "fleet list"):  # these take no flags or arguments
        assert "Flags:" in text
    assert topic.examples, command


@pytest.mark.parametrize("example", [e for topic in TOPICS.values() for e in topic.examples])
def test_every_example_parses(example: str) -> None:
    result = parse(example)
    assert isinstance(result, Run | Reply), example
    if isinstance(result, Reply):
        assert not result.error, f"{example}: {result.text}"
    else:
        assert not isinstance(result.command, Help)


def test_config_create_help_has_the_seed_tutorial() -> None:
    assert TUTORIAL_EXAMPLE in help_text("config create")
    assert TUTORIAL_EXAMPLE == (
        "/flux config create cluster-config -c flux-demo-arc -g flux-demo-rg -t connectedClusters "
        "--namespace cluster-config --scope cluster -u https://github.com/Azure/gitops-flux2-kustomize-helm-mt "
        "--branch main --kustomization name=infra path=./infrastructure prune=true "
        "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"
    )


@pytest.mark.parametrize(
    ("topic", "flags"),
    [
        ("config create", [f.names[0] for f in CREATE_FLAGS]),
        ("kustomization create", [f.names[0] for f in (*_FIELDS, SUBSTITUTE)]),
        ("extension create", [f.names[0] for f in (VERSION, AUTO_UPGRADE, RELEASE_TRAIN, SETTINGS)]),
    ],
)
def test_help_documents_every_flag(topic: str, flags: list[str]) -> None:
    text = help_text(topic)
    for flag in flags:
        assert re.search(rf"{re.escape(flag)}\b", text), f"{flag} missing from help {topic}"


def test_groups_list_their_subcommands() -> None:
    for group, subs in GROUPS.items():
        text = help_text(group)
        for sub in subs:
            assert f"`/flux {group} {sub}" in text


def test_extension_settings_topic_lists_every_special_setting() -> None:
    text = help_text("extension settings")
    assert "CONTROLLER.resources.limits.memory" in text
    for key in FLUX_SETTINGS:
        if not key.endswith((".enabled", ".log-level", ".memory", ".cpu")) or key.startswith("fluxconfig"):
            assert key in text, key


@pytest.mark.parametrize(
    ("words", "starts"),
    [
        ("help", "*fluxops*"),
        ("help config create", "*`/flux config create`*"),
        ("help CONFIG CREATE", "*`/flux config create`*"),
        ("help config", "*`/flux config`*"),
        ("help ext update", "*`/flux extension update`*"),
        ("help ks", "*`/flux kustomization`*"),
        ("help kustomizations list", "*`/flux kustomization list`*"),
        ("help extension settings", "*microsoft.flux settings*"),
        ("help settings", "*microsoft.flux settings*"),
        ("help status", "*`/flux status`*"),
        ("help help", "*`/flux help`*"),
        ("help --help", "*`/flux help`*"),
    ],
)
def test_help_command(words: str, starts: str) -> None:
    assert reply(words).startswith(starts)


def test_help_for_unknown_topics() -> None:
    assert "Did you mean `config create`?" in error("help confg create")
    assert "There is no help on `bogus`" in error("help bogus")


def test_help_text_never_raises_on_odd_topics() -> None:
    for topic in ("", "nope", "config  create", "extension settings", "config crate", "-x"):
        assert help_text(topic)
