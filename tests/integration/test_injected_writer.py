"""The injected observability writer and the inject step, without npm or a Mastra build.

The pure JS module (chalicelib/runners/injection/runtime/records.mjs) is tested with `node --test`
(the machine's Node 20 is enough); the records it writes are validated against the v1 contract
with jsonschema; inject.mjs is run on a fake build output and on a non-Mastra project.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from chalicelib.runners.injection import (
    ENTRY_NAME,
    INJECT_SCRIPT,
    ManifestError,
    inject_command,
    read_manifest,
)

REPO = Path(__file__).resolve().parents[2]
INJECTION = INJECT_SCRIPT.parent
SCHEMA_FILE = REPO / "chalicelib" / "contracts" / "observability-record.v1.schema.json"
NODE = shutil.which("node")
STAMP = {
    "teamId": "team_1",
    "projectId": "proj_1",
    "deploymentId": "dep_1",
    "buildId": "bld_1",
    "commit": "abc123",
    "environment": "staging",
    "serviceName": "weather",
}

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)


def test_node_tests_of_the_pure_record_module_pass():
    proc = _run([NODE, "--test", str(INJECTION / "tests" / "records.test.mjs")])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout
    assert "# pass 16" in proc.stdout


def test_node_tests_of_the_peer_range_check_pass():
    proc = _run([NODE, "--test", str(INJECTION / "tests" / "inject.test.mjs")])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout and "# pass 4" in proc.stdout


def test_written_records_validate_against_the_contract_and_hold_no_planted_secret(tmp_path):
    proc = _run([NODE, str(INJECTION / "tests" / "emit_samples.mjs"), str(tmp_path)])
    assert proc.returncode == 0, proc.stderr
    closed = [Path(p) for p in json.loads(proc.stdout)]
    assert {p.parent.parent.name for p in closed} == {"spans", "logs", "metrics", "scores"}
    validator = _validator()
    kinds = {}
    for path in closed:
        text = path.read_text()
        assert text.endswith("\n")
        assert "sk-planted-secret" not in text
        for line in text.splitlines():
            record = json.loads(line)
            errors = sorted(validator.iter_errors(record), key=lambda e: e.path)
            assert not errors, f"{path.name}: {[e.message for e in errors]}"
            for key, value in STAMP.items():
                if key != "commit":
                    assert record[key] == value
            kinds.setdefault(record["kind"], []).append(record)
    assert {r["spanType"] for r in kinds["span"]} == {"agent_run", "model_generation", "tool_call"}
    gen = next(r for r in kinds["span"] if r["spanType"] == "model_generation")
    assert (gen["model"], gen["provider"], gen["inputTokens"], gen["outputTokens"], gen["totalTokens"]) == (
        "gpt-4o-mini", "openai", 40, 20, 60)
    assert any(r["status"] == "error" and r["commit"] is None for r in kinds["span"])
    log = next(r for r in kinds["log"] if r["message"] == "fetching weather")
    assert log["attributes"]["token"] == "[REDACTED]"


def test_the_validator_rejects_records_that_break_the_contract(tmp_path):
    validator = _validator()
    good = {"schemaVersion": 1, "kind": "log", "recordId": "r", "timestamp": "2026-11-23T12:00:00.000Z",
            "teamId": "t", "projectId": "p", "deploymentId": "d", "buildId": "b", "environment": "e",
            "level": "info", "message": "m"}
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "level": "verbose"})
    assert not validator.is_valid({k: v for k, v in good.items() if k != "teamId"})
    assert not validator.is_valid({**good, "kind": "span"})  # a span needs traceId, spanId, …


def _fake_build_output(root: Path, core_version: str = "1.71.0") -> tuple[Path, Path]:
    project = root / "project"
    output = project / ".mastra" / "output"
    (output / "node_modules" / "@mastra" / "core").mkdir(parents=True)
    (project / "package.json").write_text(json.dumps(
        {"name": "weather", "dependencies": {"@mastra/core": core_version}, "devDependencies": {"mastra": "1.31.0"}}))
    (output / "node_modules" / "@mastra" / "core" / "package.json").write_text(json.dumps({"version": core_version}))
    (output / "mastra.mjs").write_text("export { mastra as m };\nconst mastra = {};\n")
    (output / "index.mjs").write_text(
        "import { scoreTracesWorkflow } from '@mastra/core/evals/scoreTraces';\n"
        "import { m as mastra } from './mastra.mjs';\n"
        "await createNodeServer(mastra, {});\n")
    return project, output


def _fake_packages(root: Path) -> Path:
    """A node_modules shaped like `npm ci` of package-lock.json leaves it (the real one: tests/integration)."""
    pkg = root / "node_modules" / "@mastra" / "observability"
    (pkg / "dist").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({
        "name": "@mastra/observability", "version": "1.17.9", "type": "module", "main": "dist/index.js",
        "peerDependencies": {"@mastra/core": ">=1.16.0-0 <2.0.0-0", "zod": "^3.25.0 || ^4.0.0"}}))
    (pkg / "dist" / "index.js").write_text("export class Observability {}\n")
    return root / "node_modules"


def test_inject_writes_entry_runtime_pinned_package_and_manifest(tmp_path):
    project, output = _fake_build_output(tmp_path)
    stamp = tmp_path / "stamp.json"
    stamp.write_text(json.dumps(STAMP))
    before = sorted(p.relative_to(project) for p in project.rglob("*") if ".mastra" not in p.parts)
    argv = inject_command(Path(NODE).parent, project, output, stamp, packages=_fake_packages(tmp_path))
    assert argv[:2] == [str(Path(NODE).parent / "node"), str(INJECT_SCRIPT)]
    proc = _run(argv)
    assert proc.returncode == 0, proc.stderr
    assert "observability injected" in proc.stdout

    manifest = read_manifest(output)
    assert manifest["contract"] == 1 and manifest["mastra"] is True
    assert manifest["entry"] == ENTRY_NAME and manifest["start"] == ["node", ENTRY_NAME]
    assert manifest["stamp"] == STAMP
    assert manifest["mastraModule"] == "./mastra.mjs" and manifest["mastraExport"] == "m"
    assert manifest["observability"] == {"package": "@mastra/observability", "version": "1.17.9", "source": "lockfile"}

    entry = (output / ENTRY_NAME).read_text()
    assert 'from "./mastra.mjs"' in entry and "await import('./index.mjs')" in entry
    assert entry.index("installObservability(") < entry.index("import('./index.mjs')")
    assert (output / "mastra-admin" / "records.mjs").is_file()
    assert (output / "mastra-admin" / "runtime.mjs").is_file()
    copied = output / "node_modules" / "@mastra" / "observability"
    assert json.loads((copied / "package.json").read_text())["version"] == "1.17.9"
    assert (copied / "dist" / "index.js").is_file()
    after = sorted(p.relative_to(project) for p in project.rglob("*") if ".mastra" not in p.parts)
    assert before == after, "nothing outside the output directory changes"

    # Running it again (a retried build) gives the same result.
    assert _run(argv).returncode == 0
    assert read_manifest(output)["entry"] == ENTRY_NAME


@pytest.mark.parametrize("pkg, start, entry", [
    ({"name": "api", "scripts": {"start": "node server.js"}}, ["npm", "start"], None),
    ({"name": "api", "main": "dist/app.js"}, ["node", "dist/app.js"], "dist/app.js"),
    ({"name": "api"}, ["node", "index.js"], "index.js"),
])
def test_a_project_that_is_not_mastra_gets_only_a_manifest(tmp_path, pkg, start, entry):
    project = tmp_path / "p"
    project.mkdir()
    (project / "package.json").write_text(json.dumps(pkg))
    output = tmp_path / "artifact"
    stamp = tmp_path / "stamp.json"
    stamp.write_text(json.dumps(STAMP))
    proc = _run(inject_command(Path(NODE).parent, project, output, stamp))
    assert proc.returncode == 0, proc.stderr
    assert "observability was not injected" in proc.stdout
    assert len(proc.stdout.strip().splitlines()) == 1
    manifest = read_manifest(output)
    assert manifest == {"contract": 1, "entry": entry, "start": start, "mastra": False, "stamp": STAMP}
    assert sorted(p.name for p in output.iterdir()) == ["mastra-admin.json"]


def test_bad_input_fails_with_a_clear_message(tmp_path):
    project, output = _fake_build_output(tmp_path)
    stamp = tmp_path / "stamp.json"
    stamp.write_text(json.dumps({"teamId": "t"}))
    proc = _run(inject_command(Path(NODE).parent, project, output, stamp))
    assert proc.returncode == 2 and "stamp lacks projectId, deploymentId, buildId" in proc.stderr
    stamp.write_text(json.dumps(STAMP))
    (output / "index.mjs").unlink()
    proc = _run(inject_command(Path(NODE).parent, project, output, stamp))
    assert proc.returncode == 2 and "mastra build" in proc.stderr
    assert not (output / "mastra-admin.json").exists()


def test_a_mastra_project_without_the_pinned_packages_installed_fails_naming_npm_ci(tmp_path):
    project, output = _fake_build_output(tmp_path)
    stamp = tmp_path / "stamp.json"
    stamp.write_text(json.dumps(STAMP))
    proc = _run(inject_command(Path(NODE).parent, project, output, stamp, packages=tmp_path / "empty"))
    assert proc.returncode == 3 and "npm ci --prefix" in proc.stderr
    assert not (output / "mastra-admin.json").exists()


def test_package_json_pins_exact_versions_and_the_lockfile_holds_their_integrity():
    pkg = json.loads((INJECTION / "package.json").read_text())
    lock = json.loads((INJECTION / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == pkg["dependencies"]
    for name, version in pkg["dependencies"].items():
        assert version[0].isdigit(), f"{name}: pin an exact version, not {version!r}"
        entry = lock["packages"][f"node_modules/{name}"]
        assert entry["version"] == version and entry["integrity"].startswith("sha512-")
    assert "legacy-peer-deps=true" in (INJECTION / ".npmrc").read_text()


def test_read_manifest_rejects_missing_or_malformed_manifests(tmp_path):
    with pytest.raises(ManifestError):
        read_manifest(tmp_path)
    (tmp_path / "mastra-admin.json").write_text("{not json")
    with pytest.raises(ManifestError):
        read_manifest(tmp_path)
    (tmp_path / "mastra-admin.json").write_text(json.dumps({"contract": 2, "start": ["node"], "mastra": True, "stamp": {}}))
    with pytest.raises(ManifestError):
        read_manifest(tmp_path)
    (tmp_path / "mastra-admin.json").write_text(json.dumps({"contract": 1, "start": [], "mastra": True, "stamp": {}}))
    with pytest.raises(ManifestError):
        read_manifest(tmp_path)
