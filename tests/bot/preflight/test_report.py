"""The preflight comment and statuses: groups of clusters with the same findings, rendered through the one
document model to Markdown (golden file), and the status line that names the first problem."""

from bot.preflight.findings import Finding, Level
from bot.preflight.report import Report, grouped, status_line
from bot.render.documents.preflight import preflight_document
from bot.render.markdown import render_document
from tests.golden_files import assert_exact

CROSSING = Finding(
    "apps/base/podinfo/sync.yaml",
    13,
    "Kustomization podinfo/podinfo-extra takes its source from another namespace (GitRepository preflight/preflight); "
    "multi-tenancy is enforced on the cluster, so Flux refuses it: put the source in namespace 'podinfo'",
    "multi-tenancy",
)
NOTE = Finding(
    "infrastructure/redis/release.yaml",
    9,
    "HelmRelease cluster-config/redis: chart version '19.6.4' not checked: the index of https://charts.example.com "
    "could not be read (ConnectionError)",
    "chart-version",
    Level.NOTE,
)


def report() -> Report:
    rows = [
        ("prod-weu", "apps", [CROSSING, NOTE]),
        ("dev", "apps", []),
        ("Prod-neu", "apps", [NOTE, CROSSING]),
        ("dev", "infra", [NOTE]),
    ]
    return Report("acme/gitops", 7, "0123456789abcdef" * 2 + "01234567", "main", grouped(rows))


def test_clusters_with_the_same_findings_make_one_group() -> None:
    groups = report().groups
    assert [(g.config, g.clusters, len(g.findings)) for g in groups] == [
        ("apps", ("dev",), 0),
        ("apps", ("Prod-neu", "prod-weu"), 2),
        ("infra", ("dev",), 1),
    ]
    assert report().failed and report().clusters == 3


def test_the_status_names_the_first_problem_and_notes_do_not_fail() -> None:
    assert status_line([NOTE, CROSSING, CROSSING], 3) == f"{CROSSING.text} (+1 more)"
    assert status_line([NOTE], 1) == "no problems found for 1 cluster"


def test_the_comment_lists_findings_per_group() -> None:
    assert_exact("preflight/comment.md", render_document(preflight_document(report())))
