from bot.preflight.findings import Finding
from bot.preflight.run import Subject, preflight
from tests.bot.preflight.trees import KUSTOMIZATIONS, NS, tree

SUBJECT = Subject(NS, KUSTOMIZATIONS, multi_tenancy=False)


def test_deleting_the_path_of_a_kustomization_fails_it() -> None:
    head = tree({"apps/staging/kustomization.yaml": None})
    assert preflight(SUBJECT, head, tree(), {}) == [
        Finding(
            "apps/staging", 0, "kustomization 'apps' builds ./apps/staging, which this pull request deletes", "path"
        )
    ]


def test_deleting_a_directory_a_resources_entry_names_is_found_at_that_entry() -> None:
    head = tree({"apps/base/podinfo/kustomization.yaml": None, "apps/base/podinfo/namespace.yaml": None})
    assert preflight(SUBJECT, head, tree(), {}) == [
        Finding(
            "apps/staging/kustomization.yaml",
            4,
            "resources entry '../base/podinfo' names apps/base/podinfo, which this pull request deletes",
            "path",
        )
    ]


def test_emptying_a_path_is_found() -> None:
    head = tree({"apps/base/podinfo/namespace.yaml": "# nothing here any more\n"})
    [finding] = preflight(SUBJECT, head, tree(), {})
    assert (finding.path, finding.line, finding.check) == ("apps/staging", 0, "path")
    assert finding.message.startswith("kustomization 'apps' builds ./apps/staging, which this pull request empties")


def test_a_new_kustomization_file_naming_nothing_is_found() -> None:
    head = tree({"infrastructure/kustomization.yaml": "resources:\n  - redis\n  - nginx\n"})
    assert preflight(SUBJECT, head, tree(), {}) == [
        Finding(
            "infrastructure/kustomization.yaml",
            3,
            "resources entry 'nginx' names infrastructure/nginx, which does not exist",
            "path",
        )
    ]


def test_a_path_without_a_kustomization_file_counts_every_yaml_below_it() -> None:
    base = {"deploy/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"}
    subject = Subject(NS, (("all", "./deploy"),), multi_tenancy=False)
    assert preflight(subject, tree({"deploy/a.yaml": "x: 1\n"}, base=base), tree(base=base), {})[0].message.endswith(
        "(with prune on, Flux deletes everything it applied from it)"
    )
    assert preflight(subject, tree({"deploy/b.yaml": "kind: ConfigMap\n"}, base=base), tree(base=base), {}) == []
