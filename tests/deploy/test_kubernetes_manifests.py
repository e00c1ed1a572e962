"""deploy/kubernetes rendered by the real `kubectl kustomize`, every object checked against the Kubernetes schemas
(kubernetes-validate ships them: no network), and the properties that keep fluxops up and locked down; the Flux
example (deploy/flux) checked field by field, since no schema here knows Flux's kinds."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.config_file import read_config_file
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
FLUX = ROOT / "deploy" / "flux"
#: the Kubernetes version the manifests are validated against (AKS's supported versions start about here)
KUBERNETES_VERSION = "1.32"
#: what `kubectl kustomize deploy/kubernetes` must render, and every overlay
TARGETS = ["", "base", "overlays/production", "overlays/small"]
PROCESSES = ("web", "worker", "beat")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: CRDs the overlays use, checked by hand below (no Kubernetes schema knows them)
CUSTOM_KINDS = {("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass")}
#: variables the containers set that are not fluxops settings (REMAP_SIGTERM: billiard's, for Celery's soft shutdown)
NOT_SETTINGS = {
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "HOME",
    "REDIS_PASSWORD",
    "REDISCLI_AUTH",
    "REMAP_SIGTERM",
}

Obj = dict[str, Any]


@cache
def render(target: str) -> tuple[Obj, ...]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is not installed: ./scripts/bootstrap installs it (Debian's kubernetes-client)"
    out = subprocess.run(
        [kubectl, "kustomize", str(KUSTOMIZATIONS[target])], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, f"kubectl kustomize {target or '.'} failed ({kustomize_version()}):\n{out.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


KUSTOMIZATIONS = {target: KUBERNETES / target for target in TARGETS}


@cache
def kustomize_version() -> str:
    """The kustomize inside kubectl: the overlays need v4 or later (`patches` with targets, directories as
    resources); kubectl 1.20 and older embed v2.0.3, which reads neither."""
    out = subprocess.run(["kubectl", "version", "--client"], capture_output=True, text=True, check=False, timeout=60)
    found = re.search(r"Kustomize Version: (v[\d.]+)", out.stdout)
    return f"kustomize {found.group(1)}" if found else "kustomize v2 (kubectl before 1.21), too old for these overlays"


def test_kubectl_embeds_a_kustomize_new_enough():
    version = kustomize_version()
    assert (found := re.search(r"v(\d+)\.", version)) and int(found.group(1)) >= 4, version


@cache
def cluster_settings() -> dict[str, str]:
    """The ConfigMap the Flux example substitutes ${FLUXOPS_...} values from."""
    (settings,) = [doc for doc in load_yaml(FLUX / "fluxops-cluster-settings.yaml") if doc["kind"] == "ConfigMap"]
    return {key: str(value) for key, value in settings["data"].items()}


def substituted(objects: tuple[Obj, ...]) -> list[Obj]:
    """``objects`` as Flux's postBuild substitution leaves them, from the example settings."""
    text = yaml.safe_dump_all(objects)
    values = cluster_settings()
    unknown = sorted(set(VARIABLE.findall(text)) - set(values))
    assert not unknown, f"${{...}} the Flux example's settings do not define: {unknown}"
    return [doc for doc in yaml.safe_load_all(VARIABLE.sub(lambda m: values[m.group(1)], text)) if doc]


def load_yaml(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def of_kind(objects: tuple[Obj, ...] | list[Obj], kind: str) -> dict[str, Obj]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def workloads(objects: tuple[Obj, ...] | list[Obj]) -> Iterator[Obj]:
    yield from (obj for obj in objects if obj["kind"] in ("Deployment", "StatefulSet"))


def process(objects: tuple[Obj, ...] | list[Obj], name: str) -> Obj:
    return of_kind(objects, "Deployment")[f"fluxops-{name}"]


def container(deployment: Obj) -> Obj:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def settings_names() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def test_every_overlay_is_rendered_here():
    overlays = {path.parent.name for path in (KUBERNETES / "overlays").glob("*/kustomization.yaml")}
    assert {"production", "small"} <= overlays
    assert {f"overlays/{name}" for name in overlays} <= set(TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_renders_and_every_object_matches_the_kubernetes_schemas(target: str):
    objects = substituted(render(target))
    assert objects
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']} in {target or 'deploy/kubernetes'}"
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            pytest.fail(f"{where}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            pytest.fail(f"{where}: {exc.message}")
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == "fluxops", where


def test_the_root_renders_the_base():
    assert render("") == render("base")


@pytest.mark.parametrize("target", TARGETS)
def test_web_has_two_replicas_probes_a_service_and_a_disruption_budget(target: str):
    objects = render(target)
    web = process(objects, "web")
    assert web["spec"]["replicas"] == 2
    pod_labels = web["spec"]["template"]["metadata"]["labels"]
    assert selects(web["spec"]["selector"]["matchLabels"], pod_labels)
    main = container(web)
    (http,) = main["ports"]
    assert http == {"name": "http", "containerPort": 8080, "protocol": "TCP"}
    assert {"name": "PORT", "value": "8080"} in main["env"]
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}

    service = of_kind(objects, "Service")["fluxops-web"]
    assert selects(service["spec"]["selector"], pod_labels)
    assert [port["targetPort"] for port in service["spec"]["ports"]] == ["http"]

    budgets = [pdb for pdb in of_kind(objects, "PodDisruptionBudget").values()]
    (budget,) = [pdb for pdb in budgets if selects(pdb["spec"]["selector"]["matchLabels"], pod_labels)]
    assert budget["spec"]["minAvailable"] == 1


@pytest.mark.parametrize("target", TARGETS)
def test_web_worker_and_beat_run_the_procfile_lines_from_one_image(target: str):
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    objects = render(target)
    images = set()
    for name in PROCESSES:
        main = container(process(objects, name))
        assert main["command"] == shlex.split(procfile[name]), name
        assert "args" not in main
        images.add(main["image"])
    assert images == {"${FLUXOPS_IMAGE}"}


@pytest.mark.parametrize("target", TARGETS)
def test_beat_runs_twice_with_its_leader_lease(target: str):
    beat = process(render(target), "beat")
    assert beat["spec"]["replicas"] == 2
    env = {item["name"]: item.get("value") for item in container(beat)["env"]}
    ttl = float(env["FLUXOPS_BEAT_LOCK_TTL"])
    assert Settings(FLUXOPS_BEAT_LOCK_TTL=env["FLUXOPS_BEAT_LOCK_TTL"]).beat_lock_ttl == ttl > 0
    # the pods may stop for a whole grace period before a standby beat can take the lease
    assert beat["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] <= 60

    from workers.main import app

    assert app.conf.beat_scheduler == "workers.beat_leader:LeaderScheduler"


@pytest.mark.parametrize("target", TARGETS)
def test_a_stopping_worker_hands_its_jobs_back_within_its_grace_period(target: str):
    worker = process(render(target), "worker")
    env = {item["name"]: item.get("value") for item in container(worker)["env"]}
    # Celery's soft-then-cold shutdown on SIGTERM (tests/scenarios/replicas/test_graceful_stop.py runs it)
    assert env["REMAP_SIGTERM"] == "SIGQUIT"
    soft = Settings(**{k: v for k, v in env.items() if k.startswith("FLUXOPS_")}).worker_soft_shutdown_timeout
    assert 0 < soft < worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] - 10


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_is_locked_down_and_sized(target: str):
    for workload in workloads(render(target)):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for each in pod["containers"] + pod.get("initContainers", []):
            where = f"{workload['metadata']['name']}/{each['name']}"
            security = each["securityContext"]
            assert security["runAsNonRoot"] is True, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for kind in ("requests", "limits"):
                assert set(each["resources"][kind]) == {"cpu", "memory"}, where


@pytest.mark.parametrize("target", TARGETS)
def test_fluxops_pods_use_workload_identity_and_the_settings_fluxops_knows(target: str):
    objects = render(target)
    (account,) = of_kind(objects, "ServiceAccount").values()
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"] == "${FLUXOPS_AZURE_CLIENT_ID}"
    env_config = of_kind(objects, "ConfigMap")
    (literals,) = [cm["data"] for name, cm in env_config.items() if name.startswith("fluxops-env")]
    known = settings_names() | NOT_SETTINGS
    assert set(literals) <= known
    assert literals["AZURE_SUBSCRIPTION_IDS"] == "${FLUXOPS_SUBSCRIPTION_IDS}"
    for name in PROCESSES:
        deployment = process(objects, name)
        pod = deployment["spec"]["template"]
        assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
        assert pod["spec"]["serviceAccountName"] == account["metadata"]["name"]
        main = container(deployment)
        assert {item["name"] for item in main["env"]} <= known
        sources = [next(iter(source.values()))["name"] for source in main["envFrom"]]
        assert sources[0] in env_config and sources[1] == "fluxops-secrets"
        # FLUXOPS_CONFIG points into the mounted policy file
        mounts = {mount["mountPath"]: mount["name"] for mount in main["volumeMounts"]}
        assert literals["FLUXOPS_CONFIG"].startswith(next(path for path, v in mounts.items() if v == "config") + "/")


def test_the_shipped_policy_file_parses():
    config = read_config_file(KUBERNETES / "base" / "config" / "fluxops.yaml")
    assert config is not None and config.roles == []


@pytest.mark.parametrize("target", TARGETS)
def test_no_secret_value_in_the_manifests(target: str):
    objects = render(target)
    assert not of_kind(objects, "Secret"), "secrets come from a Secret made outside the manifests, or Key Vault"
    secretish = re.compile(r"TOKEN|SECRET|PASSWORD|PRIVATE_KEY|ENCRYPTION_KEY|AUTH|REDIS_URL")
    for workload in workloads(objects):
        for each in workload["spec"]["template"]["spec"]["containers"]:
            for item in each.get("env", []):
                if not secretish.search(item["name"]):
                    continue
                # from a Secret, or built only from values that are (Kubernetes expands $(VAR))
                assert "valueFrom" in item or re.fullmatch(r"[^:@]*://:\$\(REDIS_PASSWORD\)@[^@]+", item["value"]), item
    for cm in of_kind(objects, "ConfigMap").values():
        assert not any(secretish.search(key) for key in cm["data"]), cm["metadata"]["name"]


def test_the_example_secret_holds_placeholders_only():
    (secret,) = load_yaml(KUBERNETES / "examples" / "secret.example.yaml")
    kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
    assert secret["metadata"]["name"] == "fluxops-secrets" and "data" not in secret
    for key, value in secret["stringData"].items():
        assert key in settings_names() | {"REDIS_PASSWORD"}, key
        assert re.fullmatch(r"<[^<>]+>", value), f"{key} is not a <placeholder>"
    # no other file under deploy/ is a Secret
    for path in [*KUBERNETES.rglob("*.yaml"), *FLUX.rglob("*.yaml")]:
        if path.name != "secret.example.yaml":
            assert all(doc.get("kind") != "Secret" for doc in load_yaml(path)), path


def egress_rules(objects: tuple[Obj, ...], pod_labels: dict[str, str]) -> list[Obj]:
    return [
        rule
        for policy in of_kind(objects, "NetworkPolicy").values()
        if selects(policy["spec"]["podSelector"]["matchLabels"], pod_labels)
        for rule in policy["spec"].get("egress", [])
    ]


@pytest.mark.parametrize("target", TARGETS)
def test_network_policies_deny_by_default_and_open_only_what_fluxops_needs(target: str):
    objects = render(target)
    policies = of_kind(objects, "NetworkPolicy")
    deny = policies["fluxops-default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny and "egress" not in deny
    for workload in workloads(objects):
        assert selects(deny["podSelector"]["matchLabels"], workload["spec"]["template"]["metadata"]["labels"])

    # web: its port (receivers, probes, /metrics); worker and beat: only their own /metrics port
    for name, port in (("web", 8080), ("worker", 9808), ("beat", 9809)):
        labels = process(objects, name)["spec"]["template"]["metadata"]["labels"]
        ingress = [
            rule
            for policy in policies.values()
            if selects(policy["spec"]["podSelector"]["matchLabels"], labels)
            for rule in policy["spec"].get("ingress", [])
        ]
        assert ingress == [{"ports": [{"protocol": "TCP", "port": port}]}], name
        ports = {
            p["containerPort"]
            for c in process(objects, name)["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        assert ports == {port}, name

    for name in PROCESSES:
        labels = process(objects, name)["spec"]["template"]["metadata"]["labels"]
        rules = egress_rules(objects, labels)
        ports = {(port["protocol"], port["port"]) for rule in rules for port in rule["ports"]}
        assert {("UDP", 53), ("TCP", 53), ("TCP", 443)} <= ports, name
        dns = next(rule for rule in rules if {"protocol": "UDP", "port": 53} in rule["ports"])
        assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
        # nothing but DNS, HTTPS and the overlay's Redis
        redis_ports = (
            {6379} if target == "overlays/small" else {6380, 10000} if target == "overlays/production" else set()
        )
        assert ports == {("UDP", 53), ("TCP", 53), ("TCP", 443)} | {("TCP", port) for port in redis_ports}, name


def test_small_runs_redis_with_aof_and_noeviction_reachable_only_from_fluxops():
    objects = render("overlays/small")
    redis = of_kind(objects, "StatefulSet")["fluxops-redis"]
    main = container(redis)
    args = main["args"]
    options = dict(zip(args[::2], args[1::2], strict=True))
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] == "everysec"
    assert options["--maxmemory-policy"] == "noeviction"
    assert options["--requirepass"] == "$(REDIS_PASSWORD)"
    (claim,) = redis["spec"]["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": options["--dir"]} in main["volumeMounts"]

    service = of_kind(objects, "Service")["fluxops-redis"]
    pod_labels = redis["spec"]["template"]["metadata"]["labels"]
    assert selects(service["spec"]["selector"], pod_labels)
    for name in PROCESSES:
        env = {item["name"]: item for item in container(process(objects, name))["env"]}
        names = list(env)
        assert names.index("REDIS_PASSWORD") < names.index("REDIS_URL"), "Kubernetes expands only earlier variables"
        assert env["REDIS_URL"]["value"] == f"redis://:$(REDIS_PASSWORD)@{service['metadata']['name']}:6379/0"
    (ingress_policy,) = [
        p
        for p in of_kind(objects, "NetworkPolicy").values()
        if selects(p["spec"]["podSelector"]["matchLabels"], pod_labels)
        and p["metadata"]["name"] != "fluxops-default-deny"
    ]
    (rule,) = ingress_policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 6379}]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "fluxops"}}}]
    assert ingress_policy["spec"]["policyTypes"] == ["Ingress", "Egress"] and "egress" not in ingress_policy["spec"]


def test_production_reads_its_secrets_from_key_vault_with_workload_identity():
    objects = render("overlays/production")
    (spc,) = [obj for obj in objects if obj["kind"] == "SecretProviderClass"]
    spec = spc["spec"]
    assert set(spec) == {"provider", "parameters", "secretObjects"}
    assert spec["provider"] == "azure"
    parameters = spec["parameters"]
    assert set(parameters) == {"usePodIdentity", "clientID", "keyvaultName", "tenantId", "objects"}
    assert parameters["usePodIdentity"] == "false"
    assert parameters["clientID"] == "${FLUXOPS_AZURE_CLIENT_ID}"  # the ServiceAccount's identity
    listed = {yaml.safe_load(item)["objectName"] for item in yaml.safe_load(parameters["objects"])["array"]}
    (synced,) = spec["secretObjects"]
    assert synced["secretName"] == "fluxops-secrets" and synced["type"] == "Opaque"
    assert {item["objectName"] for item in synced["data"]} == listed
    keys = {item["key"] for item in synced["data"]}
    assert keys <= settings_names()
    assert {"REDIS_URL", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "FLUXOPS_KEY_ENCRYPTION_KEY"} <= keys

    for name in PROCESSES:
        deployment = process(objects, name)
        volumes = {volume["name"]: volume for volume in deployment["spec"]["template"]["spec"]["volumes"]}
        csi = volumes["secrets-store"]["csi"]
        assert csi["driver"] == "secrets-store.csi.k8s.io" and csi["readOnly"] is True
        assert csi["volumeAttributes"] == {"secretProviderClass": spc["metadata"]["name"]}
        assert any(mount["name"] == "secrets-store" for mount in container(deployment)["volumeMounts"])
        assert all(item["name"] != "REDIS_URL" for item in container(deployment)["env"]), "from Key Vault"
    assert not of_kind(objects, "StatefulSet"), "Redis is Azure Cache for Redis"


def test_flux_deploys_fluxops_from_its_own_repository():
    docs = {doc["kind"]: doc for path in sorted(FLUX.glob("*.yaml")) for doc in load_yaml(path)}
    assert set(docs) == {"GitRepository", "Kustomization", "ConfigMap"}
    source, kustomization, settings = docs["GitRepository"], docs["Kustomization"], docs["ConfigMap"]

    duration = re.compile(r"(\d+(ms|s|m|h))+")
    assert source["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert set(source["spec"]) <= {"interval", "url", "ref", "ignore", "secretRef", "timeout", "provider"}
    assert duration.fullmatch(source["spec"]["interval"])
    assert source["spec"]["url"].startswith("https://")
    assert len(source["spec"]["ref"]) == 1 and set(source["spec"]["ref"]) <= {
        "branch",
        "tag",
        "semver",
        "commit",
        "name",
    }

    assert kustomization["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    spec = kustomization["spec"]
    assert set(spec) <= {"interval", "retryInterval", "timeout", "sourceRef", "path", "prune", "wait", "postBuild"}
    for key in ("interval", "retryInterval", "timeout"):
        assert duration.fullmatch(spec[key]), key
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}
    assert kustomization["metadata"]["namespace"] == source["metadata"]["namespace"] == "flux-system"
    assert spec["prune"] is True and spec["wait"] is True
    # the path is a directory `kubectl kustomize` renders here, relative to the repository root
    path = spec["path"].removeprefix("./")
    assert path.removeprefix("deploy/kubernetes/").rstrip("/") in TARGETS
    assert (ROOT / path / "kustomization.yaml").is_file()
    # its postBuild settings are this ConfigMap, in the Kustomization's namespace, and define every variable
    assert spec["postBuild"] == {"substituteFrom": [{"kind": "ConfigMap", "name": settings["metadata"]["name"]}]}
    assert settings["metadata"]["namespace"] == kustomization["metadata"]["namespace"]
    kubernetes_validate.validate(settings, KUBERNETES_VERSION, strict=True)
    used = set(VARIABLE.findall(yaml.safe_dump_all(render(path.removeprefix("deploy/kubernetes/")))))
    assert used == set(settings["data"]), "every setting is used, and every variable is set"


def test_the_azure_role_grants_what_fluxops_calls_and_nothing_broad():
    role = json.loads((ROOT / "deploy" / "azure" / "fluxops-role.json").read_text())
    actions = set(role["Actions"])
    assert not any("*" in action for action in actions), "every action named"
    assert role["DataActions"] == role["NotActions"] == role["NotDataActions"] == []
    for resource in ("fluxConfigurations", "extensions"):
        for verb in ("read", "write", "delete", "operations/read"):
            assert f"Microsoft.KubernetesConfiguration/{resource}/{verb}" in actions
    for cluster in ("Microsoft.ContainerService/managedClusters", "Microsoft.Kubernetes/connectedClusters"):
        assert {f"{cluster}/read", f"{cluster}/listClusterUserCredential/action"} <= actions
    assert not any(action.endswith("/write") for action in actions if "KubernetesConfiguration" not in action)
