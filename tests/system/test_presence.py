"""Agent status and state (SPEC section 4): the whole transition table,
allowed and refused, by each kind of caller (the agent, a supervisor or
admin, the router, timers, sign-in and sign-out), and the timers."""
import json
import os
import subprocess
import time

import pytest

from harness import SAN_ENV, UNIT_DIR, Api, key, start_stack
from test_registry_objects import err, make, skill, team, user


class Router:
    """Sends routing events over NATS as skill-router / chat-gateway do."""

    def __init__(self, cluster):
        self.env = dict(os.environ, CC_TEST_NATS_URL=cluster.nats.url, **SAN_ENV)

    def __call__(self, agent_id, event, kind, queue_id=None, ok=True, interaction=None):
        ev = {"agent_id": agent_id, "event": event, "kind": kind, "queue_id": queue_id,
              "interaction_id": interaction}
        argv = [os.path.join(UNIT_DIR, "it_request"), "cc.presence.route", "RoutingEvent",
                "AgentStatus", json.dumps(ev)]
        out = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=30)
        body = json.loads(out.stdout)
        assert (out.returncode == 0) == ok, body
        return body


@pytest.fixture
def world(cluster):
    admin = start_stack(cluster)
    t = team(admin, "Timings", wrap_up_time_s=1, no_answer_delay_s=1, max_no_answer=2,
             chat_invite_timeout_s=1, call_offer_timeout_s=1)
    causes = {
        "coffee": make(admin, "/api/v1/pause-causes", {"name": "Coffee"}),
        "training": make(admin, "/api/v1/pause-causes",
                         {"name": "Training", "allow_agent": False}),
        "meeting": make(admin, "/api/v1/pause-causes",
                        {"name": "Meeting", "allow_supervisor": False}),
        "limited": make(admin, "/api/v1/pause-causes",
                        {"name": "Smoke", "limit_minutes_per_day": 1}),
    }
    a = user(admin, "anna", agent={"enabled": True, "team_id": t["id"]})
    user(admin, "sue", role="supervisor")
    q = make(admin, "/api/v1/queues", {"name": "Q", "channel": "chat",
                                       "skill_id": skill(admin, "S")["id"],
                                       "wrap_up_time_s": 0})
    return {"admin": admin, "team": t, "causes": causes, "agent": a, "queue": q,
            "router": Router(cluster), "cluster": cluster}


def sign_in(w, login):
    return Api(w["admin"].base).login(login, "password-" + login)


def status(api, **body):
    r = api.put("/api/v1/me/status", body)
    return r


def me(api):
    r = api.get("/api/v1/me/status")
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(api, state, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = me(api)
        if s["state"] == state:
            return s
        time.sleep(0.05)
    raise AssertionError(f"state {me(api)} never became {state}")


def test_sign_in_makes_ready_and_agent_chooses_status_and_state(world):
    ag = sign_in(world, "anna")
    s = me(ag)
    assert s["status"] == "ready" and s["state"] is None and s["state_since"].endswith("Z")
    err(status(ag, status="offline"), 409, "conflict")
    err(status(ag, status="away"), 400, "bad_request")
    assert status(ag, status="dnd").json()["status"] == "dnd"
    s = status(ag, status="callcenter").json()
    assert (s["status"], s["state"]) == ("callcenter", "waiting")  # callcenter ends DnD
    for system_state in ("busy", "offering", "post_processing", "missed"):
        err(status(ag, state=system_state), 409, "conflict")
    coffee = world["causes"]["coffee"]["id"]
    s = status(ag, state="pause", pause_cause_id=coffee).json()
    assert (s["state"], s["pause_cause_id"]) == ("pause", coffee)
    err(status(ag, state="pause", pause_cause_id="pc_nope"), 400, "bad_request")
    err(status(ag, state="pause", pause_cause_id=world["causes"]["training"]["id"]), 403,
        "forbidden")
    assert status(ag, state="waiting").json()["state"] == "waiting"
    assert status(ag, status="ready").json()["state"] is None
    err(status(ag, state="waiting"), 409, "conflict")  # states only in callcenter


def test_supervisor_and_admin_steer_an_agent(world):
    ag = sign_in(world, "anna")
    sv = sign_in(world, "sue")
    aid, admin, q = world["agent"]["id"], world["admin"], world["queue"]
    # sue supervises queue Q, whose skill anna holds (limit_to_assigned_queues: her agents)
    assert admin.patch(f"/api/v1/queues/{q['id']}",
                       {"supervisor_ids": [sv.get("/api/v1/me").json()["id"]]}).status_code == 200
    assert admin.put(f"/api/v1/agents/{aid}/skills/{q['skill_id']}",
                     {"capacity": 10}).status_code == 200
    status(ag, status="callcenter")
    r = sv.put(f"/api/v1/agents/{aid}/status",
               {"state": "pause", "pause_cause_id": world["causes"]["training"]["id"]})
    assert r.status_code == 200 and r.json()["state"] == "pause"
    assert me(ag)["pause_cause_id"] == world["causes"]["training"]["id"]
    err(sv.put(f"/api/v1/agents/{aid}/status",
               {"state": "pause", "pause_cause_id": world["causes"]["meeting"]["id"]}), 403,
        "forbidden")
    r = admin.put(f"/api/v1/agents/{aid}/status",
                  {"state": "pause", "pause_cause_id": world["causes"]["meeting"]["id"]})
    assert r.status_code == 200  # admins choose any cause
    assert sv.get(f"/api/v1/agents/{aid}/status").json()["status"] == "callcenter"
    assert sv.put(f"/api/v1/agents/{aid}/status", {"status": "ready"}).json()["status"] == "ready"
    other = user(admin, "bob", agent={"enabled": True})
    bob = sign_in(world, "bob")
    err(bob.get(f"/api/v1/agents/{aid}/status"), 403, "forbidden")
    err(bob.put(f"/api/v1/agents/{aid}/status", {"status": "dnd"}), 403, "forbidden")
    err(sv.get("/api/v1/agents/usr_nope/status"), 404, "not_found")
    # bob is in none of sue's queues: she neither sees nor steers him (test_monitor_scope.py);
    # the admin sees every agent
    assert [i["agent_id"] for i in sv.get("/api/v1/monitor/agents").json()["items"]] == [aid]
    err(sv.get(f"/api/v1/agents/{other['id']}/status"), 404, "not_found")
    err(sv.put(f"/api/v1/agents/{other['id']}/status", {"status": "dnd"}), 404, "not_found")
    items = admin.get("/api/v1/monitor/agents").json()["items"]
    by_id = {i["agent_id"]: i for i in items}
    assert by_id[aid]["status"] == "ready" and by_id[other["id"]]["status"] == "ready"
    assert by_id[aid]["name"]
    err(bob.get("/api/v1/monitor/agents"), 403, "forbidden")


def test_only_agents_work_queues_and_users_may_use_dnd(world):
    user(world["admin"], "plain", role="user")
    p = sign_in(world, "plain")
    assert status(p, status="dnd").json()["status"] == "dnd"
    err(status(p, status="callcenter"), 409, "conflict")


def test_router_offer_accept_decline_end_with_wrap_up(world):
    ag, route, aid = sign_in(world, "anna"), world["router"], world["agent"]["id"]
    route(aid, "offer", "chat", ok=False)  # not in callcenter
    status(ag, status="callcenter")
    s = route(aid, "offer", "chat")
    assert (s["state"], s["offers"]) == ("offering", 1)
    route(aid, "offer", "call", ok=False)  # one offer at a time while offering
    s = route(aid, "accept", "chat")
    assert (s["state"], s["active_chats"], s["offers"]) == ("busy", 1, 0)
    s = route(aid, "offer", "chat")  # busy with chats: eligible for more
    assert (s["state"], s["offers"]) == ("busy", 1)
    route(aid, "offer", "call", ok=False)  # call-or-chat: no call while chatting
    s = route(aid, "decline", "chat")
    assert (s["state"], s["offers"]) == ("busy", 0)
    s = route(aid, "end", "chat")  # team wrap-up 1 s
    assert s["state"] == "post_processing"
    wait_for(ag, "waiting", timeout=3)
    route(aid, "offer", "call")
    route(aid, "accept", "call")
    route(aid, "offer", "chat", ok=False)  # call-or-chat: no chat during a call
    assert route(aid, "end", "call")["state"] == "post_processing"
    assert status(ag, state="waiting").json()["state"] == "waiting"  # finish wrap-up early
    route(aid, "offer", "chat")
    route(aid, "accept", "chat")
    s = route(aid, "end", "chat", world["queue"]["id"])  # the queue overrides: 0 s
    assert s["state"] == "waiting"
    route(aid, "end", "chat", ok=False)  # nothing active


def test_changes_asked_while_busy_wait_for_the_last_interaction(world):
    ag, route, aid = sign_in(world, "anna"), world["router"], world["agent"]["id"]
    status(ag, status="callcenter")
    route(aid, "offer", "chat")
    route(aid, "accept", "chat")
    route(aid, "offer", "chat")
    route(aid, "accept", "chat")
    coffee = world["causes"]["coffee"]["id"]
    s = status(ag, state="pause", pause_cause_id=coffee).json()
    assert (s["state"], s["pending"], s["pending_pause_cause_id"]) == ("busy", "pause", coffee)
    route(aid, "offer", "chat", ok=False)  # a pending change stops new offers
    assert route(aid, "end", "chat")["state"] == "busy"  # one chat still active
    s = route(aid, "end", "chat")
    assert (s["state"], s["pause_cause_id"], s.get("pending")) == ("pause", coffee, None)
    status(ag, state="waiting")
    route(aid, "offer", "call")
    route(aid, "accept", "call")
    assert status(ag, status="dnd").json()["pending"] == "dnd"
    s = route(aid, "end", "call")
    assert (s["status"], s.get("state")) == ("dnd", None)


def test_status_change_while_ringing_withdraws_the_offer(world):
    ag, route, aid = sign_in(world, "anna"), world["router"], world["agent"]["id"]
    status(ag, status="callcenter")
    route(aid, "offer", "call")
    s = status(ag, state="pause", pause_cause_id=world["causes"]["coffee"]["id"]).json()
    assert (s["state"], s["offers"]) == ("pause", 0)
    route(aid, "accept", "call", ok=False)
    status(ag, state="waiting")
    route(aid, "offer", "chat")
    assert route(aid, "offer_withdrawn", "chat")["state"] == "waiting"


def test_missed_then_pause_no_answer_after_max_misses(world):
    ag, route, aid = sign_in(world, "anna"), world["router"], world["agent"]["id"]
    status(ag, status="callcenter")
    route(aid, "offer", "call")
    s = route(aid, "offer_timeout", "call")
    assert (s["state"], s["missed_in_row"]) == ("missed", 1)
    route(aid, "offer", "call", ok=False)  # nothing offered while missed
    wait_for(ag, "waiting", timeout=3)  # no_answer_delay 1 s
    route(aid, "offer", "call")
    s = route(aid, "offer_timeout", "call")  # max_no_answer = 2
    assert (s["state"], s["pause_cause_id"], s["missed_in_row"]) == ("pause", "pc_no_answer", 0)
    status(ag, state="waiting")
    route(aid, "offer", "call")
    route(aid, "offer_timeout", "call")
    wait_for(ag, "waiting", timeout=3)
    route(aid, "offer", "chat")
    assert route(aid, "accept", "chat")["missed_in_row"] == 0  # an accept resets the count


def test_pause_limit_ends_the_pause_and_refuses_more_today(world):
    ag, aid = sign_in(world, "anna"), world["agent"]["id"]
    limited = world["causes"]["limited"]["id"]
    day = time.strftime("%Y-%m-%d", time.gmtime())
    # 59 of the 60 allowed seconds were spent earlier today
    world["cluster"].redis.cli("HSET", key(f"tis:{day}:{aid}"), f"pause.{limited}", "59000")
    status(ag, status="callcenter")
    s = status(ag, state="pause", pause_cause_id=limited).json()
    assert s["state"] == "pause"
    t0 = time.time()
    wait_for(ag, "waiting", timeout=4)
    assert time.time() - t0 < 2.5
    err(status(ag, state="pause", pause_cause_id=limited), 409, "conflict")
    spent = int(world["cluster"].redis.cli("HGET", key(f"tis:{day}:{aid}"), f"pause.{limited}"))
    assert 59900 <= spent <= 62000


def test_time_in_state_is_kept_per_agent_per_day(world):
    ag, aid = sign_in(world, "anna"), world["agent"]["id"]
    status(ag, status="callcenter")
    time.sleep(0.3)
    status(ag, state="pause", pause_cause_id=world["causes"]["coffee"]["id"])
    time.sleep(0.2)
    status(ag, status="ready")
    day = time.strftime("%Y-%m-%d", time.gmtime())
    raw = world["cluster"].redis.cli("HGETALL", key(f"tis:{day}:{aid}")).split("\n")
    tis = dict(zip(raw[::2], map(int, raw[1::2])))
    assert tis["waiting"] >= 250 and tis[f"pause.{world['causes']['coffee']['id']}"] >= 150
    assert tis["ready"] >= 0


def test_logout_and_idle_timeout_put_the_agent_offline(world):
    admin = world["admin"]
    ag = sign_in(world, "anna")
    second = sign_in(world, "anna")
    status(ag, status="callcenter")
    assert second.post("/api/v1/auth/logout").status_code == 200
    assert me(ag)["status"] == "callcenter"  # another session still open
    assert ag.post("/api/v1/auth/logout").status_code == 200
    sv = admin
    aid = world["agent"]["id"]
    assert sv.get(f"/api/v1/agents/{aid}/status").json()["status"] == "offline"
    idle = user(admin, "idle", agent={"enabled": True}, idle_timeout_s=1)
    s = sign_in(world, "idle")
    status(s, status="callcenter")
    deadline = time.time() + 5
    while time.time() < deadline:
        if sv.get(f"/api/v1/agents/{idle['id']}/status").json()["status"] == "offline":
            break
        time.sleep(0.1)
    got = sv.get(f"/api/v1/agents/{idle['id']}/status").json()
    assert got["status"] == "offline" and got["state"] is None


def test_archiving_signs_the_agent_out(world):
    ag = sign_in(world, "anna")
    status(ag, status="callcenter")
    aid = world["agent"]["id"]
    world["admin"].post(f"/api/v1/users/{aid}/archive")
    assert world["admin"].get(f"/api/v1/agents/{aid}/status").json()["status"] == "offline"


def test_an_unanswered_offer_times_out_by_the_teams_timer(world):
    ag, route, aid = sign_in(world, "anna"), world["router"], world["agent"]["id"]
    status(ag, status="callcenter")
    route(aid, "offer", "chat", interaction="int-1")  # invite timeout 1 s
    t0 = time.time()
    s = wait_for(ag, "missed", timeout=3)
    assert 0.8 <= time.time() - t0 <= 2.2 and s["missed_in_row"] == 1
    wait_for(ag, "waiting", timeout=3)
    route(aid, "offer", "call", interaction="int-2")
    route(aid, "accept", "call", interaction="int-2")  # answered: the timer is dropped
    time.sleep(1.5)
    s = me(ag)
    assert (s["state"], s["missed_in_row"], s["active_calls"]) == ("busy", 0, 1)
