"""API Gateway's own answers use our error shape and echo nothing (infra/chalice-merge.yaml).

The merge file is deep-merged into `chalice package`'s template the way `make package` does it,
onto the swagger document Chalice generates for the app: the gateway responses land beside the
routes, in the definition every stage deployment is made from.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _merged() -> dict:
    from chalice.deploy.swagger import CFNSwaggerGenerator
    from chalice.package import TemplateDeepMerger, YAMLTemplateSerializer

    from app import app

    swagger = CFNSwaggerGenerator().generate_swagger(app)
    chalice_template = {"Resources": {"RestAPI": {"Type": "AWS::Serverless::Api",
                                                  "Properties": {"StageName": "api", "DefinitionBody": swagger}}}}
    merge = YAMLTemplateSerializer().load_template((ROOT / "infra" / "chalice-merge.yaml").read_text())
    return TemplateDeepMerger().merge(merge, chalice_template)["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]


def test_unknown_paths_and_refused_content_types_answer_in_our_error_shape():
    body = _merged()
    assert "/teams" in body["paths"], "the routes survive the merge"
    responses = body["x-amazon-apigateway-gateway-responses"]
    expected = {"MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"),
                "UNSUPPORTED_MEDIA_TYPE": ("415", "unsupported_media_type")}
    for kind, (status, code) in expected.items():
        assert responses[kind]["statusCode"] == status
        assert json.loads(responses[kind]["responseTemplates"]["application/json"])["error"]["code"] == code
    for kind, response in responses.items():
        template = response["responseTemplates"]["application/json"]
        error = json.loads(template)["error"]  # fixed JSON: no $context/$input, so no header is echoed
        assert set(error) == {"code", "message"} and "$" not in template, kind
        assert response["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"
