"""Judging a comparison against a guard's rules: pure functions, no I/O.

A rule is breached when the head build is worse than the base by more than its limit AND the
comparison does not call the change insignificant for the sample sizes (a rule the comparer has no
test for is judged on the limit alone). A rule whose figure is unknown on either side (an unpriced
model's cost, no latency yet) is not judged; when no rule can be judged, the guard waits.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.models.guard import GuardRule
from chalicelib.services.guard.figures import Comparison


@dataclass(frozen=True)
class Judgement:
    verdict: str  # passed | breached | waiting
    why: str | None
    rules: list[dict]

    @property
    def breaches(self) -> list[dict]:
        return [r for r in self.rules if r["breached"]]


def _limit_text(rule: GuardRule) -> str:
    return f"maxIncrease {rule.max_increase:g}" if rule.max_increase is not None else f"maxRatio {rule.max_ratio:g}"


def judge_rule(rule: GuardRule, comparison: Comparison) -> dict:
    base, head = comparison.base.values.get(rule.metric), comparison.head.values.get(rule.metric)
    significant = comparison.significant.get(rule.metric)
    out = {"metric": rule.metric, "limit": _limit_text(rule), "base": base, "head": head, "change": None,
           "significant": significant, "breached": False, "judged": False, "why": None}
    if base is None or head is None:
        out["why"] = f"{rule.metric} is not known for both builds"
        return out
    out["judged"] = True
    if rule.max_increase is not None:
        out["change"] = head - base
        over = head - base > rule.max_increase
    elif base > 0:
        out["change"] = head / base
        over = head / base > rule.max_ratio
    else:  # a ratio to zero: any positive head is infinitely worse, but only a significant change counts
        out["change"] = None
        over = head > 0 and significant is True
    if over and significant is False:
        out["why"] = "over the limit, but not significant for these sample sizes"
    out["breached"] = bool(over and significant is not False)
    return out


def judge(rules: list[GuardRule], comparison: Comparison, min_runs: int) -> Judgement:
    base_runs, head_runs = comparison.base.runs, comparison.head.runs
    if head_runs < min_runs or base_runs < min_runs:
        short = [f"{name} build has {runs} of {min_runs} runs"
                 for name, runs in (("the current", head_runs), ("the previous", base_runs)) if runs < min_runs]
        return Judgement("waiting", "; ".join(short), [])
    results = [judge_rule(rule, comparison) for rule in rules]
    if not any(r["judged"] for r in results):
        return Judgement("waiting", "no rule's figures are known for both builds", results)
    breached = [r for r in results if r["breached"]]
    if breached:
        return Judgement("breached", "; ".join(f"{r['metric']} {r['base']:g} -> {r['head']:g} ({r['limit']})"
                                               for r in breached), results)
    return Judgement("passed", None, results)
