"""``key rotate`` and ``key status``: the deploy keys fluxops made, and the HTTPS credentials it re-hands.

``key rotate`` says what rotates in exactly one of four ways: ``NAME -c CLUSTER`` (the key that configuration
uses), ``--repo URL`` (every fluxops key of a repository, whichever way its URL is spelled), ``--key ID``
(one key by fluxops' id) or ``--https-key-ref REF`` (a credential fluxops holds, given again to every
configuration that uses it: Azure DevOps has no deploy keys, so that is how its sources rotate).
``key status`` lists keys: every key, those used on one cluster (``-c``), or one configuration's (NAME ``-c``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.commands import KeyRotate, KeyStatus
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.flags import Flag, Options, read_flags
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.repo_urls import canonical_repo
from bot.usage import UsageError, code, shown
from bot.values import credential_ref, git_url

NAME = Flag("name", ("--name", "-n"), metavar="NAME")
REPOSITORY = Flag("repository", ("--repo", "--repository"), metavar="URL")
KEY = Flag("key_id", ("--key", "--key-id"), metavar="ID")
HTTPS_KEY_REF = Flag("credential", ("--https-key-ref",), metavar="REF")

ROTATE_FLAGS = (NAME, *CLUSTER_FLAGS, REPOSITORY, KEY, HTTPS_KEY_REF)
STATUS_FLAGS = (NAME, *CLUSTER_FLAGS)
_METAVAR = {flag.dest: flag.metavar for flag in (REPOSITORY, KEY, HTTPS_KEY_REF)}

#: how ``bot.key_records`` names keys: ``dk-`` and ten hex digits
_KEY_ID = re.compile(r"dk-[0-9a-f]{10}")
#: an id for messages; not ``dk-0123456789``, which a mistyped ``--key 0123456789`` would mask in the reply
_EXAMPLE_ID = "dk-3f9a0c12e4"
_CLUSTER_DESTS = ("cluster", "resource_group", "cluster_type")
FORMS = (
    "`key rotate` takes one of `NAME -c CLUSTER` (the key that configuration uses), `--repo URL` (every key of "
    "a repository), `--key ID` (one key; `/flux key status` lists the ids) or `--https-key-ref REF` (an HTTPS "
    "credential fluxops holds)."
)
#: what each form other than NAME rotates, to say why it takes no cluster
_WHOLE = {
    "repository": "rotates the repository's keys on every cluster",
    "key_id": "names one key wherever it is used",
    "credential": "hands the credential to every configuration that uses it",
}


def key_rotate(words: Sequence[str]) -> KeyRotate:
    options = read_flags(words, ROTATE_FLAGS, command="key rotate")
    named = bool(options.positionals) or options.given("name")
    forms = [dest for dest in ("repository", "key_id", "credential") if options.given(dest)]
    if named and forms:
        word = "NAME" if options.positionals else code(options.spelled("name"))
        raise _two_forms(word, code(options.spelled(forms[0])))
    if len(forms) > 1:
        raise _two_forms(code(options.spelled(forms[0])), code(options.spelled(forms[1])))
    if named:
        _not_a_name(options)
        name = name_argument(options)
        no_more_words(options)
        return KeyRotate(name=name, target=cluster_target(options))
    no_more_words(options)
    clustered = [dest for dest in _CLUSTER_DESTS if options.given(dest)]
    if not forms:
        if clustered:
            raise UsageError(
                f"Which configuration's key? {code(options.spelled(clustered[0]))} goes with the NAME of a "
                "configuration on the cluster.",
                hint="Write `/flux key rotate NAME -c CLUSTER`; `/flux key status -c CLUSTER` lists the keys used "
                "there.",
                usage=True,
            )
        raise UsageError("What should rotate? " + FORMS, usage=True)
    form = forms[0]
    if clustered:
        raise UsageError(
            f"{code(options.spelled(form))} {_WHOLE[form]}; it takes no {code(options.spelled(clustered[0]))}.",
            hint=f"Leave {code(options.spelled(clustered[0]))} out. {FORMS}",
            usage=True,
        )
    value = options.value(form)
    assert value is not None
    what = code(options.spelled(form))
    if form == "repository":
        return KeyRotate(repository=repository(value, what))
    if form == "key_id":
        return KeyRotate(key_id=key_id(value, what))
    return KeyRotate(credential=credential_ref(value, what))


def key_status(words: Sequence[str]) -> KeyStatus:
    # the flags of key rotate are read only to say what key status does instead
    options = read_flags(words, (*STATUS_FLAGS, REPOSITORY, KEY, HTTPS_KEY_REF), command="key status")
    for dest in ("repository", "key_id", "credential"):
        if options.given(dest):
            raise UsageError(
                f"`key status` takes no {code(options.spelled(dest))}: it lists keys by cluster and configuration.",
                hint="`/flux key status` lists every key with its id and repository; to rotate, write "
                f"{code(f'/flux key rotate {options.spelled(dest)} {_METAVAR[dest]}')}.",
                usage=True,
            )
    name = name_argument(options, required=False)
    no_more_words(options)
    if options.given("cluster"):
        return KeyStatus(name=name, target=cluster_target(options))
    if name is not None:
        raise UsageError(
            "`key status NAME` shows the key of one configuration, and a name alone does not say which cluster "
            "it is on: add `-c CLUSTER`.",
            hint="Or leave NAME out: `/flux key status` lists every key.",
            usage=True,
        )
    for dest in ("resource_group", "cluster_type"):
        if options.given(dest):
            raise UsageError(
                f"{code(options.spelled(dest))} only narrows down `-c CLUSTER`.",
                hint="Add `-c CLUSTER`, or leave it out to list every key.",
                usage=True,
            )
    return KeyStatus()


def repository(value: str, what: str = "`--repo`") -> str:
    """A git repository URL in any spelling ``canonical_repo`` reads, as typed; not Azure DevOps."""
    found = canonical_repo(value)
    if found is None:
        raise UsageError(
            f"{what} takes a git repository URL, not {shown(value)}.",
            hint="For example `ssh://git@github.com/org/repo`, `git@github.com:org/repo.git` or "
            "`https://github.com/org/repo`.",
        )
    # the checks of a source URL too: a valid host name, no password, no SAS token
    git_url(value, what)
    if found[0] == "dev.azure.com":
        raise UsageError(
            f"{what} names an Azure DevOps repository, and Azure DevOps has no deploy keys: fluxops has no key "
            "of it to rotate.",
            hint="If its configurations use HTTPS with a credential fluxops holds, change the credential and hand "
            "it to them with `/flux key rotate --https-key-ref REF`; or use workload identity (`--provider azure` "
            "on `/flux config create`), which has nothing to rotate.",
        )
    return value


def key_id(value: str, what: str = "`--key`") -> str:
    """fluxops' id of a key, ``dk-`` and ten hex digits, in lower case."""
    lowered = value.lower()
    if not _KEY_ID.fullmatch(lowered):
        raise UsageError(
            f"{what} takes a key id such as {code(_EXAMPLE_ID)} (`dk-` and 10 hex digits), not {shown(value)}.",
            hint="`/flux key status` lists the ids.",
        )
    return lowered


def _two_forms(first: str, second: str) -> UsageError:
    return UsageError(f"{first} and {second} are two ways of saying what rotates; give one.", hint=FORMS, usage=True)


def _not_a_name(options: Options) -> None:
    """A repository URL or a key id typed where NAME goes: say which flag it needs."""
    if not options.positionals or options.given("cluster"):
        return
    word = options.positionals[0]
    if _KEY_ID.fullmatch(word.lower()):
        raise UsageError(
            f"{shown(word)} looks like a key id, not a configuration name.",
            hint=f"Write {code('/flux key rotate --key ' + word.lower())}; for a configuration's key add `-c CLUSTER`.",
            usage=True,
        )
    if canonical_repo(word) is not None:
        raise UsageError(
            "A repository URL goes after `--repo`, not where NAME goes.",
            hint="Write `/flux key rotate --repo URL`.",
            usage=True,
        )
