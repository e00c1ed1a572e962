"""Kubernetes API failures -> bot errors that say what was refused and what to grant, or where to run instead.

- 401 (after fresh credentials) / 403 -> ClusterAccessDenied: the verb and resource refused (from the API's
  Status message) and the role that allows it: an Azure role (AKS with Entra ID, Arc with Azure RBAC) or a
  Kubernetes (Cluster)RoleBinding for the user the API named.
- no connection (refused, DNS, timeout, TLS) -> ClusterUnreachable; a private API server (``privatelink``) says
  where fluxops can reach it from, and is not retried.
- 404 -> NotFound naming the object; 429 -> Throttled; 5xx -> ServiceUnavailable (retried).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot import errors
from bot.models import ClusterRef, ClusterType
from workers.kubeconfig import is_private_server

#: verbs that only read
READ_VERBS = frozenset({"get", "list", "watch"})

#: (cluster type, writes) -> the Azure built-in role that allows Flux reads / reconcile requests
AZURE_ROLES = {
    (ClusterType.MANAGED, False): "Azure Kubernetes Service RBAC Reader",
    (ClusterType.MANAGED, True): "Azure Kubernetes Service RBAC Writer",
    (ClusterType.CONNECTED, False): "Azure Arc Kubernetes Viewer",
    (ClusterType.CONNECTED, True): "Azure Arc Kubernetes Writer",
}

_USER = re.compile(r'User "([^"]+)"')
_SERVICE_ACCOUNT = re.compile(r"^system:serviceaccount:([^:]+):([^:]+)$")


@dataclass(frozen=True)
class KubeCall:
    """One call to a cluster's API, as errors describe it."""

    verb: str  # "get" | "list" | "patch"
    resource: str  # "gitrepositories.source.toolkit.fluxcd.io", "events", "deployments.apps"
    namespace: str | None = None
    name: str | None = None
    kind: str = ""  # "GitRepository": how the object is named to people

    @property
    def writes(self) -> bool:
        return self.verb not in READ_VERBS

    def doing(self, cluster: ClusterRef) -> str:
        what = self.kind or self.resource
        if self.name:
            target = f"{what} {self.namespace}/{self.name}" if self.namespace else f"{what} {self.name}"
        else:
            target = f"{what} in namespace {self.namespace}" if self.namespace else f"{what} in every namespace"
        gerund = {"get": "reading", "list": "listing", "patch": "patching", "watch": "watching"}.get(
            self.verb, self.verb
        )
        return f"{gerund} {target} on cluster '{cluster.name}'"


@dataclass(frozen=True)
class ApiStatus:
    """What a failed call answered: the HTTP status and the Kubernetes Status object's message and reason."""

    code: int
    message: str = ""
    reason: str = ""
    retry_after: float | None = None

    @classmethod
    def parse(cls, code: int, body: str | bytes | None, retry_after: str | None = None) -> ApiStatus:
        message = reason = ""
        try:
            doc = json.loads(body) if body else None
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            message = str(doc.get("message") or "")
            reason = str(doc.get("reason") or "")
        try:
            after = float(retry_after) if retry_after else None
        except ValueError:
            after = None
        return cls(code=code, message=message.strip(), reason=reason, retry_after=after)


def refused(status: ApiStatus, call: KubeCall, cluster: ClusterRef, *, entra: bool) -> errors.ClusterAccessDenied:
    """A 403 (or a 401 that fresh credentials did not cure): which verb on which resource, and what to grant."""
    doing = call.doing(cluster)
    if status.code == 401:
        return errors.ClusterAccessDenied(
            f"{doing}: the Kubernetes API did not accept fluxops' credentials, even fresh from ARM"
            + (f" ({status.message})" if status.message else ""),
            code="Unauthorized",
            recommendation=_unauthorized_hint(cluster, entra=entra),
        )
    where = f" in namespace {call.namespace}" if call.namespace else ""
    detail = status.message or f"cannot {call.verb} {call.resource}{where}"
    user_match = _USER.search(status.message)
    user = user_match.group(1) if user_match else None
    return errors.ClusterAccessDenied(
        f"{doing}: the Kubernetes API refused to {call.verb} {call.resource}: {detail}",
        code="Forbidden",
        recommendation=_grant_hint(call, cluster, entra=entra, user=user),
    )


def _grant_hint(call: KubeCall, cluster: ClusterRef, *, entra: bool, user: str | None) -> str:
    binding = _binding_command(call, user)
    role = AZURE_ROLES[(cluster.cluster_type, call.writes)]
    azure = (
        f'grant the fluxops identity the Azure role "{role}" on the cluster: '
        f'`az role assignment create --role "{role}" --assignee <fluxops identity object id> '
        f"--scope {cluster.arm_id}`"
    )
    if cluster.cluster_type is ClusterType.MANAGED and entra:
        return f"{azure}, or {binding}"
    if cluster.cluster_type is ClusterType.CONNECTED:
        return f"{azure} (clusters with Azure RBAC enabled), or {binding}"
    return binding  # AKS local accounts: Kubernetes RBAC only


def _binding_command(call: KubeCall, user: str | None) -> str:
    """A kubectl command binding the refused user a role that allows ``call``."""
    subject = f"--user={user}" if user else "--user=<fluxops identity object id>"
    if user and (account := _SERVICE_ACCOUNT.match(user)):
        subject = f"--serviceaccount={account.group(1)}:{account.group(2)}"
    if call.resource.startswith("customresourcedefinitions"):
        return (
            "give it a ClusterRole that can list CRDs: `kubectl create clusterrole fluxops-crd-reader --verb=get,list "
            "--resource=customresourcedefinitions.apiextensions.k8s.io` then `kubectl create clusterrolebinding "
            f"fluxops-crd-reader --clusterrole=fluxops-crd-reader {subject}`"
        )
    # Flux aggregates its CRDs into the built-in view and edit roles (flux-view, flux-edit)
    builtin = "edit" if call.writes else "view"
    if call.namespace:
        return (
            f"bind it the {builtin} role in {call.namespace}: `kubectl create rolebinding fluxops-{builtin} "
            f"--clusterrole={builtin} {subject} --namespace {call.namespace}`"
        )
    return (
        f"bind it the {builtin} role: `kubectl create clusterrolebinding fluxops-{builtin} "
        f"--clusterrole={builtin} {subject}`"
    )


def _unauthorized_hint(cluster: ClusterRef, *, entra: bool) -> str:
    if entra:
        return (
            "the cluster takes Microsoft Entra ID tokens: check that fluxops' Azure identity is in the cluster's "
            "tenant and that the cluster's Entra integration is healthy "
            f"(`az aks show -g {cluster.resource_group} -n {cluster.name} --query aadProfile`)"
        )
    if cluster.cluster_type is ClusterType.CONNECTED:
        return (
            "the cluster connect token was refused: check the cluster's Arc agents "
            f"(`az connectedk8s show -g {cluster.resource_group} -n {cluster.name} --query connectivityStatus`)"
        )
    return (
        "the cluster's local account was refused: local accounts may be disabled "
        f"(`az aks show -g {cluster.resource_group} -n {cluster.name} --query disableLocalAccounts`)"
    )


def http_error(status: ApiStatus, call: KubeCall, cluster: ClusterRef, *, entra: bool) -> errors.FluxopsError:
    """Any answer that is not a success."""
    doing = call.doing(cluster)
    detail = status.message or status.reason or f"HTTP {status.code}"
    if status.code in (401, 403):
        return refused(status, call, cluster, entra=entra)
    if status.code == 404:
        target = f"{call.kind or call.resource} {call.namespace}/{call.name}" if call.name else call.resource
        return errors.NotFound(
            f"{doing}: {target} does not exist on cluster '{cluster.name}'",
            code="NotFound",
            recommendation="check the name; `/flux status NAME -c CLUSTER` lists the objects of a configuration",
        )
    if status.code == 429:
        return errors.Throttled(
            f"{doing}: the Kubernetes API asked fluxops to slow down ({detail})",
            code="TooManyRequests",
            recommendation="fluxops retries after the time the API server asks for",
            retry_after=status.retry_after,
        )
    if status.code >= 500:
        return errors.ServiceUnavailable(
            f"{doing}: the Kubernetes API failed ({detail})",
            code=status.reason or "InternalError",
            recommendation="fluxops retries with backoff",
            retry_after=status.retry_after,
        )
    if status.code == 409:
        return errors.Conflict(f"{doing}: {detail}", code=status.reason or "Conflict", recommendation="fluxops retries")
    return errors.InvalidRequest(f"{doing}: {detail}", code=status.reason or "BadRequest")


def unreachable(
    cause: str, call: KubeCall, cluster: ClusterRef, *, host: str, tls: bool = False, private: bool = False
) -> errors.ClusterUnreachable:
    """No answer from the API server: a private cluster (its host says so, or ARM did: ``private``), an
    untrusted certificate, or the network."""
    doing = call.doing(cluster)
    if private or is_private_server(host):
        invoke = (
            f" or have AKS run kubectl for you: `az aks command invoke -g {cluster.resource_group} -n {cluster.name} "
            '--command "kubectl get kustomizations,gitrepositories -A"`'
            if cluster.cluster_type is ClusterType.MANAGED
            else ""
        )
        return errors.ClusterUnreachable(
            f"{doing}: '{cluster.name}' is a private cluster: its API server ({host}) has only a private address, "
            "which fluxops cannot reach from its network",
            code="PrivateCluster",
            recommendation="run a fluxops worker inside the cluster's virtual network (or one peered with it)" + invoke,
            retryable=False,
        )
    if tls:
        rotated = (
            f" (after `az aks rotate-certs -g {cluster.resource_group} -n {cluster.name}` that is expected once)"
            if cluster.cluster_type is ClusterType.MANAGED
            else ""
        )
        return errors.ClusterUnreachable(
            f"{doing}: the API server at {host} did not present a certificate the cluster's CA vouches for ({cause})",
            code="CertificateNotTrusted",
            recommendation="fluxops fetches the cluster's credentials and CA again on its next try" + rotated,
            retryable=True,
        )
    status_command = (
        f"`az aks show -g {cluster.resource_group} -n {cluster.name} --query powerState`"
        if cluster.cluster_type is ClusterType.MANAGED
        else f"`az connectedk8s show -g {cluster.resource_group} -n {cluster.name} --query connectivityStatus`"
    )
    return errors.ClusterUnreachable(
        f"{doing}: the API server at {host} could not be reached ({cause})",
        code="Unreachable",
        recommendation=f"fluxops retries; if it persists check that the cluster is running: {status_command}",
        retryable=True,
    )
