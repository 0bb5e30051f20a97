"""The guard's judgement of a comparison, with no store: which rules breach, and when it waits."""
from __future__ import annotations

from chalicelib.models.guard import GuardRule
from chalicelib.services.guard.figures import BuildFigures, Comparison
from chalicelib.services.guard.rules import judge

RULES = [GuardRule.model_validate(r) for r in (
    {"metric": "errorRate", "maxIncrease": 0.05}, {"metric": "p95LatencyMs", "maxRatio": 1.5},
    {"metric": "costPerRunUsd", "maxRatio": 1.3})]


def _cmp(base: dict, head: dict, runs=(100, 100), significant=None) -> Comparison:
    return Comparison(BuildFigures("bld_a", runs[0], base), BuildFigures("bld_b", runs[1], head), significant or {})


def test_too_few_runs_on_either_side_waits_and_says_which():
    j = judge(RULES, _cmp({"errorRate": 0.0}, {"errorRate": 0.9}, runs=(100, 12)), min_runs=50)
    assert j.verdict == "waiting" and "current build has 12 of 50 runs" in j.why and j.rules == []
    j = judge(RULES, _cmp({"errorRate": 0.0}, {"errorRate": 0.9}, runs=(0, 100)), min_runs=50)
    assert j.verdict == "waiting" and "previous build has 0 of 50" in j.why


def test_an_increase_over_the_limit_breaches_unless_the_comparer_calls_it_insignificant():
    worse = _cmp({"errorRate": 0.02}, {"errorRate": 0.08})
    assert judge(RULES, worse, 50).verdict == "breached"
    noisy = _cmp({"errorRate": 0.02}, {"errorRate": 0.08}, significant={"errorRate": False})
    j = judge(RULES, noisy, 50)
    assert j.verdict == "passed" and "not significant" in j.rules[0]["why"]
    assert judge(RULES, _cmp({"errorRate": 0.02}, {"errorRate": 0.06}), 50).verdict == "passed"  # +4 points


def test_ratios_compare_head_to_base_and_a_zero_base_needs_significance():
    assert judge(RULES, _cmp({"p95LatencyMs": 1000.0}, {"p95LatencyMs": 1600.0}), 50).verdict == "breached"
    assert judge(RULES, _cmp({"p95LatencyMs": 1000.0}, {"p95LatencyMs": 1400.0}), 50).verdict == "passed"
    from_zero = _cmp({"costPerRunUsd": 0.0}, {"costPerRunUsd": 0.01})
    assert judge(RULES, from_zero, 50).verdict == "passed"
    assert judge(RULES, _cmp({"costPerRunUsd": 0.0}, {"costPerRunUsd": 0.01},
                             significant={"costPerRunUsd": True}), 50).verdict == "breached"


def test_an_unknown_figure_is_not_judged_and_only_unknowns_mean_waiting():
    unpriced = _cmp({"costPerRunUsd": 0.002, "errorRate": 0.01}, {"costPerRunUsd": None, "errorRate": 0.01})
    j = judge(RULES, unpriced, 50)
    assert j.verdict == "passed"
    [cost] = [r for r in j.rules if r["metric"] == "costPerRunUsd"]
    assert not cost["judged"] and not cost["breached"]
    j = judge(RULES, _cmp({}, {"costPerRunUsd": None}), 50)
    assert j.verdict == "waiting" and "no rule" in j.why
