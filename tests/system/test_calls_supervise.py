"""Listen, whisper and barge (SPEC 7, issue 14): a supervisor of the call's
queue or an admin asks; call-router queues a `supervise` command that the PBX
fetches with a long-poll (GET /pbx/v1/commands) and reports (done / failed);
every request is an audit record; wrong role, wrong queue, no call and a call
not connected are refused."""
import threading
import time

import pytest
import requests

from harness import Api, start_stack
from test_calls_pbx import Pbx
from test_registry_objects import make, skill, team, user
from test_routing import agent, wait_until


@pytest.fixture
def w(cluster):
    admin = start_stack(cluster)
    cluster.start("skill-router")
    cr = cluster.start("call-router")
    t = team(admin, "Floor", call_offer_timeout_s=10, wrap_up_time_s=0)
    s = skill(admin, "Voice")
    boss = user(admin, "boss", role="supervisor", sip_account="boss@pbx")
    other = user(admin, "other", role="supervisor", sip_account="other@pbx")
    q = make(admin, "/api/v1/queues", {"name": "Main", "channel": "call", "skill_id": s["id"],
                                       "supervisor_ids": [boss["id"]]})
    make(admin, "/api/v1/queues", {"name": "Else", "channel": "call", "skill_id": s["id"],
                                   "supervisor_ids": [other["id"]]})
    pbx = Pbx(cr)
    wait_until(lambda: pbx.create("probe", q["id"]).status_code == 201, timeout=20)
    pbx.event("probe", "abandoned")
    a, api_a = agent({"admin": admin, "team": t, "skill": s}, "ada", sip_account="ada@pbx")
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    return {"admin": admin, "pbx": pbx, "queue": q["id"], "agent": a, "api_agent": api_a,
            "boss": Api(admin.base).login("boss", "password-boss"),
            "other": Api(admin.base).login("other", "password-other"), "boss_id": boss["id"]}


def connected_call(w, call_id):
    pbx = w["pbx"]
    ix = pbx.create(call_id, w["queue"]).json()["interaction_id"]
    o = pbx.offer(call_id)
    pbx.event(call_id, "answered", o["offer_id"])
    return ix


def commands(w, wait_s=0):
    pbx = w["pbx"]
    r = requests.get(f"{pbx.base}/commands", params={"wait_s": wait_s}, headers=pbx.h,
                     timeout=wait_s + 10)
    assert r.status_code in (200, 204), r.text
    return r.json()["commands"] if r.status_code == 200 else []


def result(w, cmd, status, reason=None):
    pbx = w["pbx"]
    body = {"status": status, **({"reason": reason} if reason else {})}
    return requests.post(f"{pbx.base}/commands/{cmd['command_id']}/result", json=body,
                         headers=pbx.h, timeout=10)


def test_listen_then_barge_reaches_the_pbx_and_is_audited(w):
    ix = connected_call(w, "sv-1")
    got = {}

    def poll():  # the PBX already waits for commands when the supervisor asks
        got["cmds"] = commands(w, wait_s=10)

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.5)
    r = w["boss"].post(f"/api/v1/calls/{ix}/supervise", {"mode": "listen"})
    assert r.status_code == 200, r.text
    sup = r.json()
    assert sup["state"] == "requested" and sup["mode"] == "listen"
    assert sup["agent_id"] == w["agent"] and sup["supervisor_id"] == w["boss_id"]
    th.join(10)
    (cmd,) = got["cmds"]
    assert cmd["type"] == "supervise" and cmd["mode"] == "listen" and cmd["call_id"] == "sv-1"
    assert cmd["agent_sip_uri"] == "ada@pbx" and cmd["supervisor_sip_uri"] == "boss@pbx"
    assert cmd["supervision_id"] == sup["id"] and "state" not in cmd
    assert result(w, cmd, "done").json()["ignored"] is False
    assert result(w, cmd, "done").json()["ignored"] is True  # a repeat changes nothing
    audit = w["boss"].get(f"/api/v1/calls/{ix}/supervisions").json()["items"]
    assert [(s["mode"], s["state"]) for s in audit] == [("listen", "active")]
    # switch to barge, then stop
    w["boss"].post(f"/api/v1/calls/{ix}/supervise", {"mode": "barge"})
    (cmd,) = commands(w)
    assert cmd["mode"] == "barge"
    result(w, cmd, "done")
    assert w["boss"].delete(f"/api/v1/calls/{ix}/supervise").json()["mode"] == "stop"
    (cmd,) = commands(w)
    result(w, cmd, "done")
    modes = [(s["mode"], s["state"]) for s in
             w["admin"].get(f"/api/v1/calls/{ix}/supervisions").json()["items"]]
    assert modes == [("stop", "ended"), ("barge", "active"), ("listen", "active")]
    everything = w["admin"].get("/api/v1/supervisions").json()["items"]
    assert {s["id"] for s in everything} >= {s["id"] for s in audit}
    assert w["other"].get("/api/v1/supervisions").json()["items"] == []  # not their queue


def test_whisper_the_pbx_cannot_do_is_reported_failed(w):
    ix = connected_call(w, "sv-2")
    sup = w["admin"].post(f"/api/v1/calls/{ix}/supervise", {"mode": "whisper"})
    assert sup.status_code == 409  # the admin has no phone
    assert "phone" in sup.json()["error"]["message"]
    w["boss"].post(f"/api/v1/calls/{ix}/supervise", {"mode": "whisper"})
    (cmd,) = commands(w)
    result(w, cmd, "failed", "whisper needs a media server")
    (s,) = w["boss"].get(f"/api/v1/calls/{ix}/supervisions").json()["items"]
    assert s["state"] == "failed" and s["reason"] == "whisper needs a media server"


def test_wrong_role_wrong_queue_no_call_and_not_connected_are_refused(w):
    ix = connected_call(w, "sv-3")
    r = w["api_agent"].post(f"/api/v1/calls/{ix}/supervise", {"mode": "listen"})
    assert r.status_code == 403
    r = w["other"].post(f"/api/v1/calls/{ix}/supervise", {"mode": "listen"})
    assert r.status_code == 403
    assert w["boss"].post("/api/v1/calls/call_nope/supervise", {"mode": "listen"}).status_code == 404
    waiting = w["pbx"].create("sv-4", w["queue"]).json()["interaction_id"]  # ada is busy
    r = w["boss"].post(f"/api/v1/calls/{waiting}/supervise", {"mode": "listen"})
    assert r.status_code == 409 and "not connected" in r.json()["error"]["message"]
    for body in ({"mode": "spy"}, {}, {"mode": "listen", "extra": 1}):
        assert w["boss"].post(f"/api/v1/calls/{ix}/supervise", body).status_code == 400
    assert w["api_agent"].get("/api/v1/supervisions").status_code == 403
    assert commands(w) == []  # nothing was sent to the PBX
    pbx = w["pbx"]
    assert requests.get(f"{pbx.base}/commands", timeout=5).status_code == 401
    r = requests.post(f"{pbx.base}/commands/cmd_nope/result", json={"status": "done"},
                      headers=pbx.h, timeout=5)
    assert r.status_code == 404
