"""Callbacks (SPEC 7, issue 14): a caller who abandons after the queue's
callback_after_s (or asks for one) becomes a callback in that queue, routed
like any call; when it is offered the PBX is told to dial (command `dial`)
and reports on the callback's own call id; staff may ask for callbacks, an
agent's are personal, and an absent agent's go to callbacks_forward_to."""
import time

import pytest
import requests

from harness import Api, start_stack
from test_calls_pbx import Pbx
from test_calls_supervise import commands, result
from test_registry_objects import make, skill, team, user
from test_routing import agent, state, wait_until


@pytest.fixture
def w(cluster):
    admin = start_stack(cluster)
    cluster.start("skill-router")
    cr = cluster.start("call-router")
    t = team(admin, "Back", call_offer_timeout_s=10, wrap_up_time_s=0, no_answer_delay_s=0)
    s = skill(admin, "Voice")
    q = make(admin, "/api/v1/queues", {"name": "Sales", "channel": "call", "skill_id": s["id"],
                                       "callback_after_s": 1})
    pbx = Pbx(cr)
    wait_until(lambda: pbx.create("probe", q["id"]).status_code == 201, timeout=20)
    pbx.event("probe", "abandoned")  # waited less than 1 s: no callback
    world = {"admin": admin, "pbx": pbx, "queue": q["id"], "team": t, "skill": s}
    return world


def callbacks(w, **match):
    items = w["admin"].get("/api/v1/calls", view="active", limit=100).json()["items"]
    return [c for c in items if c["direction"] == "callback" and
            all(c.get(k) == v for k, v in match.items())]


def dial_command(w):
    got = commands(w, wait_s=5)
    assert len(got) == 1 and got[0]["type"] == "dial", got
    return got[0]


def test_abandon_after_the_threshold_is_called_back_through_the_pbx(w):
    pbx, q = w["pbx"], w["queue"]
    assert callbacks(w) == []
    origin = pbx.create("ab-long", q, frm="+48601601601", to="5000").json()["interaction_id"]
    time.sleep(1.2)
    pbx.event("ab-long", "abandoned")
    (cb,) = wait_until(lambda: callbacks(w, callback_of=origin))
    assert cb["to"] == "+48601601601" and cb["from"] == "5000" and cb["state"] == "waiting"
    assert cb["queue_id"] == q
    a, api = agent(w, "amy", sip_account="amy@pbx")
    api.put("/api/v1/me/status", {"status": "callcenter"})
    cmd = dial_command(w)
    assert cmd["interaction_id"] == cb["id"] and cmd["number"] == "+48601601601"
    assert cmd["agent_sip_uri"] == "amy@pbx" and cmd["caller_id"] == "5000"
    assert cmd["call_id"] == cb["call_id"] and cmd["offer_id"].endswith("." + a)
    offers = api.get("/api/v1/me/offers").json()["items"]
    assert offers and offers[0]["kind"] == "call" and offers[0]["source"] == "callback"
    result(w, cmd, "done")
    pbx.event(cmd["call_id"], "ringing", cmd["offer_id"])
    assert pbx.event(cmd["call_id"], "answered", cmd["offer_id"]).json()["state"] == "connected"
    assert state(w, a)["state"] == "busy"
    pbx.event(cmd["call_id"], "hangup", by="agent")
    rec = w["admin"].get(f"/api/v1/calls/{cb['id']}").json()
    assert rec["outcome"] == "answered" and rec["agent_id"] == a and rec["direction"] == "callback"
    wait_until(lambda: state(w, a)["state"] == "waiting")
    day = w["admin"].get("/api/v1/reports/queues", interval="day", queue_id=q).json()["items"]
    assert wait_until(lambda: sum(r["callbacks"] for r in w["admin"].get(
        "/api/v1/reports/queues", interval="day", queue_id=q).json()["items"]) == 1) and day


def test_a_short_wait_gets_no_callback_unless_the_caller_asks(w):
    pbx, q = w["pbx"], w["queue"]
    pbx.create("short", q)
    pbx.event("short", "abandoned")
    time.sleep(0.5)
    assert callbacks(w) == []
    origin = pbx.create("asks", q, frm="+48700000001").json()["interaction_id"]
    assert pbx.event("asks", "callback_requested").json()["state"] == "ended"
    (cb,) = wait_until(lambda: callbacks(w, callback_of=origin))
    rec = w["admin"].get(f"/api/v1/calls/{origin}").json()
    assert rec["outcome"] == "abandoned"


def test_a_customer_not_reached_ends_the_callback_failed(w):
    a, api = agent(w, "bea", sip_account="bea@pbx")
    api.put("/api/v1/me/status", {"status": "callcenter"})
    cb = w["admin"].post("/api/v1/callbacks", {"number": "+48111222333", "queue_id": w["queue"]})
    assert cb.status_code == 201, cb.text
    cmd = dial_command(w)
    pbx = w["pbx"]
    pbx.event(cmd["call_id"], "answered", cmd["offer_id"])
    pbx.event(cmd["call_id"], "failed", reason="customer_no_answer")
    rec = w["admin"].get(f"/api/v1/calls/{cb.json()['id']}").json()
    assert rec["outcome"] == "failed" and rec["hangup_by"] == "system"
    wait_until(lambda: state(w, a)["state"] == "waiting")


def test_personal_callbacks_wait_for_their_agent_or_go_to_the_forward_target(w):
    admin, q = w["admin"], w["queue"]
    a, api_a = agent(w, "cal", sip_account="cal@pbx")
    b, api_b = agent(w, "dee", sip_account="dee@pbx")
    api_b.put("/api/v1/me/status", {"status": "callcenter"})
    api_a.put("/api/v1/me/status", {"status": "ready"})
    mine = api_a.post("/api/v1/callbacks", {"number": "+48222333444", "queue_id": q})
    assert mine.status_code == 201 and mine.json()["reserved_agent"] == a
    time.sleep(1.0)
    assert commands(w) == []  # dee is free, but it is cal's
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    cmd = dial_command(w)
    assert cmd["agent_id"] == a and cmd["interaction_id"] == mine.json()["id"]
    assert api_a.post("/api/v1/callbacks", {"number": "+4811", "queue_id": q,
                                            "agent_id": b}).status_code == 403
    # cal signs out with dee as forward target: cal's new callbacks go to dee
    assert admin.patch(f"/api/v1/users/{a}", {"callbacks_forward_to": b}).status_code == 200
    api_a.post("/api/v1/auth/logout")
    wait_until(lambda: state(w, a)["status"] == "offline")
    # the callback ringing for cal is withdrawn at the sign-out and goes on at once, like a
    # decline, to the next agent: dee (docs/presence.md, "Leaving routing at once")
    cmd = dial_command(w)
    assert cmd["agent_id"] == b and cmd["interaction_id"] == mine.json()["id"]
    result(w, cmd, "done")
    pbx = w["pbx"]
    pbx.event(cmd["call_id"], "answered", cmd["offer_id"])
    pbx.event(cmd["call_id"], "hangup", by="agent")
    wait_until(lambda: state(w, b)["state"] == "waiting")
    fwd = admin.post("/api/v1/callbacks", {"number": "+48333444555", "queue_id": q, "agent_id": a})
    assert fwd.status_code == 201 and fwd.json()["reserved_agent"] == b
    cmd = dial_command(w)
    assert cmd["agent_id"] == b and cmd["interaction_id"] == fwd.json()["id"]


def test_bad_callbacks_are_refused_and_forwarding_needs_a_shared_queue(w):
    admin = w["admin"]
    for body in ({}, {"number": "+481"}, {"queue_id": w["queue"]},
                 {"number": "+481", "queue_id": "que_nope"}, {"number": 5, "queue_id": w["queue"]},
                 {"number": "+481", "queue_id": w["queue"], "color": "red"}):
        assert admin.post("/api/v1/callbacks", body).status_code == 400, body
    lonely = user(admin, "lonely", agent={"enabled": True})  # no skill: shares no queue
    a, _ = agent(w, "eve", sip_account="eve@pbx")
    r = admin.patch(f"/api/v1/users/{a}", {"callbacks_forward_to": lonely["id"]})
    assert r.status_code == 400 and "shares no queue" in r.json()["error"]["message"]
