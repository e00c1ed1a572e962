"""The public ARM spec's examples (../shared/testdata/arm) as test vectors for the emulator.

Every request body there is accepted; every response body there deserializes with the SDK models;
the emulator's own response to the same request has the same shape (the example's keys, with the
same JSON types) and adds no field the SDK models do not know.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.mgmt.kubernetesconfiguration.extensions import models as em
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import models as fm

from sandbox.world import Cluster, ExtensionRecord

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "arm"
SUB, RG, CLUSTER = "subId1", "rg1", "clusterName1"
BASE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Kubernetes/connectedClusters/{CLUSTER}"
FLUX = f"{BASE}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations"
EXT = f"{BASE}/providers/Microsoft.KubernetesConfiguration/extensions"
AUTH = {"Authorization": "Bearer vector-test"}


def vector(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text())


def rest_names(model_cls: type) -> set[str]:
    return {field._rest_name for field in model_cls({})._attr_to_rest_field.values()}


#: where in a body which SDK model applies (for "no invented fields")
FLUX_MODELS = {
    "": fm.FluxConfiguration,
    ".properties": fm.FluxConfigurationProperties,
    ".properties.gitRepository": fm.GitRepositoryDefinition,
    ".properties.gitRepository.repositoryRef": fm.RepositoryRefDefinition,
    ".properties.ociRepository": fm.OCIRepositoryDefinition,
    ".properties.kustomizations.*": fm.KustomizationDefinition,
    ".properties.statuses[]": fm.ObjectStatusDefinition,
    ".properties.statuses[].statusConditions[]": fm.ObjectStatusConditionDefinition,
    ".properties.statuses[].helmReleaseProperties": fm.HelmReleasePropertiesDefinition,
    ".systemData": fm.SystemData,
}
EXT_MODELS = {"": em.Extension, ".properties": em.ExtensionProperties, ".systemData": em.SystemData}
OP_MODELS = {"": fm.OperationStatusResult}


def shape_problems(
    ours: Any, theirs: Any, models: dict[str, type], path: str = "", generic: str = "", *, fresh: bool = False
) -> list[str]:
    """Differences in shape: the example's keys missing from ours, JSON types that differ,
    and keys of ours that the SDK model for that place does not know. ``fresh``: the resource was
    just created, so status fields the agent has not reported yet may still be null."""
    if theirs is None or (fresh and ours is None):
        return []
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path or '.'}: expected an object, got {type(ours).__name__}"]
        problems = []
        model = models.get(generic)
        if model is not None:
            known = rest_names(model)
            problems += [f"{path}.{k}: not a field of {model.__name__}" for k in ours if k not in known]
        for key, value in theirs.items():
            child_generic = f"{generic}.*" if generic.endswith(".kustomizations") else f"{generic}.{key}"
            if key not in ours:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += shape_problems(ours[key], value, models, f"{path}.{key}", child_generic, fresh=fresh)
        return problems
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{path}: expected a list, got {type(ours).__name__}"]
        if theirs and ours:
            return shape_problems(ours[0], theirs[0], models, f"{path}[0]", f"{generic}[]", fresh=fresh)
        return []
    if type(ours) is not type(theirs):
        return [f"{path}: {type(ours).__name__} where the example has {type(theirs).__name__}"]
    return []


@pytest.fixture(scope="module")
def vector_cluster(sandbox_thread):
    """subId1/rg1/clusterName1 with Flux installed, and the example's repo served by the sandbox."""

    def setup(sb) -> None:
        sb.world.subscriptions.append(SUB)
        cluster = sb.world.add_cluster(Cluster(SUB, RG, "connectedClusters", CLUSTER))
        cluster.extensions["flux"] = ExtensionRecord(
            "flux", {"extensionType": "microsoft.flux", "provisioningState": "Succeeded"}, {}, {}
        )
        release = (
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: myname\n"
            "  namespace: mynamespace\nspec:\n  chart:\n    spec:\n      chart: podinfo\n"
        )
        # the seed holds the Flux v1 tutorial's repository: the spec's examples add their paths to it
        sb.repos.commit(
            "Azure/arc-k8s-demo",
            {"test/path/release.yaml": release, "other/test/path/release.yaml": release},
            "the ARM spec examples' paths",
            branch="master",
        )

    sandbox_thread.call(setup)
    return sandbox_thread


class Client:
    def __init__(self, endpoints) -> None:
        self.base, self.verify = endpoints.arm_url, str(endpoints.ca_file)

    def send(self, method: str, path: str, api: str, body: Any = None, **params: str) -> requests.Response:
        return requests.request(
            method,
            self.base + path,
            params={"api-version": api, **params},
            json=body,
            headers=AUTH,
            verify=self.verify,
        )

    def settle(self, response: requests.Response) -> None:
        url = response.headers.get("Azure-AsyncOperation")
        deadline = time.monotonic() + 10
        while url and requests.get(url, headers=AUTH, verify=self.verify).json()["status"] == "InProgress":
            assert time.monotonic() < deadline
            time.sleep(0.02)


@pytest.fixture(scope="module")
def client(endpoints, vector_cluster) -> Client:
    return Client(endpoints)


def wait_reconciled(client: Client, path: str, api: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        body = client.send("GET", path, api).json()
        if body["properties"].get("complianceState") not in ("Pending", None) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_flux_vectors_create_patch_delete(client: Client):
    create = vector("flux_2025-04-01_CreateFluxConfiguration.json")
    params = create["parameters"]
    path = f"{FLUX}/{params['fluxConfigurationName']}"
    created = client.send("PUT", path, params["api-version"], params["fluxConfiguration"])
    assert created.status_code == 201, created.text
    problems = shape_problems(created.json(), create["responses"]["201"]["body"], FLUX_MODELS, fresh=True)
    client.settle(created)

    reconciled = wait_reconciled(client, path, params["api-version"])
    assert reconciled["properties"]["complianceState"] == "Compliant", reconciled["properties"]
    problems += shape_problems(reconciled, create["responses"]["200"]["body"], FLUX_MODELS)

    again = client.send("PUT", path, params["api-version"], params["fluxConfiguration"])
    assert again.status_code == 200
    client.settle(again)

    patch_vector = vector("flux_2025-04-01_PatchFluxConfiguration.json")
    patch = patch_vector["parameters"]
    patched = client.send("PATCH", path, patch["api-version"], patch["fluxConfigurationPatch"])
    assert patched.status_code == 202, patched.text
    client.settle(patched)
    after = client.send("GET", path, patch["api-version"]).json()["properties"]
    assert set(after["kustomizations"]) == {"srs-kustomization2", "srs-kustomization3"}
    assert after["kustomizations"]["srs-kustomization2"]["path"] == "./test/alt-path"
    assert after["kustomizations"]["srs-kustomization2"]["dependsOn"] == []
    assert after["suspend"] is True and after["gitRepository"]["url"].endswith("flux2-kustomize-helm-example.git")
    for response in patch_vector["responses"].values():
        if response.get("body"):
            problems += shape_problems(
                client.send("GET", path, patch["api-version"]).json(), response["body"], FLUX_MODELS
            )

    status = vector("flux_2025-04-01_GetFluxConfigurationAsyncOperationStatus.json")
    op = requests.get(patched.headers["Azure-AsyncOperation"], headers=AUTH, verify=client.verify).json()
    problems += shape_problems(op, status["responses"]["200"]["body"], OP_MODELS)

    delete = vector("flux_2025-04-01_DeleteFluxConfiguration.json")
    deleted = client.send("DELETE", path, delete["parameters"]["api-version"])
    assert str(deleted.status_code) in delete["responses"] and "Azure-AsyncOperation" in deleted.headers
    client.settle(deleted)
    assert str(client.send("DELETE", path, delete["parameters"]["api-version"]).status_code) in delete["responses"]
    assert problems == [], "\n".join(problems)


def test_flux_oci_vector_is_accepted(client: Client):
    oci = vector("flux_2025-04-01_CreateFluxConfigurationWithOCIRepository.request.json")["parameters"]
    path = f"{FLUX}/oci-{oci['fluxConfigurationName']}"
    response = client.send("PUT", path, oci["api-version"], oci["fluxConfiguration"])
    assert response.status_code == 201, response.text
    body = response.json()["properties"]
    assert body["sourceKind"] == "OCIRepository" and body["gitRepository"] is None and body["bucket"] is None
    client.settle(response)
    client.send("DELETE", path, oci["api-version"], forceDelete="true")


def test_extension_vectors(client: Client):
    create = vector("ext_2025-03-01_CreateExtension.json")
    params = create["parameters"]
    path = f"{EXT}/{params['extensionName']}"
    created = client.send("PUT", path, params["api-version"], params["extension"])
    assert created.status_code == 201, created.text
    assert "configurationProtectedSettings" not in created.text and "secretKeyValue01" not in created.text
    problems = shape_problems(created.json(), create["responses"]["201"]["body"], EXT_MODELS, fresh=True)
    client.settle(created)
    problems += shape_problems(
        client.send("GET", path, params["api-version"]).json(), create["responses"]["200"]["body"], EXT_MODELS
    )

    patch = vector("ext_2025-03-01_PatchExtension.json")["parameters"]
    patched = client.send("PATCH", path, patch["api-version"], patch["patchExtension"])
    assert patched.status_code == 202, patched.text
    problems += shape_problems(
        patched.json(), vector("ext_2025-03-01_PatchExtension.json")["responses"]["202"]["body"], EXT_MODELS
    )
    client.settle(patched)

    status = vector("ext_2025-03-01_GetExtensionAsyncOperationStatus.json")
    op = requests.get(patched.headers["Azure-AsyncOperation"], headers=AUTH, verify=client.verify).json()
    problems += shape_problems(op, status["responses"]["200"]["body"], {"": em.OperationStatusResult})

    delete = vector("ext_2025-03-01_DeleteExtension.json")
    deleted = client.send("DELETE", path, delete["parameters"]["api-version"])
    assert str(deleted.status_code) in delete["responses"]
    client.settle(deleted)
    assert client.send("GET", path, params["api-version"]).status_code == 404
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("flux_2025-04-01_CreateFluxConfiguration.json", fm.FluxConfiguration),
        ("flux_2025-04-01_GetFluxConfigurationAsyncOperationStatus.json", fm.OperationStatusResult),
        ("ext_2025-03-01_CreateExtension.json", em.Extension),
        ("ext_2025-03-01_PatchExtension.json", em.Extension),
        ("ext_2025-03-01_GetExtensionAsyncOperationStatus.json", em.OperationStatusResult),
    ],
)
def test_every_response_body_deserializes_with_the_sdk(name: str, model: type):
    bodies = [r["body"] for r in vector(name)["responses"].values() if r.get("body")]
    assert bodies
    for body in bodies:
        parsed = model(body)
        assert parsed.as_dict() == _without_nulls(body) or parsed.as_dict() == body


def test_sdk_reads_vector_fields_by_name():
    body = vector("flux_2025-04-01_CreateFluxConfiguration.json")["responses"]["200"]["body"]
    parsed = fm.FluxConfiguration(body)
    assert parsed.properties.git_repository.repository_ref.branch == "master"
    assert parsed.properties.kustomizations["srs-kustomization2"].depends_on == ["srs-kustomization1"]
    assert parsed.properties.statuses[0].status_conditions[0].reason == "GitOperationSucceed"
    assert parsed.properties.source_synced_commit_id.startswith("master/")


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
