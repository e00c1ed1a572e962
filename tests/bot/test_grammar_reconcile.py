"""``reconcile NAME -c CLUSTER [--with-source] [--kustomization K]``: forms, mistakes, help, the codec."""

from __future__ import annotations

import pytest

from bot.command_codec import decode, encode
from bot.commands import ClusterTarget, Reconcile, Role
from bot.grammar import help_text
from bot.models import ClusterType
from tests.bot.grammar_helpers import error, reply, run

C = ClusterTarget("c")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("reconcile apps -c c", Reconcile(target=C, name="apps")),
        ("/flux reconcile --name apps --cluster c", Reconcile(target=C, name="apps")),
        ("config reconcile apps -c c", Reconcile(target=C, name="apps")),
        ("RECONCILE apps -c c --with-source", Reconcile(target=C, name="apps", with_source=True)),
        ("reconcile apps -c c --kustomization infra", Reconcile(target=C, name="apps", kustomization="infra")),
        (
            "reconcile apps -c c --ks=infra --with-source",
            Reconcile(target=C, name="apps", with_source=True, kustomization="infra"),
        ),
        (
            "reconcile apps -c c -g rg -t arc",
            Reconcile(target=ClusterTarget("c", "rg", ClusterType.CONNECTED), name="apps"),
        ),
    ],
)
def test_forms(text: str, command: Reconcile) -> None:
    assert run(text) == command


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("reconcile -c c", "NAME is missing."),
        ("reconcile apps", "Which cluster? `-c CLUSTER` is required."),
        ("reconcile apps -c c --with-source true", "Unexpected word `true`."),
        ("reconcile apps -c c --kustomization", "`--kustomization` needs a value."),
        ("reconcile apps -c c --kustomization Infra_1", "Did you mean `infra-1`?"),
        ("reconcile apps -c c --source", "is not an option of `reconcile`"),
        ("reconcile apps -c c --kustomization a --ks b", "`--kustomization` is given twice."),
    ],
)
def test_mistakes_are_explained(text: str, says: str) -> None:
    text_said = error(text)
    assert says in text_said
    assert "/flux help reconcile" in text_said


def test_help_says_what_it_does_and_what_it_needs() -> None:
    text = help_text("reconcile")
    assert text.startswith("*`/flux reconcile`*")
    assert "`reconcile.fluxcd.io/requestedAt`" in text
    assert "`depends_on` order" in text
    assert "FLUXOPS_CLUSTER_ACCESS" in text
    assert reply("help reconcile") == text == reply("reconcile --help")
    assert "`/flux reconcile`" in help_text(None)


def test_it_needs_an_operator_and_is_audited() -> None:
    assert Reconcile.role is Role.OPERATOR
    assert Reconcile.mutates and not Reconcile.destructive


@pytest.mark.parametrize(
    "command",
    [
        Reconcile(target=C, name="apps"),
        Reconcile(target=ClusterTarget("c", "rg", ClusterType.MANAGED), name="a", with_source=True, kustomization="k"),
    ],
)
def test_the_codec_brings_it_back_whole(command: Reconcile) -> None:
    assert decode(encode(command)) == command
