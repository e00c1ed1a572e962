"""What a flag is about, so that a "did you mean" for an unknown flag never crosses to a different thing.

``--sp-client-id`` and ``--mi-client-id`` are two letters apart but two different auth methods; a suggestion
of one for the other sends a person the wrong way. Each family below is named by the words that mark it in a
flag's name; a suggestion must belong to exactly the families the typed flag does (``related``). A typed word
counts as a family's word when it is one with a slip (``--sevice-principal``, ``--ps-client-id``), so a typo in
the marking word itself still finds its flag.

``MEANS`` answers flags that fluxops spells differently (az's Flux v1 names, kubectl's and the Flux CLI's) with
the fluxops flag that does the same, when the command has it; ``EITHER`` names the flags a vague one could mean
(``--client-id``: a service principal's or a managed identity's), saying which is which; ``NOT_NEEDED`` answers
flags whose job fluxops does another way.
"""

from __future__ import annotations

from collections.abc import Container

from bot.usage import code, edit_distance, typo_of

#: family -> the words of a flag name that say it belongs there
FAMILIES: dict[str, frozenset[str]] = {
    # auth methods: never suggest one for another
    "https credentials": frozenset({"https"}),
    "ssh credentials": frozenset({"ssh", "known", "hosts", "deploy"}),
    "local auth secret": frozenset({"local"}),
    "bucket access key": frozenset({"access", "secret"}),
    "storage account key": frozenset({"account"}),
    "sas token": frozenset({"sas"}),
    "service principal": frozenset({"sp", "service", "principal", "tenant"}),
    "managed identity": frozenset({"mi", "managed", "identity"}),
    "certificate": frozenset({"ca", "cert", "certificate"}),
    # source kinds and what picks a revision of them
    "bucket": frozenset({"bucket"}),
    "blob container": frozenset({"container"}),
    "git ref": frozenset({"branch", "commit"}),
    "oci digest": frozenset({"digest"}),
    # where and what
    "cluster": frozenset({"cluster", "clusters", "resource", "group"}),
    "kustomization field": frozenset({"path", "prune", "depends", "dependson", "wait", "retry", "substitute"}),
    "extension": frozenset({"version", "release", "train", "upgrade"}),
    "fleet run": frozenset({"waves", "wave", "parallel", "selector"}),
}

#: flags other tools spell differently -> the fluxops flag that does the same
MEANS: dict[str, str] = {
    "--git-branch": "--branch",
    "--repository-url": "--url",
    "--repo-url": "--url",
    "--source-url": "--url",
    "--git-url": "--url",
    "--operator-namespace": "--namespace",
    "--ks": "--kustomization",
    "--source-type": "--kind",
    "--interval-sync": "--interval",
    "--auto-upgrade-minor-versions": "--auto-upgrade",
    "--configuration-name": "--config",
    "--service-principal-client-id": "--sp-client-id",
    "--client-secret-ref": "--sp-client-secret-ref",
    # az takes the certificate itself (or a file); fluxops a reference to the one it holds
    "--https-ca-cert-file": "--https-ca-cert",
    "--ssh-key-ref": "--ssh-private-key-ref",
    "--private-key-ref": "--ssh-private-key-ref",
    "--https-password-ref": "--https-key-ref",
    "--https-token-ref": "--https-key-ref",
    "--token-ref": "--https-key-ref",
    "--pat-ref": "--https-key-ref",
    "--https-username": "--https-user",
}
#: flags that could mean flags of different families -> each with what it is, offered when the command has all
EITHER: dict[str, tuple[tuple[str, str], ...]] = {
    "--client-id": (("--sp-client-id", "a service principal"), ("--managed-identity-client-id", "a managed identity")),
}
#: flags of ``kustomization create`` given to a command that takes them inside ``--kustomization``
KUSTOMIZATION_KEYS: dict[str, str] = {
    "--path": "path=./apps",
    "--prune": "prune=true",
    "--depends-on": "depends_on=infra",
    "--dependson": "depends_on=infra",
    "--wait": "wait=true",
    "--force": "force=true",
    "--retry-interval": "retry_interval=1m",
    "--substitute": "substitute=NAME:VALUE",
    "--substitute-from": "substitute_from=ConfigMap:NAME",
}
#: flags whose job fluxops does another way -> what to do
NOT_NEEDED: dict[str, str] = {
    "-a": "fluxops reads every namespace already; leave it out.",
    "--all-namespaces": "fluxops reads every namespace already; leave it out.",
    "--context": "Name the cluster with `-c CLUSTER` (an inventory alias, a cluster name or an ARM id).",
    "--kube-context": "Name the cluster with `-c CLUSTER` (an inventory alias, a cluster name or an ARM id).",
    "--kubeconfig": "Name the cluster with `-c CLUSTER` (an inventory alias, a cluster name or an ARM id).",
    "--subscription": "Give the cluster's ARM id with `-c` to name a cluster in another subscription.",
    "-o": "fluxops formats its replies itself; leave it out.",
    "--output": "fluxops formats its replies itself; leave it out.",
    "--query": "fluxops formats its replies itself; leave it out.",
    "--only-show-errors": "fluxops formats its replies itself; leave it out.",
    "--verbose": "fluxops formats its replies itself; leave it out.",
    "--debug": "fluxops formats its replies itself; leave it out.",
    "--no-wait": (
        "Only the commands az has it on take it: config, kustomization and extension create, update and delete."
    ),
}


def _words(flag: str) -> list[str]:
    return [word for word in flag.lstrip("-").split("-") if word]


def _is_marker(word: str, marker: str) -> bool:
    """``word`` is ``marker`` or a slip of it: a swap in a short word (``ps``), one slip in a longer one."""
    if word == marker:
        return True
    if len(marker) <= 3:
        return len(word) == len(marker) and sorted(word) == sorted(marker) and edit_distance(word, marker) == 1
    return edit_distance(word, marker) <= 1


def families(flag: str) -> frozenset[str]:
    """The families whose words ``flag``'s name has (``--sp-client-id``: service principal)."""
    words = _words(flag.lower())
    return frozenset(
        family for family, markers in FAMILIES.items() if any(_is_marker(w, m) for w in words for m in markers)
    )


def related(typed: str, choice: str) -> bool:
    """Whether ``choice`` may be suggested for ``typed``: a typed flag that names a family gets only flags of
    the same families; one that names none (a slip in every word) may get any flag spelled near it."""
    wanted = families(typed)
    return not wanted or wanted == families(choice)


def flag_hint(typed: str, known: Container[str], candidates: list[str]) -> str:
    """What to say for the unknown flag ``typed``: the flag it means, the one it is a slip of, or ""."""
    key = typed.lower()
    same = MEANS.get(key)
    if same is not None and same in known:
        return f"Did you mean {code(same)}?"
    either = EITHER.get(key, ())
    if either and all(flag in known for flag, _ in either):
        return f"Did you mean {' or '.join(f'{code(flag)} ({what})' for flag, what in either)}?"
    if key in NOT_NEEDED:
        return NOT_NEEDED[key]
    inside = KUSTOMIZATION_KEYS.get(key)
    if inside is not None and "--kustomization" in known:
        return f"Kustomization fields go inside `--kustomization`: write `--kustomization name=NAME {inside}`."
    if not key.startswith("--"):
        return ""  # one letter is no spelling: `-f` is not a slip of `-c`
    found = typo_of(key, candidates, related=related)
    return f"Did you mean {code(found)}?" if found else ""
