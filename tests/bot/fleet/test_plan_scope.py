"""make_plan with the worker's scope check: a configuration whose credential may not go where the fleet file
sends it is blocked, naming the file, line and key; nothing of it is applied."""

from __future__ import annotations

from bot.commands import CredentialRefs
from bot.fleet import CreateConfig, UpdateConfig, make_plan
from bot.models import ClusterRef

from .fixtures import ARC, fleet, running, tutorial, tutorial_spec
from .test_sources import BUCKET, BUCKET_YAML, _cluster, _on_cluster

TOKEN = {"branch: main": "branch: main\n          httpsUser: git\n          httpsKeyRef: gh-token"}


def refuse_all(cluster: ClusterRef, name: str, url: str, refs: CredentialRefs, moving: bool) -> tuple[str, str] | None:
    if moving:
        return "url", f"'{name}' holds credential 'gh-token', which would follow the URL"
    return ("httpsKeyRef", f"credential '{refs.https_key}' may not be used for {url}") if refs.https_key else None


def test_a_credential_out_of_scope_blocks_the_create_naming_file_and_key():
    plan = make_plan(fleet(tutorial(**TOKEN)), {"demo-arc": running("demo-arc", ARC)}, scope=refuse_all)
    (cluster,) = plan.clusters
    assert cluster.status == "blocked" and not plan.can_apply
    [(name, reason)] = cluster.blocked
    assert name == "cluster-config"
    assert reason.startswith("clusters/fleet.yaml:4: ") and ".source.httpsKeyRef: credential 'gh-token'" in reason
    assert "configurations.cluster-config.source.httpsKeyRef" in reason
    assert not [op for op in plan.operations() if isinstance(op, CreateConfig)]


def test_a_create_without_credentials_is_not_checked():
    plan = make_plan(fleet(tutorial()), {"demo-arc": running("demo-arc", ARC)}, scope=refuse_all)
    assert plan.can_apply


def test_a_new_url_for_a_configuration_holding_a_credential_is_blocked():
    moved = tutorial(**{"https://github.com/Azure/gitops-flux2-kustomize-helm-mt": "https://github.com/evil/repo"})
    plan = make_plan(fleet(moved), {"demo-arc": running("demo-arc", ARC, tutorial_spec())}, scope=refuse_all)
    [(_, reason)] = plan.clusters[0].blocked
    assert ".source.url: 'cluster-config' holds credential" in reason
    assert not [op for op in plan.operations() if isinstance(op, UpdateConfig)]


def test_a_new_bucket_for_a_configuration_holding_a_secret_key_is_blocked():
    moved = _cluster(BUCKET_YAML.replace("contoso-flux", "contoso-other"))
    actual = {"demo-arc": running("demo-arc", ARC, _on_cluster(BUCKET))}
    plan = make_plan(fleet(moved), actual, scope=refuse_all)
    [(_, reason)] = plan.clusters[0].blocked
    assert ".source.url: 'cluster-config' holds credential" in reason
    assert not [op for op in plan.operations() if isinstance(op, UpdateConfig)]
