"""Calls over api-gateway's staff API (SPEC section 7): GET /calls,
GET /calls/{id} and PATCH /calls/{id}. The gateway checks the request's
shape (view, limit, the PATCH members and their types) before it asks
call-router, which owns whose calls a caller may see or change: an agent
their own, a supervisor the calls of their queues, an admin all. Calls are
made the way a PBX makes them, over call-router's /pbx/v1 (Pbx below)."""
import json
import secrets

import pytest
import requests

from harness import Api, start_stack
from test_registry_objects import err, make, skill, team, user
from test_routing import wait_until
from test_status_api import Stream

SLOW = 20  # seconds: the services run under ASan on a shared machine


class Pbx:
    """A PBX speaking call-router's /pbx/v1 (docs/calls.md) over plain HTTP."""

    def __init__(self, base, token):
        self.base, self.h = base + "/pbx/v1", {"Authorization": "Bearer " + token}

    def post(self, path, body):
        return requests.post(self.base + path, json=body, headers=self.h, timeout=10)

    def call(self, call_id, queue_id, frm, to="+48221000000"):
        """A queue call enters: its interaction id."""
        r = self.post("/calls", {"call_id": call_id, "queue_id": queue_id, "from": frm, "to": to})
        assert r.status_code == 201, r.text
        return r.json()["interaction_id"]

    def route(self, call_id, timeout=SLOW):
        """Long-polls (wait_s=2) until agents are offered the call: the route answer."""
        def once():
            r = requests.get(f"{self.base}/calls/{call_id}/route", params={"wait_s": 2},
                             headers=self.h, timeout=10)
            assert r.status_code in (200, 204), r.text
            return r.json() if r.status_code == 200 else None
        return wait_until(once, timeout)

    def event(self, call_id, kind, **kw):
        r = self.post(f"/calls/{call_id}/events", {"type": kind, **kw})
        assert r.status_code == 200, r.text
        return r.json()

    def answered(self, call_id):
        """Rings the routed agent and reports the answer: the route answer."""
        offer = self.route(call_id)
        self.event(call_id, "ringing", offer_id=offer["offer_id"])
        self.event(call_id, "answered", offer_id=offer["offer_id"])
        return offer


def start_calls(cluster):
    """skill-router and call-router (with a PBX token) beside a running
    agent-registry and api-gateway: the Pbx that drives call-router."""
    token = secrets.token_hex(16)
    cluster.start("skill-router")
    router = cluster.start("call-router", env={"CC_PBX_TOKEN": token})
    return Pbx(router.base, token)


def phone_queue(admin, name, team_id, agent_ids, **kw):
    """A call queue of `team_id` with its own skill, held by `agent_ids`
    (each given a SIP account)."""
    s = skill(admin, name)
    q = make(admin, "/api/v1/queues", {"name": name, "channel": "call", "skill_id": s["id"],
                                       "team_ids": [team_id], "max_concurrent_chats": 1, **kw})
    for a in agent_ids:
        assert admin.put(f"/api/v1/agents/{a}/skills/{s['id']}", {"capacity": 50}).status_code == 200
    return q


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


@pytest.fixture
def center(cluster):
    """Two call queues: Hotline (agent ann, supervisor sue) and Sales
    (agent bob, supervisor sid); a result "Solved"; ann and bob in
    Callcenter."""
    admin = start_stack(cluster)
    pbx = start_calls(cluster)
    sue = user(admin, "sue", role="supervisor")
    sid = user(admin, "sid", role="supervisor")
    t1 = team(admin, "Hotline team", call_offer_timeout_s=30, wrap_up_time_s=600)
    t2 = team(admin, "Sales team", call_offer_timeout_s=30, wrap_up_time_s=600)
    ann = user(admin, "ann", agent={"enabled": True, "team_id": t1["id"]}, sip_account="sip:ann@pbx.test")
    bob = user(admin, "bob", agent={"enabled": True, "team_id": t2["id"]}, sip_account="sip:bob@pbx.test")
    hot = phone_queue(admin, "Hotline", t1["id"], [ann["id"]], supervisor_ids=[sue["id"]])
    sales = phone_queue(admin, "Sales", t2["id"], [bob["id"]], supervisor_ids=[sid["id"]])
    solved = make(admin, "/api/v1/results", {"name": "Solved"})
    apis = {n: Api(admin.base).login(n, "password-" + n) for n in ("ann", "bob", "sue", "sid")}
    for n in ("ann", "bob"):
        assert apis[n].put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
    return {"admin": admin, "pbx": pbx, "hot": hot, "sales": sales, "solved": solved,
            "ann": ann, "bob": bob, **{"api_" + n: a for n, a in apis.items()}}


def ids(api, view):
    r = api.get("/api/v1/calls", view=view)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_agents_see_their_calls_supervisors_their_queues_admins_all(center):
    pbx, admin = center["pbx"], center["admin"]
    ann, bob, sue, sid = (center["api_" + n] for n in ("ann", "bob", "sue", "sid"))
    c1 = pbx.call("hot-1@pbx", center["hot"]["id"], "+48600100200")
    c2 = pbx.call("sales-1@pbx", center["sales"]["id"], "+48600300400")
    assert pbx.answered("hot-1@pbx")["agent_id"] == center["ann"]["id"]
    assert pbx.answered("sales-1@pbx")["agent_id"] == center["bob"]["id"]
    wait_until(lambda: sorted(ids(admin, "active")) == sorted([c1, c2]), SLOW)
    assert ids(ann, "active") == [c1] and ids(bob, "active") == [c2]
    assert ids(sue, "active") == [c1] and ids(sid, "active") == [c2]
    call = ann.get(f"/api/v1/calls/{c1}").json()
    assert (call["state"], call["from"], call["agent_id"], call["queue_id"]) == \
        ("connected", "+48600100200", center["ann"]["id"], center["hot"]["id"])
    assert call["queue_name"] == "Hotline" and call["answered_at"]
    # someone else's call is hidden: 404 for the other agent and the other queue's supervisor
    err(bob.get(f"/api/v1/calls/{c1}"), 404, "not_found")
    err(sid.get(f"/api/v1/calls/{c1}"), 404, "not_found")
    err(bob.patch(f"/api/v1/calls/{c1}", {"result_details": "not mine"}), 404, "not_found")
    assert ann.get(f"/api/v1/calls/{c1}").json()["result_details"] is None
    assert sue.get(f"/api/v1/calls/{c1}").status_code == 200
    assert admin.get(f"/api/v1/calls/{c2}").status_code == 200
    err(ann.get("/api/v1/calls/call_nope"), 404, "not_found")
    err(admin.patch("/api/v1/calls/call_nope", {"result_details": "x"}), 404, "not_found")

    # hung up: closed for its agent, its supervisor and admins
    pbx.event("hot-1@pbx", "hangup", by="caller")
    wait_until(lambda: ids(ann, "closed") == [c1], SLOW)
    assert ids(ann, "active") == [] and ids(sue, "closed") == [c1] and ids(sid, "closed") == []
    assert c1 in ids(admin, "closed")
    ended = ann.get(f"/api/v1/calls/{c1}").json()
    assert (ended["state"], ended["hangup_by"], ended["outcome"]) == ("ended", "caller", "answered")
    assert ended["talk_s"] >= 0 and ended["ended_at"]


def test_the_agent_records_a_result_and_an_unknown_one_is_refused(center):
    pbx, ann, sue = center["pbx"], center["api_ann"], center["api_sue"]
    c1 = pbx.call("hot-2@pbx", center["hot"]["id"], "+48600100200")
    pbx.answered("hot-2@pbx")
    body = {"result_id": center["solved"]["id"], "result_details": "Adres zmieniony ✅",
            "links": {"case_id": "CASE-9"}}
    r = ann.patch(f"/api/v1/calls/{c1}", body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["result_id"], got["result_details"], got["links"]["case_id"]) == \
        (center["solved"]["id"], "Adres zmieniony ✅", "CASE-9")
    assert ann.get(f"/api/v1/calls/{c1}").json()["result_details"] == "Adres zmieniony ✅"
    err(ann.patch(f"/api/v1/calls/{c1}", {"result_id": "res_nope"}), 400, "bad_request")
    assert ann.get(f"/api/v1/calls/{c1}").json()["result_id"] == center["solved"]["id"]
    # its queue's supervisor may set it too
    assert sue.patch(f"/api/v1/calls/{c1}", {"result_details": "checked"}).status_code == 200


def test_the_agents_event_stream_carries_the_call_offer_and_its_changes(center):
    pbx, ann = center["pbx"], center["api_ann"]
    s = Stream(ann.base, "/api/v1/me/events", ann.token, timeout=SLOW)
    assert s.frame() == {"comment": "connected"}
    cid = pbx.call("hot-3@pbx", center["hot"]["id"], "+48600100200")
    offer = s.until(lambda f: f.get("event") == "offer", SLOW)
    o = json.loads(offer["data"])
    assert (o["kind"], o["interaction_id"], o["customer"]["phone"], o["queue_name"]) == \
        ("call", cid, "+48600100200", "Hotline")
    pbx.answered("hot-3@pbx")
    f = s.until(lambda f: f.get("event") == "call_updated" and
                json.loads(f["data"])["state"] == "connected", SLOW)
    assert json.loads(f["data"])["id"] == cid
    pbx.event("hot-3@pbx", "hangup", by="agent")
    f = s.until(lambda f: f.get("event") == "call_updated" and
                json.loads(f["data"])["state"] == "ended", SLOW)
    assert json.loads(f["data"])["hangup_by"] == "agent"
