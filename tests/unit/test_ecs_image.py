"""An ECS server runs on the Node major its build ran on: the image is chosen per build."""
from __future__ import annotations

import json

import pytest

from chalicelib.runners.deploy_port import ServerSpec
from chalicelib.runners.ecs_deploy import EcsDeployRunner
from chalicelib.runners.injection import manifest_node_major
from chalicelib.settings import Settings


def _spec(node_major):
    return ServerSpec(
        server_id="srv_x", deploy_id="dpl_x", deployment_id="dep_x", project_id="prj_x", team_id="team_x",
        build_id="bld_x", slug="x", environment="production", commit=None, artifact_bucket="artifacts",
        artifact_key="artifacts/bld_x.tgz", node_major=node_major)


@pytest.mark.parametrize("major, image", [(24, "public.ecr.aws/docker/library/node:24-slim"),
                                          (22, "public.ecr.aws/docker/library/node:22-slim"),
                                          (None, "public.ecr.aws/docker/library/node:22-slim")])
def test_the_image_is_the_builds_node_major(major, image):
    container = EcsDeployRunner(Settings(stage="test")).task_definition(_spec(major))["containerDefinitions"][0]
    assert container["image"] == image


def test_an_image_setting_without_a_major_is_used_as_given():
    settings = Settings(stage="test", ecs_image="registry.example/node-mirror:22")
    container = EcsDeployRunner(settings).task_definition(_spec(24))["containerDefinitions"][0]
    assert container["image"] == "registry.example/node-mirror:22"


@pytest.mark.parametrize("manifest, major", [({"node": 24}, 24), ({"node": 22}, 22), ({"node": 18}, None),
                                             ({"node": "24; rm -rf /"}, None), ({"node": True}, None), ({}, None),
                                             ([], None)])
def test_only_a_node_major_we_run_is_taken_from_the_tenants_manifest(tmp_path, manifest, major):
    (tmp_path / "mastra-admin.json").write_text(json.dumps(manifest))
    assert manifest_node_major(tmp_path) == major


def test_a_missing_or_broken_manifest_gives_the_default(tmp_path):
    assert manifest_node_major(tmp_path) is None
    (tmp_path / "mastra-admin.json").write_text("{not json")
    assert manifest_node_major(tmp_path) is None


def test_the_buildspec_reads_the_manifest_the_injection_writes():
    from chalicelib.runners import buildspec, injection

    assert buildspec.MANIFEST_NAME == injection.MANIFEST_NAME
