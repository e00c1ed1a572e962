"""Faults of the sandbox's Kubernetes API, so tests can prove how fluxops copes with a cluster that says no.

A rule names a cluster (its name, ARM id or kube slug; case-insensitive) and a fault:

- ``forbidden``: resource requests answer 403 with an RBAC denial (``... is forbidden: User "u" cannot patch
  resource "gitrepositories" in API group "source.toolkit.fluxcd.io" in the namespace "flux-system"``);
  optionally only for one ``resource`` (plural, e.g. ``gitrepositories``) and/or ``verb`` (get, list, watch,
  patch). ``user`` overrides the user the message names.
- ``unreachable``: the server closes the connection without answering (clients see a connection error).
- ``expire``: acts once when set: the cluster's ``kube_token`` is rotated and Entra tokens issued before now are
  refused, so kubeconfigs handed out before get 401 and the client must fetch credentials again. It is not
  kept as a rule.

``times`` (optional) limits how many requests a rule hits. Set them over HTTP with
``PUT /_sandbox/faults`` and ``{"faults": [{"cluster": "prod-weu", "fault": "forbidden", "verb": "patch"}]}``
(replaces the rules; ``[]`` clears them), or in-process with ``KubeApiServer.faults.configure([...])``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.world import Cluster

KINDS = ("forbidden", "unreachable", "expire")
VERBS = ("get", "list", "watch", "patch")


@dataclass
class KubeFault:
    cluster: str  # lower case: name, ARM id or kube slug
    fault: str  # "forbidden" | "unreachable"
    resource: str | None = None
    verb: str | None = None
    user: str | None = None
    times: int | None = None
    hits: int = 0

    def names(self, cluster: Cluster) -> bool:
        return self.cluster in (cluster.name.lower(), cluster.id.lower(), cluster.kube_slug)

    def spent(self) -> bool:
        return self.times is not None and self.hits >= self.times


def parse_rule(raw: dict[str, Any]) -> KubeFault:
    """One rule from its JSON form; ValueError says what is wrong."""
    unknown = set(raw) - {"cluster", "fault", "resource", "verb", "user", "times"}
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    cluster, fault = raw.get("cluster"), raw.get("fault")
    if not isinstance(cluster, str) or not cluster:
        raise ValueError("a fault needs 'cluster' (its name, ARM id or kube slug)")
    if fault not in KINDS:
        raise ValueError(f"'fault' must be one of {', '.join(KINDS)}, not {fault!r}")
    verb = raw.get("verb")
    if verb is not None and verb not in VERBS:
        raise ValueError(f"'verb' must be one of {', '.join(VERBS)}, not {verb!r}")
    times = raw.get("times")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ValueError("'times' must be a positive integer")
    return KubeFault(
        cluster=cluster.lower(),
        fault=str(fault),
        resource=raw.get("resource"),
        verb=verb,
        user=raw.get("user"),
        times=times,
    )


class KubeFaults:
    """The active rules; the server asks ``unreachable`` and ``forbidden`` for every request."""

    def __init__(self) -> None:
        self.rules: list[KubeFault] = []

    def configure(self, raw_rules: list[dict[str, Any]]) -> list[KubeFault]:
        """Replace the rules; returns the ``expire`` rules, which the caller carries out at once."""
        parsed = [parse_rule(r) for r in raw_rules]
        self.rules = [r for r in parsed if r.fault != "expire"]
        return [r for r in parsed if r.fault == "expire"]

    def unreachable(self, cluster: Cluster) -> bool:
        return self._hit(cluster, "unreachable", None, None) is not None

    def forbidden(self, cluster: Cluster, resource: str, verb: str) -> KubeFault | None:
        return self._hit(cluster, "forbidden", resource, verb)

    def _hit(self, cluster: Cluster, fault: str, resource: str | None, verb: str | None) -> KubeFault | None:
        for rule in self.rules:
            if rule.fault != fault or rule.spent() or not rule.names(cluster):
                continue
            if rule.resource is not None and rule.resource != resource:
                continue
            if rule.verb is not None and rule.verb != verb:
                continue
            rule.hits += 1
            return rule
        return None
