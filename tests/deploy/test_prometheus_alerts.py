"""deploy/prometheus/alerts.yaml and deploy/grafana/fluxops.json name only families the processes serve, with
their labels; promtool checks the rule file and runs its unit tests (deploy/prometheus/alerts.test.yaml)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import redis
import yaml
from prometheus_client.metrics import MetricWrapperBase

import workers.metrics
from bot.config_file import DeployKeyPolicy
from handlers.metrics import Metrics
from workers.redis_gauges import RedisGauges

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yaml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "fluxops.json"

#: a family name in PromQL, and the label matchers that follow it
_SELECTOR = re.compile(r"\b(fluxops_[a-z0-9_]+)(?:\{([^}]*)\})?")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


@pytest.fixture(scope="module")
def served(redis_server: str) -> dict[str, set[str]]:
    """Every sample name the web, worker and beat processes can serve, with its label names."""
    names: dict[str, set[str]] = {}

    def add(family: str, kind: str, labels: set[str]) -> None:
        for suffix in _SUFFIXES[kind]:
            names[family + suffix] = labels | ({"le"} if suffix == "_bucket" else set())

    wrappers = [m for m in vars(workers.metrics).values() if isinstance(m, MetricWrapperBase)]
    for metric in wrappers:
        family = metric.describe()[0]
        add(family.name, family.type, set(metric._labelnames))  # the wrapper's declared labels
    web = Metrics()  # its families have labels once something was counted: one request and one delivery
    web.tallies.request("POST", "/webhooks/github", 202, 0.01)
    web.tallies.delivery("github", "push", "accepted", 1)
    for family in web.registry.collect():
        add(family.name, family.type, {label for sample in family.samples for label in sample.labels} - {"le"})
    gauges = RedisGauges(
        redis=redis.Redis.from_url(redis_server),
        queue="fluxops",
        queue_key="fluxops",
        keys=None,
        key_policy=DeployKeyPolicy(max_age="30d"),
    )
    for family in gauges.collect():
        add(family.name, family.type, {label for sample in family.samples for label in sample.labels})
    return names


def check_expr(expr: str, served: dict[str, set[str]]) -> list[str]:
    """Problems with one PromQL expression: unknown families, or matchers on labels they do not have."""
    problems = []
    for name, matchers in _SELECTOR.findall(expr):
        if name not in served:
            problems.append(f"{name} is not served by any fluxops process")
            continue
        unknown = set(_MATCHER.findall(matchers)) - served[name]
        if unknown:
            problems.append(f"{name} has no label {sorted(unknown)} (it has {sorted(served[name])})")
    return problems


def test_the_rule_file_has_the_expected_groups_and_names_served_families(served: dict[str, set[str]]):
    document = yaml.safe_load(RULES.read_text())
    groups = {group["name"]: group["rules"] for group in document["groups"]}
    assert set(groups) == {"fluxops-queue", "fluxops-jobs", "fluxops-deploy-keys", "fluxops-arm", "fluxops-intake"}
    alerts = {rule["alert"]: rule for rules in groups.values() for rule in rules}
    # what issue 15 asks the rules to watch
    for wanted in (
        "FluxopsQueueStalled",
        "FluxopsJobFailureRate",
        "FluxopsDeployKeysOverMaxAge",
        "FluxopsArmThrottled",
    ):
        assert wanted in alerts
    problems = []
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        found = _SELECTOR.findall(rule["expr"])
        assert found, f"{name} names no fluxops family"
        problems += [f"{name}: {problem}" for problem in check_expr(rule["expr"], served)]
    assert problems == []


def test_the_dashboard_shows_every_family_and_only_served_ones(served: dict[str, set[str]]):
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "fluxops"
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    problems = [problem for expr in exprs for problem in check_expr(expr, served)]
    assert problems == []
    shown = {name for expr in exprs for name, _ in _SELECTOR.findall(expr)}
    families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in served}
    missing = sorted(f for f in families if not any(re.sub(r"_(total|bucket|count|sum)$", "", s) == f for s in shown))
    assert missing == ["fluxops_redis_up"], "every family has a panel (Redis being up is for the alert)"


def test_a_wrong_name_or_label_is_caught(served: dict[str, set[str]]):
    assert check_expr('rate(fluxops_jobs_total{kind="push"}[5m])', served) == []
    assert check_expr("fluxops_job_total", served) == ["fluxops_job_total is not served by any fluxops process"]
    assert check_expr('fluxops_arm_requests_total{cluster="prod"}', served)[0].startswith(
        "fluxops_arm_requests_total has no label ['cluster']"
    )


def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: scripts/bootstrap installs it (Debian's prometheus package)"
    return found


def test_promtool_checks_the_rules():
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_runs_the_rules_unit_tests():
    result = subprocess.run(
        [promtool(), "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
