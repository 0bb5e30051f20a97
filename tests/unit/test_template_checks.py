"""The template checks' skip list (infra/checks-skipped.yaml) stays short, reasoned and true."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
import check_templates  # noqa: E402  (a build script, not a package)

FAILURES = [("CKV_AWS_117", "Lambda in a VPC", "build/package/sam.yaml:AWS::Serverless::Function.APIHandler"),
            ("CKV_AWS_23", "rule described", "infra/ecs.yaml:AWS::EC2::SecurityGroup.AlbSecurityGroup")]


def test_a_failure_of_a_check_not_listed_is_a_finding_and_a_listed_one_is_accepted():
    findings = check_templates.judge(FAILURES, {"CKV_AWS_117": "no NAT gateways at idle"})
    assert findings == ["CKV_AWS_23 rule described: infra/ecs.yaml:AWS::EC2::SecurityGroup.AlbSecurityGroup"]


def test_a_listed_check_that_nothing_fails_any_more_is_a_finding():
    findings = check_templates.judge(FAILURES[:1], {"CKV_AWS_117": "why", "CKV_AWS_21": "why"})
    assert findings == ["CKV_AWS_21 is listed in checks-skipped.yaml but no template fails it any more: remove it"]


def test_every_skip_has_a_reason_and_every_standalone_template_is_checked():
    fragments, skips = check_templates.load_skips()
    assert all(len(reason.split()) >= 8 for reason in skips.values())
    assert len(skips) <= 20
    infra = {str(p.relative_to(ROOT)) for p in (ROOT / "infra").glob("*.yaml")} - {"infra/checks-skipped.yaml"}
    assert fragments <= infra
    if check_templates.PACKAGED.exists():
        assert set(check_templates.templates(fragments)) == (infra - fragments) | {"build/package/sam.yaml"}
