"""`mastra-admin guard set --rule …`: the rule syntax, and what a typo gets."""
from __future__ import annotations

import pytest
import typer

from chalicelib.cli.main import _guard_view, rule_of


def test_rules_read_as_an_increase_or_a_ratio():
    assert rule_of("errorRate=+0.05") == {"metric": "errorRate", "maxIncrease": 0.05}
    assert rule_of("p95LatencyMs=x1.5") == {"metric": "p95LatencyMs", "maxRatio": 1.5}


@pytest.mark.parametrize("text", ["errorRate", "errorRate=0.05", "errorRate=+", "=x2", "cost=xabc"])
def test_a_rule_without_a_kind_or_a_number_is_a_bad_parameter(text):
    with pytest.raises(typer.BadParameter):
        rule_of(text)


def test_the_view_shows_the_last_verdict_beside_the_rules():
    view = _guard_view({"enabled": True, "rules": [{"metric": "errorRate", "maxIncrease": 0.05},
                                                   {"metric": "costPerRunUsd", "maxRatio": 1.3}],
                        "lastEvaluation": {"verdict": "waiting", "why": "the current build has 3 of 50 runs",
                                           "baseRuns": 80, "headRuns": 3}})
    assert view["rules"] == "errorRate +0.05, costPerRunUsd x1.3"
    assert (view["verdict"], view["baseRuns"], view["headRuns"]) == ("waiting", 80, 3)
    assert _guard_view({"enabled": False, "rules": [], "lastEvaluation": None})["verdict"] is None
