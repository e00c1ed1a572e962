from typing import Any

import pytest

from bot.preflight.chart_versions import ChartIndex, wanted_charts
from bot.preflight.findings import Finding, Level
from bot.preflight.run import Subject, chart_urls, combined_scope, preflight
from bot.preflight.semver_ranges import BadConstraint, matching
from bot.preflight.tree import Tree
from tests.bot.preflight.trees import BASE, KUSTOMIZATIONS, NS, tree

URL = "https://charts.example.com/bitnami"
INDEX = {URL: ChartIndex(URL, {"redis": ("18.0.1", "19.0.0", "19.6.4", "20.0.0-rc.1")})}
SUBJECT = Subject(NS, KUSTOMIZATIONS, multi_tenancy=False)
RELEASE = "infrastructure/redis/release.yaml"


def asking(version: str) -> dict[str, str | None]:
    return {RELEASE: BASE[RELEASE].replace('"19.x"', f'"{version}"')}


def test_only_the_indexes_of_chart_versions_the_pull_request_changes_are_read() -> None:
    assert chart_urls(SUBJECT, tree(), tree()) == set()
    assert chart_urls(SUBJECT, tree(asking("19.6.4")), tree()) == {URL}


def test_a_version_the_index_lacks_is_found_at_its_line() -> None:
    assert preflight(SUBJECT, tree(asking("21.0.0")), tree(), INDEX) == [
        Finding(
            RELEASE,
            9,
            f"HelmRelease cluster-config/redis asks for chart 'redis' version '21.0.0', which the index of {URL} "
            "does not have (newest: 20.0.0-rc.1, 19.6.4, 19.0.0)",
            "chart-version",
        )
    ]


def test_a_range_the_index_satisfies_passes() -> None:
    for version in ("19.6.4", "~19.6", "^18.0.0", ">=19.1 <20", "18.x || 19.0.x"):
        assert preflight(SUBJECT, tree(asking(version)), tree(), INDEX) == [], version


def test_an_unreadable_index_is_a_note_that_does_not_fail() -> None:
    unreadable = {URL: ChartIndex(URL, {}, problem="could not be read (connection refused)")}
    assert preflight(SUBJECT, tree(asking("19.6.4")), tree(), unreadable) == [
        Finding(
            RELEASE,
            9,
            f"HelmRelease cluster-config/redis: chart version '19.6.4' not checked: the index of {URL} could not be "
            "read (connection refused)",
            "chart-version",
            Level.NOTE,
        )
    ]


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("1.2.3", ["1.2.3"]),
        ("1.2.x", ["1.2.3", "1.2.9"]),
        ("~1.2.3", ["1.2.3", "1.2.9"]),
        ("^0.2.3", ["0.2.5"]),
        ("^1.2", ["1.2.3", "1.2.9", "1.3.0"]),
        (">1.2", ["1.3.0", "2.0.0"]),
        ("<=1.2", ["0.2.5", "1.2.3", "1.2.9"]),
        ("1.2 - 1.3", ["1.2.3", "1.2.9", "1.3.0"]),
        ("!=1.2.3, >=1.2", ["1.2.9", "1.3.0", "2.0.0"]),
        ("2.0.0-rc.1", ["2.0.0-rc.1"]),
        ("*", ["0.2.5", "1.2.3", "1.2.9", "1.3.0", "2.0.0"]),
    ],
)
def test_helm_version_constraints(constraint: str, expected: list[str]) -> None:
    versions = ["0.2.5", "1.2.3", "1.2.9", "1.3.0", "2.0.0-rc.1", "2.0.0"]
    assert matching(constraint, versions) == expected


def test_an_unreadable_constraint_is_refused() -> None:
    with pytest.raises(BadConstraint):
        matching(">=banana", ["1.0.0"])


def test_the_helm_repositories_of_a_tree_are_found_once_however_many_releases_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = BASE[RELEASE]
    many = {f"infrastructure/redis/release-{i}.yaml": release.replace("name: redis", f"name: r{i}") for i in range(50)}
    listing = "".join(f"  - release-{i}.yaml\n" for i in range(50))
    many["infrastructure/redis/kustomization.yaml"] = BASE["infrastructure/redis/kustomization.yaml"] + listing
    head = tree(many)
    whole: list[int] = []
    real = Tree.manifests

    def counting(self: Tree, paths: Any) -> Any:
        if len(paths) == len(self.files):
            whole.append(1)
        return real(self, paths)

    monkeypatch.setattr(Tree, "manifests", counting)
    assert len(wanted_charts(head, combined_scope(head, SUBJECT), NS)) == 51
    assert len(whole) == 1, "every file of the tree was read through once per HelmRelease"
