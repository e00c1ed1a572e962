"""What a pull request's own content can do to the checks: chains thousands long are walked without
recursion, and a new cycle through objects already in one is still the pull request's doing."""

from bot.preflight.run import Subject, preflight
from bot.preflight.tree import Tree
from tests.bot.preflight.test_depends_on import kustomization
from tests.bot.preflight.trees import NS

SUBJECT = Subject(NS, (("sync", "./sync"),), multi_tenancy=False)
#: far past Python's recursion limit (1,000)
LONG = 1500


def test_a_long_depends_on_chain_is_not_a_cycle_and_does_not_crash_the_check() -> None:
    docs = [kustomization(f"k{i}", *([f"k{i + 1}"] if i < LONG - 1 else [])) for i in range(LONG)]
    head = Tree({"sync/chain.yaml": "---\n".join(docs)})
    assert preflight(SUBJECT, head, Tree({"sync/a.yaml": kustomization("a")}), {}) == []


def test_a_long_cycle_is_one_finding() -> None:
    docs = [kustomization(f"k{i}", f"k{(i + 1) % LONG}") for i in range(LONG)]
    [finding] = preflight(SUBJECT, Tree({"sync/chain.yaml": "---\n".join(docs)}), Tree({}), {})
    assert finding.message.startswith("dependsOn cycle: Kustomization cluster-config/k0 -> ")
    assert finding.message.endswith("Kustomization cluster-config/k1499 -> Kustomization cluster-config/k0")


def test_a_long_chain_of_kustomization_directories_is_walked_to_its_end() -> None:
    files = {f"sync/d{i}/kustomization.yaml": f"resources:\n  - ../d{i + 1}\n" for i in range(LONG - 1)}
    files[f"sync/d{LONG - 1}/kustomization.yaml"] = "resources:\n  - gone.yaml\n"
    files["sync/kustomization.yaml"] = "resources:\n  - d0\n"
    [finding] = preflight(SUBJECT, Tree(files), Tree({"sync/a.yaml": "a: 1\n"}), {})
    assert finding.text == (
        f"sync/d{LONG - 1}/kustomization.yaml:2 — resources entry 'gone.yaml' names sync/d{LONG - 1}/gone.yaml, "
        "which does not exist"
    )


def test_a_new_cycle_through_objects_already_in_a_cycle_is_reported() -> None:
    # base: a <-> b (already broken); head adds c: a -> c -> b -> a, a second cycle the pull request introduces
    base = {"sync/a.yaml": kustomization("a", "b"), "sync/b.yaml": kustomization("b", "a")}
    head = {**base, "sync/a.yaml": kustomization("a", "b", "c"), "sync/c.yaml": kustomization("c", "b")}
    [finding] = preflight(SUBJECT, Tree(head), Tree(base), {})
    assert finding.text == (
        "sync/a.yaml:7 — dependsOn cycle: Kustomization cluster-config/a -> Kustomization cluster-config/b -> "
        "Kustomization cluster-config/a (also waiting in this cycle: Kustomization cluster-config/c)"
    )
    # the same cycles at the base and the head: nothing new
    assert preflight(SUBJECT, Tree(head), Tree(head), {}) == []
