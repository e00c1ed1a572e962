"""Kubernetes API failures -> bot errors: what was refused, what to grant, where to run instead."""

from __future__ import annotations

import json

import pytest

from bot import errors
from bot.models import ClusterRef, ClusterType
from workers.kube_errors import ApiStatus, KubeCall, http_error, unreachable

AKS = ClusterRef("sub", "flux-demo-rg", ClusterType.MANAGED, "flux-demo-aks")
ARC = ClusterRef("sub", "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc")
PATCH = KubeCall(
    "patch",
    "gitrepositories.source.toolkit.fluxcd.io",
    namespace="cluster-config",
    name="cluster-config",
    kind="GitRepository",
)
LIST = KubeCall("list", "kustomizations.kustomize.toolkit.fluxcd.io", kind="Kustomization")

FORBIDDEN_BODY = json.dumps(
    {
        "kind": "Status",
        "status": "Failure",
        "reason": "Forbidden",
        "code": 403,
        "message": 'gitrepositories.source.toolkit.fluxcd.io "cluster-config" is forbidden: User '
        '"0f1e2d3c-aaaa-bbbb-cccc-111122223333" cannot patch resource "gitrepositories" in API group '
        '"source.toolkit.fluxcd.io" in the namespace "cluster-config"',
    }
)


def test_forbidden_on_entra_aks_names_the_writer_role_and_a_rolebinding():
    err = http_error(ApiStatus.parse(403, FORBIDDEN_BODY), PATCH, AKS, entra=True)

    assert isinstance(err, errors.ClusterAccessDenied) and not err.retryable
    assert "patching GitRepository cluster-config/cluster-config on cluster 'flux-demo-aks'" in err.message
    assert 'cannot patch resource "gitrepositories"' in err.message
    assert '"Azure Kubernetes Service RBAC Writer"' in err.recommendation
    assert f"--scope {AKS.arm_id}" in err.recommendation
    assert (
        "kubectl create rolebinding fluxops-edit --clusterrole=edit "
        "--user=0f1e2d3c-aaaa-bbbb-cccc-111122223333 --namespace cluster-config" in err.recommendation
    )


def test_forbidden_reads_ask_for_reader_roles_and_arc_service_accounts_get_a_binding():
    body = json.dumps({"message": 'User "system:serviceaccount:azure-arc:fluxops" cannot list resource'})
    err = http_error(ApiStatus.parse(403, body), LIST, ARC, entra=False)

    assert '"Azure Arc Kubernetes Viewer"' in err.recommendation
    assert (
        "kubectl create clusterrolebinding fluxops-view --clusterrole=view --serviceaccount=azure-arc:fluxops"
        in err.recommendation
    )
    aks = http_error(ApiStatus.parse(403, None), LIST, AKS, entra=True)
    assert '"Azure Kubernetes Service RBAC Reader"' in aks.recommendation
    assert "cannot list kustomizations.kustomize.toolkit.fluxcd.io" in aks.message  # no Status body: our own words


def test_forbidden_on_aks_local_accounts_names_kubernetes_rbac_only():
    err = http_error(ApiStatus.parse(403, FORBIDDEN_BODY), PATCH, AKS, entra=False)
    assert "Azure Kubernetes Service RBAC" not in err.recommendation
    assert err.recommendation.startswith("bind it the edit role in cluster-config")


def test_crd_reads_need_their_own_cluster_role():
    call = KubeCall("list", "customresourcedefinitions.apiextensions.k8s.io", kind="CustomResourceDefinitions")
    err = http_error(ApiStatus.parse(403, None), call, AKS, entra=True)
    assert "--resource=customresourcedefinitions.apiextensions.k8s.io" in err.recommendation


def test_unauthorized_after_a_fresh_token_is_access_denied():
    err = http_error(ApiStatus.parse(401, '{"message": "Unauthorized"}'), LIST, ARC, entra=False)
    assert isinstance(err, errors.ClusterAccessDenied)
    assert "az connectedk8s show -g flux-demo-rg -n flux-demo-arc" in err.recommendation


@pytest.mark.parametrize(
    ("code", "kind", "retryable"),
    [
        (404, errors.NotFound, False),
        (500, errors.ServiceUnavailable, True),
        (503, errors.ServiceUnavailable, True),
        (429, errors.Throttled, True),
        (409, errors.Conflict, True),
        (422, errors.InvalidRequest, False),
    ],
)
def test_other_statuses(code: int, kind: type[errors.FluxopsError], retryable: bool):
    err = http_error(ApiStatus.parse(code, '{"message": "x"}', "7"), PATCH, AKS, entra=False)
    assert type(err) is kind and err.retryable is retryable
    if code == 404:
        assert "GitRepository cluster-config/cluster-config does not exist on cluster 'flux-demo-aks'" in err.message
    if code == 429:
        assert err.retry_after == 7.0


def test_private_cluster_says_where_to_run_and_is_not_retried():
    err = unreachable(
        "the name does not resolve", LIST, AKS, host="flux-demo-aks-1a2b3c.privatelink.westeurope.azmk8s.io"
    )
    assert err.code == "PrivateCluster" and not err.retryable
    assert "'flux-demo-aks' is a private cluster" in err.message
    assert "run a fluxops worker inside the cluster's virtual network" in err.recommendation
    assert "az aks command invoke -g flux-demo-rg -n flux-demo-aks" in err.recommendation


def test_unreachable_public_server_is_retried_and_names_the_status_command():
    err = unreachable("connection refused", LIST, ARC, host="127.0.0.1")
    assert err.retryable and "connection refused" in err.message
    assert "az connectedk8s show -g flux-demo-rg -n flux-demo-arc --query connectivityStatus" in err.recommendation
