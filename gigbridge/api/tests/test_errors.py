"""The error surface: under /api/ and /hooks/ every error is problem+json (Django's 404/500,
405, oversized bodies, gunicorn's own 414/400); pages get friendly HTML; the OpenAPI
description documents the errors of every operation."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.management import call_command
from django.test import Client, RequestFactory

from conftest import request_payload
from gigbridge import errors
from gigbridge.api.problems import CONTENT_TYPE

PROBLEM_REF = "#/components/schemas/Problem"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == CONTENT_TYPE
    body = json.loads(response.content)
    assert body["status"] == status and body["title"]
    assert "Traceback" not in response.content.decode()
    return body


# --- the OpenAPI description ---------------------------------------------------------------


@pytest.fixture(scope="module")
def schema():
    from gigbridge.api.main import api

    return api.get_openapi_schema()


def problem_statuses(operation: dict) -> set[int]:
    return {
        int(code)
        for code, answer in operation["responses"].items()
        if answer.get("content", {}).get(CONTENT_TYPE, {}).get("schema", {}).get("$ref")
        == PROBLEM_REF
    }


def test_every_operation_documents_its_problem_responses(schema):
    operations = [
        (path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) > 20
    for path, method, op in operations:
        documented = problem_statuses(op)
        assert {401, 403, 429} <= documented, (method, path)
        if "{" in path:
            assert 404 in documented, (method, path)
        if "requestBody" in op:
            assert {400, 413, 422} <= documented, (method, path)
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"title", "status"}


def test_an_operation_keeps_its_own_declaration_of_a_status():
    from gigbridge.api.problems import document

    own = {"description": "mine", "content": {"application/json": {"schema": {}}}}
    schema = {"paths": {"/x/{id}": {"get": {"security": [{}], "responses": {200: {}, 404: own}}}}}
    responses = document(schema)["paths"]["/x/{id}"]["get"]["responses"]
    assert responses[404] is own and 401 in responses


def test_timelines_and_the_audit_trail_have_their_own_schemas(schema):
    names = set(schema["components"]["schemas"])
    assert "EventOut" not in names
    assert {"TimelineEventOut", "AuditEventOut"} <= names
    timeline = schema["paths"]["/api/v1/requests/{request_id}/timeline"]["get"]
    items = timeline["responses"][200]["content"]["application/json"]["schema"]["items"]
    assert items["$ref"].endswith("/TimelineEventOut")
    assert "hash" not in schema["components"]["schemas"]["TimelineEventOut"]["properties"]


# --- errors under /api/ and /hooks/ ----------------------------------------------------------


def test_unknown_api_paths_and_methods_are_problem_json(api, db):
    rita = api("rita")
    assert_problem(rita.get("/api/v1/no-such-thing"), 404)
    assert_problem(Client().get("/api/nothing-here"), 404)
    assert_problem(Client().get("/hooks/nothing-here"), 404)
    response = rita.delete("/api/v1/requests")
    assert "DELETE" in assert_problem(response, 405)["detail"]
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}
    assert_problem(rita.get("/api/v1/requests/not-a-number"), 422)
    assert_problem(Client().get("/api/v1/me"), 401)


def test_an_oversized_api_body_is_413_problem_json(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api("rita").post(
        "/api/v1/requests", data=b" " * 10_001, content_type="application/json"
    )
    assert "10000 bytes" in assert_problem(response, 413)["detail"]


@pytest.mark.parametrize("debug", [False, True])
def test_an_unhandled_error_in_the_api_is_a_500_problem_without_internals(
    api, settings, monkeypatch, caplog, debug
):
    settings.DEBUG = debug  # with DEBUG ninja used to answer the traceback as text/plain

    def broken(user):
        raise RuntimeError("internal detail 7f3a")

    monkeypatch.setattr("gigbridge.people.actions.roles_of", broken)
    client = api("rita")
    client.raise_request_exception = False
    response = client.get("/api/v1/me")
    body = assert_problem(response, 500)
    assert "7f3a" not in json.dumps(body)
    assert any("7f3a" in str(r.exc_info) for r in caplog.records if r.exc_info)  # logged


def test_an_unhandled_error_in_the_webhook_is_a_500_problem(db, monkeypatch):
    from gigbridge.access import hooks

    class Broken:
        @staticmethod
        def model_validate_json(raw):
            raise RuntimeError("internal detail 7f3a")

    monkeypatch.setattr(hooks, "Collection", Broken)
    response = Client(raise_request_exception=False).post(
        "/hooks/graph", data=b"{}", content_type="application/json"
    )
    assert "7f3a" not in json.dumps(assert_problem(response, 500))


def test_the_error_views_answer_problems_for_machine_paths():
    factory = RequestFactory()
    api_request = factory.get("/api/v1/x")
    assert_problem(errors.bad_request(api_request, SuspiciousOperation("x")), 400)
    assert_problem(errors.permission_denied(api_request, PermissionDenied("x")), 403)
    assert_problem(errors.server_error(factory.get("/hooks/graph")), 500)


# --- pages keep friendly HTML ----------------------------------------------------------------


def html(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_pages_get_friendly_html_error_pages(people, settings, monkeypatch):
    assert not settings.DEBUG
    assert "Page not found" in html(Client().get("/no-such-page/"), 404)
    request = RequestFactory().get("/requests/1/")
    assert "Not allowed" in html(errors.permission_denied(request, PermissionDenied()), 403)
    assert "Bad request" in html(errors.bad_request(request, SuspiciousOperation()), 400)

    def broken():
        raise RuntimeError("internal detail 7f3a")

    monkeypatch.setattr("gigbridge.program.views.actions.current", broken)
    client = Client(raise_request_exception=False)
    client.force_login(people["rita"])
    page = html(client.get("/policy/"), 500)
    assert "Something went wrong" in page and "7f3a" not in page


def test_an_oversized_form_is_a_413_page(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = Client().post("/login/", {"username": "rita", "password": "x" * 10_001})
    assert "Too large" in html(response, 413)


# --- gunicorn's own answers ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_argv(monkeypatch):
    """The command line `gigbridge web` runs (captured instead of exec'd)."""
    captured = []
    monkeypatch.setattr("gigbridge.jobs.management.commands.web.check_or_exit", lambda stderr: None)
    monkeypatch.setattr(
        "gigbridge.jobs.management.commands.web.os.execvp", lambda f, argv: captured.append(argv)
    )
    call_command("web", "--port", str(free_port()), "--workers", "1")
    [argv] = captured
    return argv


@pytest.fixture
def gunicorn(gunicorn_argv, tmp_path):
    port = free_port()
    argv = list(gunicorn_argv)
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    env = {**os.environ, "GIGBRIDGE_DATA_DIR": str(tmp_path)}
    log = open(tmp_path / "gunicorn.log", "wb")  # closed after the process ends
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=15)
    log.close()


def test_gigbridge_web_starts_gunicorn_with_the_problem_worker(gunicorn_argv):
    assert gunicorn_argv[0] == sys.executable
    i = gunicorn_argv.index("--worker-class")
    assert gunicorn_argv[i + 1] == "gigbridge.gunicorn_worker.ProblemWorker"


def test_gunicorn_refusals_are_problem_json(gunicorn):
    response = httpx.get(f"{gunicorn}/api/v1/requests?q={'x' * 10_000}", timeout=10)
    assert response.status_code == 414
    assert response.headers["content-type"] == CONTENT_TYPE
    assert response.json()["status"] == 414
    host, port = gunicorn.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"NOT A REQUEST LINE\r\n\r\n")
        answer = raw.recv(4096).decode("latin-1")
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400")
    assert f"Content-Type: {CONTENT_TYPE}" in head
    assert json.loads(body)["status"] == 400


def test_the_nul_character_is_a_422_naming_the_field_not_a_database_error(api):
    # schemathesis found it on PostgreSQL: `?object_type=%00` made psycopg raise (a 500).
    ada = api("ada")
    body = assert_problem(ada.get("/api/v1/audit/events?object_type=a%00b"), 422)
    assert body["errors"][0]["field"] == "object_type"
    payload = json.dumps(request_payload(title="Logo\u0000", deliverables=["ok", "bad\u0000"]))
    body = assert_problem(api("rita").post("/api/v1/requests", payload, "application/json"), 422)
    assert {e["field"] for e in body["errors"]} == {"title", "deliverables.1"}
