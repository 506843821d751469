"""The OpenAPI document coach clients are generated from: committed, valid, complete."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from service.api import create_app
from service.cli.main import render_openapi
from service.domain.accounts import scopes
from tests.conftest import make_settings
from tests.support.runners import assert_problem, run, sign_up

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
METHODS = ("get", "put", "post", "patch", "delete")


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def resolve(spec, obj):
    """The object a local `$ref` points to, or `obj` itself."""
    while isinstance(obj, dict) and "$ref" in obj:
        target = spec
        for part in obj["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        obj = target
    return obj


def parameters(spec, operation):
    return [resolve(spec, p) for p in operation.get("parameters", [])]


def responses(spec, operation):
    return {status: resolve(spec, r) for status, r in operation["responses"].items()}


def header_names(response):
    return {name.lower() for name in response.get("headers", {})}


RATE_LIMIT_HEADERS = {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"}


def test_the_committed_file_is_the_live_spec(settings):
    live = render_openapi(settings)
    assert COMMITTED.read_text() == live, (
        "openapi/openapi.json is stale: run `backstride openapi write`"
    )


def test_the_spec_is_valid_openapi(client):
    validate(client.get("/openapi.json").get_json())


def test_every_operation_has_a_unique_id_a_summary_a_tag_and_error_responses(client):
    spec = client.get("/openapi.json").get_json()
    ids = []
    for name, operation in operations(spec):
        assert operation.get("operationId"), f"{name} has no operationId"
        assert operation.get("summary"), f"{name} has no summary"
        assert operation.get("tags"), f"{name} has no tag"
        assert "default" in operation["responses"], f"{name} documents no error response"
        if operation.get("security"):
            assert "401" in operation["responses"], f"{name} is secured but documents no 401"
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_errors_are_documented_as_problem_documents(client):
    spec = client.get("/openapi.json").get_json()
    for name, response in spec["components"]["responses"].items():
        if "content" in response:
            assert list(response["content"]) == ["application/problem+json"], name


def test_docs_are_served(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert b"/openapi.json" in docs.data
    assert b"https://" not in docs.data, "the docs page must not depend on a CDN"
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert json.loads(client.get("/openapi.json").data)["info"]["title"] == "Backstride"


PUBLIC = {"GET /healthz", "GET /readyz", "POST /v1/auth/register", "POST /v1/auth/token",
          "POST /v1/auth/refresh", "POST /v1/auth/logout"}  # logout names its refresh token


def test_every_operation_documents_success_and_its_security(client):
    spec = client.get("/openapi.json").get_json()
    for name, operation in operations(spec):
        assert any(code.startswith(("2", "3")) for code in operation["responses"]), \
            f"{name} documents no success response"
        if name in PUBLIC:
            assert not operation.get("security"), f"{name} is public"
        else:
            assert operation.get("security"), f"{name} documents no security"
            assert {"401", "403"} <= set(operation["responses"]), name


def test_component_names_are_stable_across_runs(tmp_path):
    """Generated clients name their models after components: a rename breaks every coach's
    script. Two fresh processes with different hash seeds must write the same names."""
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"spec-{seed}.json"
        env = {**os.environ, "PYTHONHASHSEED": seed, "BACKSTRIDE_DATA_DIR": str(tmp_path),
               "BACKSTRIDE_DATABASE_URL": "", "BACKSTRIDE_BROKER_URL": ""}
        subprocess.run([sys.executable, "-m", "service.cli", "openapi", "write", str(out)],
                       check=True, env=env, capture_output=True)
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1]
    names = list(outputs[0]["components"]["schemas"])
    assert not [n for n in names if n[-1].isdigit() or n.startswith("Generated")], names


# Found by fuzzing.
def test_a_body_that_is_not_json_answers_the_documented_400(client):
    runner = sign_up(client)
    garbled = runner.client.post("/v1/shoes", data=b"\xbd10",
                                 headers={**runner.headers, "Content-Type": "application/json"})
    assert_problem(garbled, 400)
    spec = client.get("/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}) if isinstance(operation, dict) else {}
            if "application/json" in body.get("content", {}):
                assert "400" in operation["responses"], f"{method.upper()} {path}"


def test_if_match_and_if_none_match_are_optional_everywhere(client):
    """The server accepts a write without If-Match; a client generated from a spec saying
    `required: true` could not send one."""
    spec = client.get("/openapi.json").get_json()
    conditional = []
    for name, operation in operations(spec):
        for parameter in parameters(spec, operation):
            if parameter["in"] == "header" and parameter["name"] in ("If-Match", "If-None-Match"):
                conditional.append(name)
                assert not parameter.get("required"), f"{name}: {parameter['name']} is optional"
                assert parameter.get("description"), name
    assert {"PUT /v1/checkins/{checkin_id}", "DELETE /v1/checkins/{checkin_id}", "PATCH /v1/me",
            "PATCH /v1/shoes/{shoe_id}", "DELETE /v1/shoes/{shoe_id}",
            "GET /v1/me"} <= set(conditional)


def test_public_operations_say_so_and_the_others_name_the_bearer_scheme(client):
    """`security: []` tells a generated client to send no token there (and satisfies linters);
    an operation that says nothing inherits whatever the document's root says."""
    spec = client.get("/openapi.json").get_json()
    for name, operation in operations(spec):
        assert "security" in operation, f"{name} says nothing about its security"
        if name in PUBLIC:
            assert operation["security"] == [], f"{name} is public"
            assert "x-required-scope" not in operation, name
        elif operation.get("x-required-scope") == "session":
            assert operation["security"] == [{"bearerAuth": []}], f"{name}: no app reaches it"
        else:
            scope = operation.get("x-required-scope")
            assert scope, name
            assert operation["security"] == [{"bearerAuth": []}, {"oauth2": [scope]}], name


def test_the_oauth2_scheme_names_the_flow_its_urls_and_every_scope(client):
    """What a generated client needs to send an athlete through the consent page."""
    scheme = client.get("/openapi.json").get_json()["components"]["securitySchemes"]["oauth2"]
    flow = scheme["flows"]["authorizationCode"]
    assert scheme["type"] == "oauth2" and list(scheme["flows"]) == ["authorizationCode"]
    assert flow["authorizationUrl"] == "/oauth/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == "/oauth/token"
    assert flow["scopes"] == scopes.DESCRIPTIONS
    assert client.get(flow["authorizationUrl"]).status_code == 400, "there, and refusing nonsense"


def test_every_answer_of_every_operation_declares_x_request_id(client):
    spec = client.get("/openapi.json").get_json()
    for name, operation in operations(spec):
        for status, response in responses(spec, operation).items():
            assert "x-request-id" in header_names(response), f"{name} {status}"
            header = resolve(spec, response["headers"]["X-Request-ID"])
            assert header.get("required") is True and header.get("description"), name


def test_rate_limited_operations_declare_the_ratelimit_headers_and_the_probes_do_not(client):
    spec = client.get("/openapi.json").get_json()
    for name, operation in operations(spec):
        limited = operation["tags"] != ["health"]  # service.api.limits.EXEMPT_BLUEPRINTS
        for status, response in responses(spec, operation).items():
            declared = header_names(response)
            if limited:
                assert declared >= RATE_LIMIT_HEADERS, f"{name} {status}"
            else:
                assert not RATE_LIMIT_HEADERS & declared, f"{name} {status} is never limited"
            if status in ("429", "503"):
                assert "retry-after" in declared, f"{name} {status}"
        assert limited == ("429" in operation["responses"]), name


def test_reads_and_writes_that_send_an_etag_declare_it(client):
    spec = client.get("/openapi.json").get_json()
    conditional = 0
    for name, operation in operations(spec):
        if not {"If-Match", "If-None-Match"} & {p["name"] for p in parameters(spec, operation)}:
            continue
        conditional += 1
        for status, response in responses(spec, operation).items():
            if status == "304" or (status.startswith("2") and "content" in response):
                assert "etag" in header_names(response), f"{name} {status}"
    assert conditional >= 6


def test_the_headers_the_server_sends_are_the_ones_the_spec_declares(client):
    """A runner's life, each answer checked against its operation's documented response."""
    spec = client.get("/openapi.json").get_json()
    adapter = client.application.url_map.bind("localhost")
    watched = {"etag", "x-request-id", "location", "retry-after", "idempotent-replayed",
               *RATE_LIMIT_HEADERS}
    checked = set()

    def check(response, method, path):
        rule, _ = adapter.match(path, method=method, return_rule=True)
        spec_path = "".join(
            f"{{{part.split(':')[-1]}}}" if i % 2 else part
            for i, part in enumerate(rule.rule.replace(">", "<").split("<")))
        operation = spec["paths"][spec_path][method.lower()]
        status = str(response.status_code)
        documented = resolve(spec, operation["responses"].get(status)
                             or operation["responses"]["default"])
        sent = {name.lower() for name, _ in response.headers} & watched
        assert sent <= header_names(documented), (method, spec_path, status,
                                                  sent - header_names(documented))
        checked.add((method, spec_path, status))
        return response

    runner = sign_up(client)
    headers = runner.headers
    check(client.get("/healthz"), "GET", "/healthz")
    profile = check(runner.get("/v1/me"), "GET", "/v1/me")
    check(runner.get("/v1/me", headers={"If-None-Match": profile.headers["ETag"]}),
          "GET", "/v1/me")
    check(runner.patch("/v1/me", json={"units": "mi"}, headers={"If-Match": '"v0"'}),
          "PATCH", "/v1/me")
    check(runner.patch("/v1/me", json={"units": "mi"}), "PATCH", "/v1/me")
    key = {**headers, "Idempotency-Key": "one-pair"}
    shoe = check(client.post("/v1/shoes", json={"name": "Daily"}, headers=key),
                 "POST", "/v1/shoes")
    check(client.post("/v1/shoes", json={"name": "Daily"}, headers=key), "POST", "/v1/shoes")
    shoe_path = f"/v1/shoes/{shoe.get_json()['id']}"
    check(runner.get(shoe_path), "GET", shoe_path)
    check(runner.patch(shoe_path, json={"name": "Old"}), "PATCH", shoe_path)
    check(runner.post(f"{shoe_path}/inspected"), "POST", f"{shoe_path}/inspected")
    checkin_path = "/v1/checkins/7d7f3c1e-0d5e-4c56-9a53-2f0b6d1d2a10"
    check(runner.put(checkin_path, json=run(), headers={"If-Match": "*"}), "PUT", checkin_path)
    check(runner.put(checkin_path, json=run()), "PUT", checkin_path)
    check(runner.put(checkin_path, json=run(distance_m=9000)), "PUT", checkin_path)
    check(runner.get(checkin_path), "GET", checkin_path)
    check(runner.delete(checkin_path), "DELETE", checkin_path)
    check(runner.get(checkin_path), "GET", checkin_path)
    check(client.get("/v1/me"), "GET", "/v1/me")
    check(runner.delete(shoe_path), "DELETE", shoe_path)
    assert len(checked) >= 15


def refs_in(obj):
    if isinstance(obj, dict):
        if isinstance(obj.get("$ref"), str):
            yield obj["$ref"]
        for value in obj.values():
            yield from refs_in(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from refs_in(value)


def test_every_component_is_used(client):
    """Generators make a model of every schema; linters flag the unused ones."""
    spec = client.get("/openapi.json").get_json()
    reached, pending = set(), list(refs_in({k: v for k, v in spec.items() if k != "components"}))
    while pending:
        ref = pending.pop()
        if ref not in reached:
            reached.add(ref)
            pending.extend(refs_in(resolve(spec, {"$ref": ref})))
    declared = {f"#/components/{kind}/{name}" for kind, items in spec["components"].items()
                if kind != "securitySchemes" for name in items}
    assert declared - reached == set()
    schemes = {scheme for _, operation in operations(spec)
               for requirement in operation.get("security", []) for scheme in requirement}
    assert schemes == set(spec["components"]["securitySchemes"])


def test_the_document_names_its_licence_and_a_contact(client):
    info = client.get("/openapi.json").get_json()["info"]
    assert info["license"] == {"name": "Proprietary"}, "no licence is granted"
    assert info["contact"]["name"] == "Backstride"


def test_every_operation_says_what_it_does(client):
    """The summary is a method's name in a generated client; the description its docs."""
    spec = client.get("/openapi.json").get_json()
    for name, operation in operations(spec):
        assert operation.get("description", "").strip(), f"{name} has no description"


def test_operation_ids_say_what_the_operation_does_not_its_method(client):
    """A generated client's method is named after it: `putCheckinBatch` for a POST said neither."""
    spec = client.get("/openapi.json").get_json()
    for name, operation in operations(spec):
        verb = re.match(r"[a-z]+", operation["operationId"]).group()
        assert verb not in ("put", "post", "patch"), f"{name}: {operation['operationId']}"
    assert spec["paths"]["/v1/checkins/{checkin_id}"]["put"]["operationId"] == "uploadCheckin"
    assert spec["paths"]["/v1/checkins/batch"]["post"]["operationId"] == "uploadCheckinBatch"


def test_readiness_answers_the_503_it_documents(tmp_path, database):
    """Its problem also names what each dependency answered: a client validating the answer
    against a plain Problem (no other members allowed) would refuse it."""
    broken = make_settings(database.url, tmp_path, broker_url="redis://127.0.0.1:9/0")
    client = create_app(broken).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    spec = client.get("/openapi.json").get_json()
    documented = resolve(spec, spec["paths"]["/readyz"]["get"]["responses"]["503"])
    media = documented["content"][response.mimetype]
    schema = {**media["schema"], "components": spec["components"]}
    errors = [f"{list(error.absolute_path)}: {error.message}"
              for error in Draft202012Validator(schema).iter_errors(response.get_json())]
    assert errors == []
    assert {"retry-after", "x-request-id"} <= header_names(documented)
    assert "Retry-After" in response.headers



# Fields an answer leaves out when they have nothing to say, each for its reason; every other
# property of a schema that answers are made of is sent always, so it must be `required` (a
# generated client would otherwise type it `T | undefined` and make every reader check it).
SOMETIMES_ABSENT = {
    "Problem": {"errors"},  # only a validation problem names fields
    "NotReady": {"errors"},  # the same problem shape, with each dependency's check
    "Health": {"checks"},  # liveness answers without checking dependencies
    "PainAnswers": set(),  # filled below: the athlete answers only the questions asked
}


def test_every_field_an_answer_always_sends_is_required(client):
    spec = client.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    SOMETIMES_ABSENT["PainAnswers"] = set(schemas["PainAnswers"]["properties"])
    reached: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref and ref not in reached:
                reached.add(ref)
                walk(resolve(spec, node))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _, operation in operations(spec):
        walk(operation["responses"])
    prefix = "#/components/schemas/"
    reached_schemas = {ref.removeprefix(prefix) for ref in reached if ref.startswith(prefix)}
    assert {"Problem", "Profile", "PersonalToken", "PersonalTokenCreated"} <= reached_schemas
    for name in sorted(reached_schemas):
        schema = schemas[name]
        optional = set(schema.get("properties", {})) - set(schema.get("required", []))
        assert optional <= SOMETIMES_ABSENT.get(name, set()), f"{name}: {sorted(optional)}"
