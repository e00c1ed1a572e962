from bot.preflight.findings import Finding
from bot.preflight.run import Subject, preflight
from tests.bot.preflight.trees import KUSTOMIZATIONS, NS, tree

CROSSING = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: podinfo
  namespace: podinfo
spec:
  interval: 10m
  path: ./apps/podinfo
  sourceRef:
    kind: GitRepository
    name: cluster-config
    namespace: cluster-config
"""
MESSAGE = (
    "Kustomization podinfo/podinfo takes its source from another namespace (GitRepository cluster-config/"
    "cluster-config); multi-tenancy is enforced on the cluster, so Flux refuses it: put the source in namespace "
    "'podinfo'"
)
ADDED = "apps/base/podinfo/kustomization.yaml"


def with_crossing(path: str = "apps/base/podinfo/sync.yaml", text: str = CROSSING) -> dict[str, str | None]:
    return {path: text, ADDED: "resources:\n  - namespace.yaml\n  - sync.yaml\n"}


def test_a_kustomization_whose_source_is_in_another_namespace_is_found_at_the_namespace_line() -> None:
    subject = Subject(NS, KUSTOMIZATIONS, multi_tenancy=True)
    assert preflight(subject, tree(with_crossing()), tree(), {}) == [
        Finding("apps/base/podinfo/sync.yaml", 12, MESSAGE, "multi-tenancy")
    ]


def test_without_multi_tenancy_enforced_it_is_allowed() -> None:
    subject = Subject(NS, KUSTOMIZATIONS, multi_tenancy=False)
    assert preflight(subject, tree(with_crossing()), tree(), {}) == []


def test_the_object_namespace_comes_from_a_kustomization_file_then_the_configuration() -> None:
    subject = Subject(NS, KUSTOMIZATIONS, multi_tenancy=True)
    unnamespaced = CROSSING.replace("  namespace: podinfo\n", "")
    # no namespace anywhere: the configuration's (cluster-config), the same as the source's: allowed
    assert preflight(subject, tree(with_crossing(text=unnamespaced)), tree(), {}) == []
    # a kustomization.yaml's namespace: wins over the object's own
    changes = with_crossing(text=unnamespaced)
    changes[ADDED] = "namespace: team-a\nresources:\n  - namespace.yaml\n  - sync.yaml\n"
    [finding] = preflight(subject, tree(changes), tree(), {})
    assert finding.line == 11 and "Kustomization team-a/podinfo" in finding.message


def test_a_helm_release_chart_source_in_another_namespace_is_found_unless_azure_manages_it() -> None:
    release = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  chart:
    spec:
      chart: podinfo
      sourceRef:
        kind: HelmRepository
        name: podinfo
        namespace: flux-system
"""
    subject = Subject(NS, KUSTOMIZATIONS, multi_tenancy=True)
    [finding] = preflight(subject, tree(with_crossing(text=release)), tree(), {})
    assert (finding.path, finding.line) == ("apps/base/podinfo/sync.yaml", 13)
    assert finding.message.startswith("HelmRelease podinfo/podinfo takes its source from another namespace")
    managed = release.replace(
        "  namespace: podinfo\n",
        "  namespace: podinfo\n  annotations:\n    clusterconfig.azure.com/use-managed-source: 'true'\n",
        1,
    )
    assert preflight(subject, tree(with_crossing(text=managed)), tree(), {}) == []
