"""cfn-lint and checkov over every CloudFormation template and the packaged SAM template.

    .venv/bin/python infra/check_templates.py     (`make check-templates`, part of `make test`)

cfn-lint runs from the project's virtualenv with every rule and must report nothing (errors and
warnings alike). checkov runs from its own virtualenv (.venv-checkov: it pins an older boto3) with
every check; a failure whose check is listed in infra/checks-skipped.yaml is accepted. The list
stays true: an entry without a reason, or one no template fails any more, is itself a finding.
Exits non-zero on any finding.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SKIPS = ROOT / "infra" / "checks-skipped.yaml"
PACKAGED = ROOT / "build" / "package" / "sam.yaml"
CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def load_skips() -> tuple[set[str], dict[str, str]]:
    skips = yaml.safe_load(SKIPS.read_text())
    fragments, checkov = skips.get("not-standalone") or {}, skips.get("checkov") or {}
    unreasoned = [name for name, reason in {**fragments, **checkov}.items() if not str(reason or "").strip()]
    if unreasoned:
        raise SystemExit(f"{SKIPS.name}: give a reason for {', '.join(unreasoned)}")
    return set(fragments), checkov


def templates(fragments: set[str]) -> list[str]:
    found = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "infra").glob("*.yaml")) if p != SKIPS]
    if not PACKAGED.exists():
        raise SystemExit(f"{PACKAGED.relative_to(ROOT)} is missing: run `make package` first")
    return [t for t in found if t not in fragments] + [str(PACKAGED.relative_to(ROOT))]


def run(name: str, argv: list[str]) -> bool:
    print(f"--- {name}: {' '.join(argv[1:])}", flush=True)
    done = subprocess.run(argv, cwd=ROOT)
    print(f"--- {name}: {'clean' if done.returncode == 0 else f'findings (exit {done.returncode})'}", flush=True)
    return done.returncode == 0


def checkov_failures(files: list[str]) -> list[tuple[str, str, str]]:
    """(check id, check name, template:resource) of every failed check, no check skipped."""
    argv = [str(CHECKOV), "--quiet", "--compact", "--skip-download", "--framework", "cloudformation",
            "--output", "json", *[arg for f in files for arg in ("-f", f)]]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    try:
        reports = json.loads(done.stdout)
    except ValueError:
        raise SystemExit(f"checkov did not report (exit {done.returncode}): {done.stderr[-2000:]}") from None
    reports = reports if isinstance(reports, list) else [reports]
    return [(f["check_id"], f["check_name"], f"{f['file_path'].lstrip('/')}:{f['resource']}")
            for report in reports for f in (report.get("results") or {}).get("failed_checks") or []]


def judge(failures: list[tuple[str, str, str]], skips: dict[str, str]) -> list[str]:
    """The findings: failures of checks not skipped, and skips that no failure needs."""
    findings = [f"{check} {name}: {where}" for check, name, where in failures if check not in skips]
    findings += [f"{check} is listed in {SKIPS.name} but no template fails it any more: remove it"
                 for check in sorted(set(skips) - {check for check, _, _ in failures})]
    return findings


def check_checkov(files: list[str], skips: dict[str, str]) -> bool:
    print(f"--- checkov: {' '.join(files)}", flush=True)
    failures = checkov_failures(files)
    findings = judge(failures, skips)
    for line in findings:
        print(line)
    accepted = sum(1 for check, _, _ in failures if check in skips)
    print(f"--- checkov: {accepted} failures of skipped checks accepted; "
          f"{'clean' if not findings else f'{len(findings)} findings'}", flush=True)
    return not findings


def main() -> int:
    fragments, checkov_skips = load_skips()
    files = templates(fragments)
    lint_ok = run("cfn-lint", [str(CFN_LINT), *files])
    checkov_ok = check_checkov(files, checkov_skips)
    return 0 if lint_ok and checkov_ok else 1


if __name__ == "__main__":
    sys.exit(main())
