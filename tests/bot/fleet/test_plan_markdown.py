"""The plan comment: golden texts, escaping of whatever a fleet file or Azure says, and the length cap."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.fleet import (
    Action,
    ActualCluster,
    ClusterPlan,
    ConfigChange,
    FieldDiff,
    FleetError,
    KustomizationDiff,
    Plan,
    load_fleet,
    make_plan,
)
from bot.git_host import PLAN_MARKER
from bot.models import ClusterRef, ClusterType, FluxConfigPatch, RepositoryRef
from bot.render.plan_markdown import DIGEST_PREFIX, MAX_CHARS, code, render_fleet_error, render_plan, text
from tests.golden_files import assert_golden

from .fixtures import AKS, ARC, PROD, SUB, TUTORIAL, extension, fleet, running, tutorial, tutorial_spec

HEAD_SHA = "4f1bdad4d0a54b939a5e3d52c51464f67e474fcf"
STAGING = ClusterRef(SUB, "rg-staging", ClusterType.MANAGED, "aks-staging")


def _fleet_plan() -> Plan:
    arc = tutorial(**{"./apps/staging": "./apps/production"}).replace(
        "  demo-arc:\n", "  demo-arc:\n    extension:\n      settings:\n        helm-controller.detectDrift: true\n"
    )
    desired = fleet(
        arc,
        TUTORIAL.replace("demo-arc", "demo-aks"),
        tutorial(**{"namespace: cluster-config": "namespace: flux-system"}).replace("demo-arc", "prod-weu"),
        TUTORIAL.replace("demo-arc", "staging"),
        TUTORIAL.replace("demo-arc", "lost-cluster"),
    )
    hand_made = replace(tutorial_spec(), name="hand-made")
    old = replace(tutorial_spec(), name="old-config")
    actual = {
        "demo-arc": running(
            "demo-arc",
            ARC,
            tutorial_spec(),
            hand_made,
            old,
            ext=extension(ARC, ("helm-controller.detectDrift", "false"), ("multiTenancy.enforce", "true")),
        ),
        "demo-aks": ActualCluster("demo-aks", AKS),
        "prod-weu": running("prod-weu", PROD, tutorial_spec()),
        "staging": running("staging", STAGING, tutorial_spec()),
    }
    return make_plan(
        desired,
        actual,
        managed=[("demo-arc", "cluster-config"), ("demo-arc", "old-config")],
        unresolved={"lost-cluster": "no cluster 'lost-cluster' in the inventory — `/flux clusters` lists them"},
    )


def test_golden_plan_with_every_kind_of_change():
    plan = _fleet_plan()
    body = render_plan(
        plan,
        repo="contoso/fleet",
        number=42,
        head_sha=HEAD_SHA,
        locks={"demo-aks": "contoso/fleet#41"},
        approved=False,
        note="Merging this pull request applies the plan (apply_on_merge).",
    )
    assert body.startswith(PLAN_MARKER + "\n")
    assert f"{DIGEST_PREFIX}{plan.digest} -->" in body
    assert_golden("plan/fleet.md", body)


def test_golden_plan_that_can_be_applied():
    desired = fleet(TUTORIAL.replace("demo-arc", "demo-aks"), tutorial(**{"./apps/staging": "./apps/production"}))
    actual = {"demo-aks": ActualCluster("demo-aks", AKS), "demo-arc": running("demo-arc", ARC, tutorial_spec())}
    body = render_plan(make_plan(desired, actual), repo="contoso/fleet", number=7, head_sha=HEAD_SHA, approved=True)
    assert "**To apply**, comment `/flux apply` once the pull request is approved (it is approved)." in body
    assert_golden("plan/apply.md", body)


def test_golden_nothing_to_apply():
    plan = make_plan(fleet(TUTORIAL), {"demo-arc": running("demo-arc", ARC, tutorial_spec())})
    body = render_plan(plan, repo="contoso/fleet", number=7, head_sha=HEAD_SHA)
    assert "Nothing to apply" in body
    assert_golden("plan/empty.md", body)


def test_golden_fleet_files_that_do_not_load():
    with pytest.raises(FleetError) as caught:
        load_fleet(
            {
                "clusters/demo.yaml": "apiVersion: fluxops.io/v1\nkind: Fleet\nclusters:\n"
                "  demo-arc:\n    extenson: {}\n",
                "clusters/other.yaml": "kind: Kustomization\n",
            }
        )
    body = render_fleet_error(caught.value, repo="contoso/fleet", number=7, head_sha=HEAD_SHA)
    assert body.startswith(PLAN_MARKER)
    assert_golden("plan/invalid.md", body)


HOSTILE = "<img src=x onerror=alert(1)> @contoso/admins | `x` [link](https://evil.example) *bold* _it_"


def _table_rows(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith("| ")]


def test_hostile_names_and_messages_are_inert():
    cluster = ClusterPlan(
        key=HOSTILE,
        label=HOSTILE,
        cluster=ARC,
        configs=(
            ConfigChange(
                Action.UPDATE,
                HOSTILE,
                fields=(FieldDiff(HOSTILE, HOSTILE, "line1\nline2 | @here"),),
                kustomizations=(KustomizationDiff(Action.DELETE, HOSTILE, warnings=(HOSTILE,)),),
                blocked=(HOSTILE,),
            ),
        ),
        unmanaged=(HOSTILE,),
    )
    errored = ClusterPlan(key="x", label="x", error=HOSTILE + " ghp_" + "a" * 36)
    body = render_plan(
        Plan((cluster, errored)),
        repo="contoso/fleet",
        number=1,
        head_sha=HEAD_SHA,
        locks={HOSTILE: "javascript:alert(1)"},
        note=HOSTILE,
    )
    outside_code = re.sub(r"`[^`]*`", "", body)  # code spans show their text literally
    assert "<img" not in outside_code and "<" not in outside_code.replace("<!--", "").replace("<sub>", "").replace(
        "</sub>", ""
    )
    assert body.count("<!--") == 2  # the marker and the digest: nothing else opens a comment
    assert "@contoso" not in outside_code  # outside code spans every @ is defused
    assert "](https://evil.example)" not in outside_code
    assert "](javascript:" not in body
    assert "ghp_" + "a" * 36 not in body
    for row in _table_rows(body):  # every row has exactly three cells
        assert len(re.findall(r"(?<!\\)\|", row)) == 4, row


def test_escaping_helpers():
    assert text("<b>@team</b> *x*") == "&lt;b&gt;@\u200dteam&lt;/b&gt; \\*x\\*"
    assert text("see owner/repo#12\nand !3") == "see owner/repo\\#\u200d12 and !\u200d3"  # no live cross-reference
    assert code("a|b`c") == "`a\\|b'c`"
    assert code(None) == "—"
    assert code("") == "(empty)"
    assert code("x" * 1000).endswith("more characters)`")


def test_a_lock_given_as_a_url_is_a_link():
    plan = make_plan(fleet(TUTORIAL), {"demo-arc": running("demo-arc", ARC)})
    body = render_plan(
        plan, repo="o/r", number=2, head_sha=HEAD_SHA, locks={"demo-arc": "https://github.com/o/r/pull/1"}
    )
    assert "🔒 Locked by [https://github.com/o/r/pull/1](https://github.com/o/r/pull/1)" in body
    assert "is locked by another pull request" in body


def test_a_huge_plan_stays_under_the_limit_and_says_what_was_left_out():
    clusters = []
    for i in range(400):
        rows = tuple(FieldDiff(f"kustomizations.k{j}.path", f"./old/{j}" * 5, f"./new/{j}" * 5) for j in range(30))
        clusters.append(
            ClusterPlan(
                key=f"cluster-{i:03}",
                label=f"cluster-{i:03}",
                cluster=ARC,
                configs=(ConfigChange(Action.UPDATE, "apps", fields=rows, patch=FluxConfigPatch(suspend=True)),),
            )
        )
    body = render_plan(Plan(tuple(clusters)), repo="o/r", number=3, head_sha=HEAD_SHA)
    assert "comment `/flux apply`" in body
    assert len(body) <= MAX_CHARS
    assert "more clusters left out** to keep this comment under 60,000 characters" in body
    named = re.search(r"more clusters left out\*\* .*?: (.*)", body)
    assert named is not None and re.search(r"`cluster-\d+`, .* and \d+ more$", named.group(1))
    assert body.rstrip().endswith("updated on every push</sub>")


def test_one_huge_cluster_is_clipped_at_a_line():
    rows = tuple(FieldDiff(f"kustomizations.k{j}.path", "./old", "./new") for j in range(3000))
    plan = Plan((ClusterPlan("big", "big", ARC, configs=(ConfigChange(Action.UPDATE, "apps", fields=rows),)),))
    body = render_plan(plan, repo="o/r", number=3, head_sha=HEAD_SHA)
    assert len(body) <= MAX_CHARS
    assert "more lines of this cluster left out (too long)." in body
    assert "\n\n… " in body  # after a blank line, so the table ends before the note


def test_typed_diff_values_are_shown_as_a_fleet_file_writes_them():
    fields = (
        FieldDiff("suspend", False, True),
        FieldDiff("source.ref", RepositoryRef(branch="main"), RepositoryRef(tag="v2.0.0")),
        FieldDiff("source.interval", 600, 5400),
        FieldDiff("source.provider", "Generic", "Azure"),
    )
    kustomization = KustomizationDiff(
        Action.CREATE,
        "apps",
        (
            FieldDiff("path", None, ""),
            FieldDiff("dependsOn", None, ("infra", "crds")),
            FieldDiff("substitute", None, (("env", "prod"),)),
            FieldDiff("retryInterval", None, None),
        ),
    )
    change = ConfigChange(Action.UPDATE, "cluster-config", fields, (kustomization,), patch=FluxConfigPatch())
    body = render_plan(
        Plan((ClusterPlan("demo-arc", "demo-arc", ARC, configs=(change,)),)), repo="o/r", number=1, head_sha=HEAD_SHA
    )
    rows = _table_rows(body)
    assert "| `suspend` | `false` | `true` |" in rows
    assert "| `source.ref` | `branch main` | `tag v2.0.0` |" in rows
    assert "| `source.interval` | `10m` | `1h30m` |" in rows
    assert "| `source.provider` | `generic` | `azure` |" in rows
    assert "| `kustomizations.apps.path` | — | `(source root)` |" in rows
    assert "| `kustomizations.apps.dependsOn` | — | `[infra, crds]` |" in rows
    assert "| `kustomizations.apps.substitute` | — | `{env: prod}` |" in rows
    assert "| `kustomizations.apps.retryInterval` | — | — |" in rows
