"""cfn-lint and checkov over every CloudFormation template and the packaged SAM template.

    .venv/bin/python infra/check_templates.py     (`make check-templates`, part of `make test`)

cfn-lint runs from the project's virtualenv with every rule and must report nothing (errors and
warnings alike). checkov runs from its own virtualenv (.venv-checkov: it pins an older boto3)
with the checks of infra/checks-skipped.yaml skipped; an entry there without a reason is refused.
Exits non-zero on any finding.
"""
from __future__ import annotations

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


def main() -> int:
    fragments, checkov_skips = load_skips()
    files = templates(fragments)
    lint_ok = run("cfn-lint", [str(CFN_LINT), *files])
    checkov_ok = run("checkov", [str(CHECKOV), "--quiet", "--compact", "--skip-download", "--framework",
                                 "cloudformation", "--skip-check", ",".join(sorted(checkov_skips)),
                                 *[arg for f in files for arg in ("-f", f)]])
    return 0 if lint_ok and checkov_ok else 1


if __name__ == "__main__":
    sys.exit(main())
