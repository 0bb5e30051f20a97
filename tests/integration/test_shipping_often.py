"""Shipping often loses nothing and sends nothing twice.

The injected writer (records.mjs, in a real Node process) closes a segment every 50 ms while the
local shipper (LocalDeployRunner.ship) polls the same directory every few ms and uploads to S3 on
moto server, racing the renames; the writer's SIGTERM closes the last segment and the final ship
takes it. Every line written is in S3 exactly once, and every object holds whole lines.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

from chalicelib.runners.injection import INJECT_SCRIPT
from chalicelib.settings import Settings

RECORDS = INJECT_SCRIPT.parent / "runtime" / "records.mjs"
BUCKET = "ship-often"
LINES = 3000

# Writes LINES span records in small bursts over about two seconds with the writer's own timer, then
# waits for SIGTERM, which closes the current segment (as the injected runtime does).
WRITER = """
import { ObservabilityFiles, rotationSettings, rotationTickMs } from %(records)s;
const files = new ObservabilityFiles(process.argv[2], rotationSettings());
files.startTimer(rotationTickMs(rotationSettings()));
let n = 0;
const burst = setInterval(() => {
  for (let i = 0; i < 15 && n < %(lines)d; i++) files.write({ kind: 'span', n: n++, pad: 'x'.repeat(200) });
  if (n >= %(lines)d) { clearInterval(burst); console.log('written'); }
}, 10);
process.on('SIGTERM', () => { files.closeAll(); process.exit(0); });
setInterval(() => {}, 1000);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_writer_closing_segments_every_50_ms_under_a_polling_shipper_ships_each_line_once(moto_url, tmp_path):
    from chalicelib.runners.local_deploy import LocalDeployRunner

    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    runner = LocalDeployRunner(Settings.from_env({"MA_BUCKET_NAME": BUCKET}), s3=s3)
    server = SimpleNamespace(workdir=str(tmp_path / "srv"), server_id="srv", team_id="t", project_id="p",
                             deployment_id="d", build_id="b")
    obs = tmp_path / "srv" / "app" / "observability"
    script = tmp_path / "writer.mjs"
    script.write_text(WRITER % {"records": json.dumps(RECORDS.as_uri()), "lines": LINES})
    writer = subprocess.Popen(["node", str(script), str(obs)], stdout=subprocess.PIPE, text=True,
                              env={"MASTRA_ADMIN_ROTATE_SECONDS": "0.05", "PATH": "/usr/bin:/bin"},
                              start_new_session=True)
    stop = threading.Event()
    shipped = []

    def ship_forever():
        while not stop.is_set():
            shipped.append(runner.ship(server))
            stop.wait(0.005)

    shipper = threading.Thread(target=ship_forever)
    shipper.start()
    try:
        assert writer.stdout.readline().strip() == "written"
        writer.terminate()
        assert writer.wait(timeout=10) == 0
    finally:
        stop.set()
        shipper.join(timeout=30)
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    runner.ship(server, final=True)

    assert sum(shipped) > 5, "segments were shipped while the writer wrote, not only at the end"
    seen: list[int] = []
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])]
    for key in keys:
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        assert body.endswith("\n"), f"{key} ends with a half line"
        seen.extend(json.loads(line)["n"] for line in body.splitlines())
    assert sorted(seen) == list(range(LINES)), "each line once"
    assert not list(obs.glob("spans/closed/*.jsonl")), "nothing left behind"
