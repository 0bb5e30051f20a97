"""boto3 clients, created lazily once per process with the endpoint from settings."""
from __future__ import annotations

import functools
from typing import Any

from chalicelib.settings import get_settings


@functools.lru_cache(maxsize=None)
def client(service: str) -> Any:
    settings = get_settings()
    return make_client(service, settings.region, settings.aws_endpoint_url or None)


def make_client(service: str, region: str, endpoint_url: str | None) -> Any:
    """A client configured as the app's are (benchmarks build theirs here to measure the same thing)."""
    import boto3  # lazy: importing boto3 is most of a cold start
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, or '' for anything else."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
