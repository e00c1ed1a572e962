from bot.preflight.findings import Finding
from bot.preflight.run import Subject, preflight
from bot.preflight.syntax import broken_yaml
from tests.bot.preflight.trees import KUSTOMIZATIONS, NS, tree

SUBJECT = Subject(NS, KUSTOMIZATIONS, multi_tenancy=True)


def test_a_file_that_does_not_parse_is_named_with_the_line_pyyaml_stopped_at() -> None:
    broken = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n  labels: {team: a\n"
    head = tree({"apps/base/podinfo/namespace.yaml": broken})
    assert preflight(SUBJECT, head, tree(), {}) == [
        Finding(
            "apps/base/podinfo/namespace.yaml",
            6,
            "YAML does not parse: did not find expected ',' or '}'",
            "yaml",
        )
    ]


def test_a_tab_indent_in_a_later_document_is_found_on_its_line() -> None:
    text = "a: 1\n---\nb:\n\t- 2\n"
    [finding] = broken_yaml(tree({"apps/base/podinfo/x.yaml": text}), ["apps/base/podinfo/x.yaml"])
    assert (finding.path, finding.line) == ("apps/base/podinfo/x.yaml", 4)
    assert finding.text.startswith("apps/base/podinfo/x.yaml:4 — YAML does not parse: ")


def test_broken_files_no_kustomization_builds_and_breakage_the_base_already_has_are_not_reported() -> None:
    head = tree({"docs/other.yaml": "x: [\n"})
    assert preflight(SUBJECT, head, tree(), {}) == []
    # docs/notes.yaml is broken on both sides: not this pull request's doing
    assert preflight(SUBJECT, tree(), tree(), {}) == []
