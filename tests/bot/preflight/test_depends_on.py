from bot.preflight.findings import Finding
from bot.preflight.run import Subject, preflight
from tests.bot.preflight.trees import NS, tree


def kustomization(name: str, *depends: str) -> str:
    text = f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\nspec:\n"
    if depends:
        text += "  dependsOn:\n" + "".join(f"    - name: {d}\n" for d in depends)
    return text


SUBJECT = Subject(NS, (("sync", "./sync"),), multi_tenancy=False)


def test_a_cycle_is_reported_once_at_the_depends_on_entry_of_its_first_object() -> None:
    base = {
        "sync/a.yaml": kustomization("a", "b"),
        "sync/b.yaml": kustomization("b"),
        "sync/c.yaml": kustomization("c"),
    }
    head = tree({"sync/b.yaml": kustomization("b", "c"), "sync/c.yaml": kustomization("c", "a")}, base=base)
    assert preflight(SUBJECT, head, tree(base=base), {}) == [
        Finding(
            "sync/a.yaml",
            7,
            "dependsOn cycle: Kustomization cluster-config/a -> Kustomization cluster-config/b -> "
            "Kustomization cluster-config/c -> Kustomization cluster-config/a",
            "depends-on",
        )
    ]


def test_an_object_depending_on_itself_is_a_cycle_and_a_chain_is_not() -> None:
    base = {"sync/a.yaml": kustomization("a")}
    [finding] = preflight(SUBJECT, tree({"sync/a.yaml": kustomization("a", "a")}, base=base), tree(base=base), {})
    assert (
        finding.text
        == "sync/a.yaml:7 — dependsOn cycle: Kustomization cluster-config/a -> Kustomization cluster-config/a"
    )
    chain = {"sync/b.yaml": kustomization("b", "a"), "sync/c.yaml": kustomization("c", "b", "a")}
    assert preflight(SUBJECT, tree(chain, base=base), tree(base=base), {}) == []


def test_objects_in_other_namespaces_and_kinds_do_not_close_a_cycle() -> None:
    base = {"sync/a.yaml": kustomization("a", "b")}
    other = kustomization("b", "a").replace("  name: b\n", "  name: b\n  namespace: elsewhere\n")
    assert preflight(SUBJECT, tree({"sync/b.yaml": other}, base=base), tree(base=base), {}) == []
