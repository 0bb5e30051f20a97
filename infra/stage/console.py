"""The web console of a stage, after the functions: console/dist (`make console`) uploaded under console/ in the
stage's bucket with a config.json that points the app at `/api` (CloudFront serves the REST API under /api/ of
the same origin, so the API needs no CORS), then the console stack (infra/console.yaml: CloudFront, its origin
access control, the bucket policy that lets only that distribution read console/*). moto's CloudFormation has
no CloudFront: there the files are uploaded and the stack's resources are listed as left out.

AWS actions (the deployer's, through CloudFormation): cloudfront:CreateDistribution/UpdateDistribution/
GetDistribution/DeleteDistribution, cloudfront:*OriginAccessControl, cloudfront:*ResponseHeadersPolicy,
s3:PutBucketPolicy/DeleteBucketPolicy; and s3:PutObject on console/* of the bucket."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from infra.stage import templates
from infra.stage.names import StageNames
from infra.stage.stacks import Stacks
from local_stack.console_files import DIST, TYPES

PART = "console"
TEMPLATE = Path(__file__).resolve().parents[1] / "console.yaml"
CONFIG = {"apiUrl": "/api"}


def upload(s3: Any, bucket: str) -> int:
    """Every file of console/dist under console/, and config.json; the number of objects written (0 when the
    console is not built: `make deploy` builds it first)."""
    if not (DIST / "index.html").is_file():
        return 0
    files = sorted(p for p in DIST.rglob("*") if p.is_file())
    for path in files:
        s3.put_object(Bucket=bucket, Key=f"console/{path.relative_to(DIST)}", Body=path.read_bytes(),
                      ContentType=TYPES.get(path.suffix, "application/octet-stream"), CacheControl="no-cache")
    s3.put_object(Bucket=bucket, Key="console/config.json", Body=json.dumps(CONFIG).encode(),
                  ContentType="application/json", CacheControl="no-cache")
    return len(files) + 1


def deploy(stacks: Stacks, s3: Any, names: StageNames, bucket: str, api_url: str | None, moto: bool,
           out: Callable[[str], None]) -> tuple[dict[str, str], templates.LeftOut]:
    """(the console stack's outputs, what was left out on moto)."""
    count = upload(s3, bucket)
    out(f"console: {count} files uploaded to s3://{bucket}/console/" if count
        else "console: console/dist is missing (make console): nothing uploaded")
    template = templates.load(TEMPLATE)
    if moto or not api_url:
        return {}, templates.LeftOut(resources=[f"{lid} ({r['Type']})" for lid, r in template["Resources"].items()])
    parameters = {"Stage": names.stage, "ApiDomain": urlparse(api_url).hostname or ""}
    deployed = stacks.deploy(names.stack(PART), template, parameters, template_bucket=bucket,
                             tags={"mastra-admin:stage": names.stage}, progress=out)
    return deployed.outputs, templates.LeftOut()
