"""The emulator speaks ARM's protocol: auth, api-version, ids, LRO status codes, errors, throttling."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from bot.models import ClusterRef, ClusterType
from sandbox.arm.app import EmulatorConfig
from sandbox.arm.throttle import ARM_LIMITS, BucketSpec, Throttle
from sandbox.credential import SandboxCredential
from sandbox.runtime import SandboxOptions, SandboxThread
from sandbox.seed import TUTORIAL_ARC, TUTORIAL_RG, TUTORIAL_URL
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions

FLUX_API = "2025-04-01"
EXT_API = "2025-03-01"
AUTH = {"Authorization": "Bearer anything"}


class Arm:
    """Raw HTTPS access to the emulator."""

    def __init__(self, endpoints) -> None:
        self.base = endpoints.arm_url
        self.verify = str(endpoints.ca_file)
        self.sub = endpoints.subscription_id

    def cluster_path(self, cluster: str = TUTORIAL_ARC, rg: str = TUTORIAL_RG) -> str:
        return (
            f"/subscriptions/{self.sub}/resourceGroups/{rg}/providers/Microsoft.Kubernetes/connectedClusters/{cluster}"
        )

    def call(self, method: str, path: str, *, api: str | None = FLUX_API, headers=AUTH, **kw) -> requests.Response:
        params = {"api-version": api} if api else {}
        return requests.request(method, self.base + path, params=params, headers=headers, verify=self.verify, **kw)

    def wait_op(self, url: str) -> dict:
        deadline = time.monotonic() + 10
        while True:
            body = requests.get(url, headers=AUTH, verify=self.verify).json()
            if body["status"] != "InProgress" or time.monotonic() > deadline:
                return body
            time.sleep(0.02)


@pytest.fixture(scope="module")
def arm(endpoints) -> Arm:
    return Arm(endpoints)


@pytest.fixture
def cluster_with_flux(arm: Arm, fresh_cluster: ClusterRef) -> str:
    path = arm.cluster_path(fresh_cluster.name, fresh_cluster.resource_group)
    r = arm.call(
        "PUT",
        f"{path}/providers/Microsoft.KubernetesConfiguration/extensions/flux",
        api=EXT_API,
        json={"properties": {"extensionType": "microsoft.flux"}},
    )
    assert r.status_code == 201
    assert arm.wait_op(r.headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    return path


def flux_body(**extra) -> dict:
    props = {
        "gitRepository": {"url": TUTORIAL_URL, "repositoryRef": {"branch": "main"}},
        "kustomizations": {"infra": {"path": "./infrastructure"}},
    }
    props.update(extra)
    return {"properties": props}


def test_bearer_token_is_required(arm: Arm):
    r = arm.call("GET", arm.cluster_path(), api="2024-01-01", headers={})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AuthenticationFailed"


@pytest.mark.parametrize(
    ("api", "code"), [(None, "MissingApiVersionParameter"), ("2099-01-01", "NoRegisteredProviderFound")]
)
def test_api_version_is_checked(arm: Arm, api, code):
    r = arm.call("GET", arm.cluster_path() + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations", api=api)
    assert r.status_code == 400 and r.json()["error"]["code"] == code
    if api:
        assert "2025-04-01" in r.json()["error"]["message"]


def test_unknown_cluster_is_resource_not_found(arm: Arm):
    r = arm.call(
        "GET",
        arm.cluster_path("no-such-cluster") + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations",
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"
    assert "no-such-cluster" in r.json()["error"]["message"]


def test_ids_are_case_insensitive(arm: Arm):
    path = arm.cluster_path(TUTORIAL_ARC.upper(), TUTORIAL_RG.upper()).replace(
        "Microsoft.Kubernetes", "MICROSOFT.kubernetes"
    )
    r = arm.call(
        "GET",
        path.replace("/providers/", "/PROVIDERS/") + "/providers/microsoft.kubernetesconfiguration/FLUXCONFIGURATIONS",
    )
    assert r.status_code == 200 and r.json()["value"] == []


def test_lro_status_codes_and_async_operation_header(arm: Arm, cluster_with_flux: str, sandbox_thread):
    path = f"{cluster_with_flux}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/lro"
    sandbox_thread.call(
        lambda sb: sb.arm.faults.configure(
            [{"method": "PUT", "path": "/lro$", "operation": "slow", "seconds": 1, "times": 1}]
        )
    )
    try:
        created = arm.call("PUT", path, json=flux_body())
    finally:
        sandbox_thread.call(lambda sb: sb.arm.faults.configure([]))
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "Creating"
    op_url = created.headers["Azure-AsyncOperation"]
    assert op_url.startswith(arm.base + path + "/operations/") and f"api-version={FLUX_API}" in op_url
    assert created.headers["Retry-After"] == "0"
    assert requests.get(op_url, headers=AUTH, verify=arm.verify).json()["status"] == "InProgress"
    done = arm.wait_op(op_url)
    assert done["status"] == "Succeeded" and done["error"] is None

    body = arm.call("GET", path).json()["properties"]
    assert body["provisioningState"] == "Succeeded"
    assert (body["scope"], body["namespace"], body["sourceKind"], body["suspend"]) == (
        "cluster",
        "default",
        "GitRepository",
        False,
    )
    assert body["gitRepository"]["syncIntervalInSeconds"] == 600 and body["gitRepository"]["timeoutInSeconds"] == 600
    infra = body["kustomizations"]["infra"]
    assert (infra["prune"], infra["force"], infra["wait"], infra["syncIntervalInSeconds"]) == (
        False,
        False,
        True,
        600,
    )

    replaced = arm.call("PUT", path, json=flux_body())
    assert replaced.status_code == 200
    arm.wait_op(replaced.headers["Azure-AsyncOperation"])
    patched = arm.call("PATCH", path, json={"properties": {"suspend": True}})
    assert patched.status_code == 202
    arm.wait_op(patched.headers["Azure-AsyncOperation"])
    deleted = arm.call("DELETE", path)
    assert deleted.status_code == 202
    assert arm.wait_op(deleted.headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    assert arm.call("GET", path).status_code == 404
    assert arm.call("DELETE", path).status_code == 204


def test_force_delete_is_immediate(arm: Arm, cluster_with_flux: str):
    path = f"{cluster_with_flux}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/forced"
    arm.wait_op(arm.call("PUT", path, json=flux_body()).headers["Azure-AsyncOperation"])
    r = requests.delete(
        arm.base + path,
        params={"api-version": FLUX_API, "forceDelete": "true"},
        headers=AUTH,
        verify=arm.verify,
    )
    assert r.status_code == 200
    assert arm.call("GET", path).status_code == 404


@pytest.mark.parametrize(
    ("props", "needle"),
    [
        (
            {"gitRepository": {"url": TUTORIAL_URL, "repositoryRef": {"branch": "main", "tag": "v1"}}},
            "exactly one of branch",
        ),
        ({"gitRepository": {"url": TUTORIAL_URL, "repositoryRef": {}}}, "exactly one of branch"),
        ({"gitRepository": {"url": "ftp://x/y", "repositoryRef": {"branch": "main"}}}, "must start with"),
        ({"kustomizations": {"a": {"dependsOn": ["b"]}}}, "depends on 'b'"),
        ({"kustomizations": {"a": {"dependsOn": ["b"]}, "b": {"dependsOn": ["a"]}}}, "cycle"),
        ({"scope": "galaxy"}, "scope must be"),
        ({"namespace": "Not_A_Name"}, "RFC 1123"),
        ({"configurationProtectedSettings": {"httpsKey": "not base64!"}}, "not valid base64"),
        (
            {"gitRepository": {"url": TUTORIAL_URL, "repositoryRef": {"branch": "main"}, "httpsUser": "u"}},
            "httpsKey",
        ),
        ({"bucket": {"url": "https://b", "bucketName": "x"}}, "exactly one source"),
    ],
)
def test_validation_errors_are_arm_shaped(arm: Arm, cluster_with_flux: str, props: dict, needle: str):
    path = f"{cluster_with_flux}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/invalid"
    r = arm.call("PUT", path, json=flux_body(**props))
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert set(error) == {"code", "message"} and needle in error["message"]
    assert arm.call("GET", path).status_code == 404


def test_malformed_json_is_a_400(arm: Arm, cluster_with_flux: str):
    path = f"{cluster_with_flux}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/x"
    r = arm.call("PUT", path, data=b"{not json", headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequestContent"


def test_second_write_while_one_runs_is_a_conflict(arm: Arm, cluster_with_flux: str, sandbox_thread):
    path = f"{cluster_with_flux}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/busy"
    sandbox_thread.call(
        lambda sb: sb.arm.faults.configure([{"method": "PUT", "path": "/busy$", "operation": "slow", "seconds": 1}])
    )
    try:
        first = arm.call("PUT", path, json=flux_body())
        second = arm.call("PATCH", path, json={"properties": {"suspend": True}})
    finally:
        sandbox_thread.call(lambda sb: sb.arm.faults.configure([]))
    assert first.status_code == 201 and second.status_code == 409
    assert arm.wait_op(first.headers["Azure-AsyncOperation"])["status"] == "Succeeded"


def test_extension_rules(arm: Arm, fresh_cluster: ClusterRef):
    ext = (
        arm.cluster_path(fresh_cluster.name, fresh_cluster.resource_group)
        + "/providers/Microsoft.KubernetesConfiguration/extensions"
    )
    r = arm.call("PUT", f"{ext}/flux", api=EXT_API, json={"properties": {"extensionType": "microsoft.flux"}})
    body = r.json()["properties"]
    assert (body["autoUpgradeMinorVersion"], body["releaseTrain"], body["scope"]) == (
        True,
        "Stable",
        {"cluster": {"releaseNamespace": "flux-system"}},
    )
    arm.wait_op(r.headers["Azure-AsyncOperation"])
    second = arm.call("PUT", f"{ext}/flux2", api=EXT_API, json={"properties": {"extensionType": "microsoft.flux"}})
    assert second.status_code == 409


# -- throttling with ARM's own numbers -----------------------------------------------------------


def test_token_bucket_numbers_and_time_scale():
    now = [0.0]
    throttle = Throttle(time_scale=10, clock=lambda: now[0])
    assert ARM_LIMITS["writes"] == BucketSpec(200, 10) and ARM_LIMITS["reads"] == BucketSpec(250, 25)
    decisions = [throttle.check("sub", "PUT") for _ in range(201)]
    assert all(d.allowed for d in decisions[:200]) and not decisions[200].allowed
    assert decisions[199].headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert float(decisions[200].headers["Retry-After"]) == pytest.approx(0.1)  # 10/s at 10x: one token per 10 ms
    assert throttle.check("sub", "DELETE").allowed  # deletes have their own bucket
    assert throttle.check("other-sub", "PUT").allowed  # and every subscription its own
    now[0] += 0.1
    assert throttle.check("sub", "PATCH").allowed


@pytest.fixture(scope="module")
def slow_refill_sandbox() -> Iterator[SandboxThread]:
    # ARM's numbers at 1/50 of real speed: a token refills every 2 s, so the SDK call below surely
    # meets an empty bucket even on a loaded machine.
    world = SandboxThread(SandboxOptions(emulator=EmulatorConfig(time_scale=0.02, operation_seconds=0.05)))
    world.start()
    yield world
    world.stop()


def test_429_with_retry_after_is_honoured_by_the_sdk(slow_refill_sandbox: SandboxThread):
    endpoints = slow_refill_sandbox.sandbox.endpoints
    raw = Arm(endpoints)
    remaining = []
    throttled = None
    session = requests.Session()
    url = raw.base + raw.cluster_path() + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations"
    for _ in range(600):
        r = session.get(url, params={"api-version": FLUX_API}, headers=AUTH, verify=raw.verify)
        if r.status_code == 429:
            throttled = r
            break
        remaining.append(int(r.headers["x-ms-ratelimit-remaining-subscription-reads"]))
    assert throttled is not None, "250 burst + 25/s should throttle a tight loop"
    assert len(remaining) >= 250 and remaining[0] == 249 and min(remaining) == 0
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert float(throttled.headers["Retry-After"]) > 0
    assert throttled.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"

    conn = ArmConnection(endpoint=endpoints.arm_url, credential=SandboxCredential(), ca_bundle=str(endpoints.ca_file))
    cluster = ClusterRef(endpoints.subscription_id, TUTORIAL_RG, ClusterType.CONNECTED, TUTORIAL_ARC)
    extensions = AzureExtensions(connection=conn)
    # However long the client took to build, its first request meets an empty bucket.
    slow_refill_sandbox.call(lambda sb: sb.arm.throttle.drain(endpoints.subscription_id, "reads"))
    assert extensions.list(cluster) == []  # the SDK waited and retried by itself

    log = slow_refill_sandbox.call(
        lambda sb: [(r.at, r.status, r.headers) for r in sb.arm.requests if r.path.endswith("/extensions")]
    )
    (at_429, status_429, headers_429), (at_ok, status_ok, _) = log[0], log[-1]
    assert (status_429, status_ok) == (429, 200)
    assert at_ok - at_429 >= float(headers_429["retry-after"]) * 0.9


def test_generated_deploy_key_survives_later_writes(arm: Arm, cluster_with_flux: str):
    path = f"{cluster_with_flux}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/sshgen"
    ssh = flux_body(
        gitRepository={
            "url": "ssh://git@github.com/fluxops-sandbox/private-gitops",
            "repositoryRef": {"branch": "main"},
        }
    )
    created = arm.call("PUT", path, json=ssh)
    public = created.json()["properties"]["repositoryPublicKey"]
    assert public.startswith("ssh-ed25519 ")
    arm.wait_op(created.headers["Azure-AsyncOperation"])
    patched = arm.call("PATCH", path, json={"properties": {"suspend": True}})
    arm.wait_op(patched.headers["Azure-AsyncOperation"])
    replaced = arm.call("PUT", path, json=ssh)
    arm.wait_op(replaced.headers["Azure-AsyncOperation"])
    assert arm.call("GET", path).json()["properties"]["repositoryPublicKey"] == public
    # a key of the user's own replaces the generated one, and nothing is published then
    own = {**ssh["properties"], "configurationProtectedSettings": {"sshPrivateKey": "a2V5"}}
    mine = arm.call("PUT", path, json={"properties": own})
    assert mine.json()["properties"]["repositoryPublicKey"] == ""
    arm.wait_op(mine.headers["Azure-AsyncOperation"])


def test_extension_patch_refuses_malformed_secrets(arm: Arm, fresh_cluster: ClusterRef):
    ext = (
        arm.cluster_path(fresh_cluster.name, fresh_cluster.resource_group)
        + "/providers/Microsoft.KubernetesConfiguration/extensions/flux"
    )
    arm.wait_op(
        arm.call("PUT", ext, api=EXT_API, json={"properties": {"extensionType": "microsoft.flux"}}).headers[
            "Azure-AsyncOperation"
        ]
    )
    bad = arm.call("PATCH", ext, api=EXT_API, json={"properties": {"configurationProtectedSettings": "x"}})
    assert bad.status_code == 400
    good = arm.call("PATCH", ext, api=EXT_API, json={"properties": {"configurationSettings": {"a.b": "c"}}})
    assert good.status_code == 202
