"""Calls over api-gateway's staff API (SPEC section 7): GET /calls,
GET /calls/{id} and PATCH /calls/{id}. The gateway checks the request's
shape (view, limit, the PATCH members and their types) before it asks
call-router, which owns whose calls a caller may see or change."""
import json

import pytest

from harness import Api, start_stack
from test_registry_objects import err


@pytest.fixture
def gateway(cluster):
    """agent-registry and api-gateway only: nothing answers cc.call.*."""
    return start_stack(cluster)


def test_call_routes_need_a_session(gateway):
    anon = Api(gateway.base)
    assert anon.get("/api/v1/calls", view="active").status_code == 401
    assert anon.get("/api/v1/calls/call_x").status_code == 401
    assert anon.patch("/api/v1/calls/call_x", {"result_details": "x"}).status_code == 401


@pytest.mark.parametrize("params", [{}, {"view": "history"}, {"view": ""},
                                    {"view": "active", "limit": "0"},
                                    {"view": "active", "limit": "101"},
                                    {"view": "closed", "limit": "ten"}])
def test_call_list_query_is_checked(gateway, params):
    err(gateway.get("/api/v1/calls", **params), 400, "bad_request")


@pytest.mark.parametrize("body", [
    [], "x", 5, None,
    {"state": "ended"},                  # not a field the desk may change
    {"agent_id": "usr_x"},
    {"result_id": 5},
    {"result_details": ["a"]},
    {"result_details": True},
    {"links": "CASE-1"},
    {"links": {"case_id": 7}},
    {"links": {"ticket": "T-1"}},        # not a link of a record
])
def test_call_patch_members_and_types_are_checked(gateway, body):
    r = gateway.call("PATCH", "/api/v1/calls/call_x", raw=json.dumps(body),
                     headers={"Content-Type": "application/json"})
    err(r, 400, "bad_request")


def test_without_call_router_a_well_formed_request_is_503(gateway):
    msg = err(gateway.get("/api/v1/calls", view="active"), 503, "unavailable")
    assert "call-router" in msg
    err(gateway.get("/api/v1/calls/call_x"), 503, "unavailable")
    err(gateway.patch("/api/v1/calls/call_x", {"result_details": "ok", "links": {"case_id": "C-1"}}),
        503, "unavailable")
