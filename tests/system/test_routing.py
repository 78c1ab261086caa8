"""skill-router: interactions wait in order, are offered to the right agent
by the queue's rules and strategy, and every outcome (accept, decline,
timeout, abandon, end) leaves interaction and agent consistent."""
import json
import os
import subprocess
import time

import pytest

from harness import SAN_ENV, UNIT_DIR, Api, start_stack
from test_registry_objects import make, skill, team, user


class Bus:
    """Requests on NATS as chat-gateway, call-router or api-gateway make them."""

    def __init__(self, cluster):
        self.env = dict(os.environ, CC_TEST_NATS_URL=cluster.nats.url, **SAN_ENV)

    def __call__(self, subject, req, rep, body, ok=True):
        out = subprocess.run([os.path.join(UNIT_DIR, "it_request"), subject, req, rep,
                              json.dumps(body)], env=self.env, capture_output=True, text=True,
                             timeout=30)
        got = json.loads(out.stdout)
        assert ok is None or (out.returncode == 0) == ok, got
        return got

    def enqueue(self, ix_id, queue_id, kind="chat", ok=True, **kw):
        return self("cc.router.enqueue", "Interaction", "Interaction",
                    {"id": ix_id, "queue_id": queue_id, "kind": kind, **kw}, ok)

    def act(self, verb, ix_id, agent_id=None, ok=True):
        body = {"interaction_id": ix_id}
        if agent_id:
            body["agent_id"] = agent_id
        return self(f"cc.router.{verb}", "OfferAction", "Interaction", body, ok)

    def trace(self, ix_id):
        return [s["step"] for s in self("cc.router.trace", "OfferAction", "Trace",
                                         {"interaction_id": ix_id})["items"]]


def wait_until(fn, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def world(cluster):
    admin = start_stack(cluster)
    cluster.start("skill-router")
    t = team(admin, "T", chat_invite_timeout_s=1, call_offer_timeout_s=1, no_answer_delay_s=0)
    s = skill(admin, "Support")
    q = make(admin, "/api/v1/queues", {"name": "Chat", "channel": "chat", "skill_id": s["id"],
                                       "max_concurrent_chats": 2})
    return {"admin": admin, "team": t, "skill": s, "queue": q, "bus": Bus(cluster),
            "cluster": cluster}


def agent(w, login, capacity=50, skill_id=None, **kw):
    admin = w["admin"]
    u = user(admin, login, agent={"enabled": True, "team_id": w["team"]["id"]}, **kw)
    admin.put(f"/api/v1/agents/{u['id']}/skills/{skill_id or w['skill']['id']}",
              {"capacity": capacity})
    api = Api(admin.base).login(login, "password-" + login)
    return u["id"], api


def state(w, agent_id):
    return w["admin"].get(f"/api/v1/agents/{agent_id}/status").json()


def ix(w, ix_id):
    return w["bus"]("cc.router.get", "OfferAction", "Interaction", {"interaction_id": ix_id})


def test_waits_until_an_agent_is_available_then_accept_and_end(world):
    bus, q = world["bus"], world["queue"]["id"]
    r = bus.enqueue("chat-1", q, preview="Dzień dobry 👋", customer={"id": "tg:1", "name": "Ola"})
    assert r["state"] == "waiting" and r["enqueued_at"].endswith("Z")
    assert bus.enqueue("chat-1", q)["state"] == "waiting"  # a retry changes nothing
    a, api = agent(world, "amy")
    assert ix(world, "chat-1")["state"] == "waiting"  # signed in, not in callcenter
    api.put("/api/v1/me/status", {"status": "callcenter"})
    got = wait_until(lambda: (lambda x: x if x["state"] == "offered" else None)(ix(world, "chat-1")))
    assert got["agent_id"] == a and got["attempts"] == 1
    assert state(world, a)["state"] == "offering"
    bus.act("accept", "chat-1", "usr_other", ok=False)
    assert bus.act("accept", "chat-1", a)["state"] == "connected"
    assert state(world, a)["state"] == "busy"
    assert bus.act("end", "chat-1")["state"] == "ended"
    assert state(world, a)["state"] == "waiting"
    assert bus.trace("chat-1") == ["enqueued", "offered", "accepted", "ended"]


def test_bad_interactions_are_refused(world):
    bus, q = world["bus"], world["queue"]["id"]
    for body in ({"id": "x", "queue_id": q, "kind": "fax"}, {"id": "x", "queue_id": "que_no",
                                                           "kind": "chat"},
                 {"id": "bad id", "queue_id": q, "kind": "chat"},
                 {"id": "x", "queue_id": q, "kind": "call"},
                 {"id": "x", "queue_id": q, "kind": "chat", "priority": 101}):
        assert bus("cc.router.enqueue", "Interaction", "Interaction", body,
                   ok=False)["error"]["code"] == "bad_request"
    bus.act("accept", "nope", "usr_x", ok=False)


def test_priority_first_then_the_oldest(world):
    bus, admin = world["bus"], world["admin"]
    # one chat at a time, so each is offered only after the previous ended
    plain = make(admin, "/api/v1/queues", {"name": "Plain", "channel": "chat",
                                           "skill_id": world["skill"]["id"]})
    vip = make(admin, "/api/v1/queues", {"name": "VIP", "channel": "chat",
                                         "skill_id": world["skill"]["id"], "priority": 50})
    bus.enqueue("old", plain["id"])
    time.sleep(0.01)
    bus.enqueue("newer", plain["id"])
    bus.enqueue("vip", vip["id"])
    bus.enqueue("urgent", plain["id"], priority=60)
    a, api = agent(world, "solo")
    api.put("/api/v1/me/status", {"status": "callcenter"})
    order = []
    for _ in range(4):
        x = wait_until(lambda: next((i for i in ("old", "newer", "vip", "urgent")
                                     if ix(world, i)["state"] == "offered"), None))
        order.append(x)
        bus.act("accept", x, a)
        bus.act("end", x)
    assert order == ["urgent", "vip", "old", "newer"]


def test_decline_requeues_at_the_old_place_and_skips_that_agent(world):
    bus, q = world["bus"], world["queue"]["id"]
    a, api_a = agent(world, "ann")
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    time.sleep(0.05)
    b, api_b = agent(world, "ben")
    api_b.put("/api/v1/me/status", {"status": "callcenter"})
    bus.enqueue("c1", q)
    assert wait_until(lambda: ix(world, "c1")["agent_id"]) == a  # longest idle
    enq = ix(world, "c1")["enqueued_at"]
    bus.act("decline", "c1", a)
    assert wait_until(lambda: ix(world, "c1")["agent_id"] == b)
    assert ix(world, "c1")["enqueued_at"] == enq
    assert state(world, a)["state"] == "waiting"
    bus.act("decline", "c1", b)
    # only the agent who just declined is left... b is excluded now, a takes it
    assert wait_until(lambda: ix(world, "c1")["agent_id"] == a)
    steps = bus.trace("c1")
    assert steps.count("declined") == 2 and steps.count("requeued") == 2


def test_offer_timeout_requeues_and_the_agent_misses(world):
    bus, q = world["bus"], world["queue"]["id"]
    a, api = agent(world, "slow")
    api.put("/api/v1/me/status", {"status": "callcenter"})
    bus.enqueue("t1", q)
    wait_until(lambda: ix(world, "t1")["state"] == "offered")
    wait_until(lambda: "timed_out" in bus.trace("t1"), timeout=4)
    assert state(world, a)["missed_in_row"] >= 1
    assert "requeued" in bus.trace("t1")


def test_abandon_removes_it_wherever_it_is(world):
    bus, q = world["bus"], world["queue"]["id"]
    bus.enqueue("ab1", q)
    assert bus.act("abandon", "ab1")["state"] == "ended"
    a, api = agent(world, "ab")
    api.put("/api/v1/me/status", {"status": "callcenter"})
    time.sleep(0.3)
    assert ix(world, "ab1")["state"] == "ended"  # never offered
    bus.enqueue("ab2", q)
    wait_until(lambda: ix(world, "ab2")["state"] == "offered")
    bus.act("abandon", "ab2")
    assert state(world, a)["state"] == "waiting" and state(world, a)["offers"] == 0
    assert bus.trace("ab2")[-1] == "abandoned"


def test_skill_bar_teams_and_call_or_chat(world):
    bus, admin = world["bus"], world["admin"]
    other = team(admin, "Other")
    hard = make(admin, "/api/v1/queues", {"name": "Hard", "channel": "chat",
                                          "skill_id": world["skill"]["id"], "min_capacity": 80,
                                          "widening": [{"after_s": 1, "min_capacity": 20}],
                                          "team_ids": [world["team"]["id"]]})
    low, api_low = agent(world, "low", capacity=30)
    outsider = user(admin, "out", agent={"enabled": True, "team_id": other["id"]})
    admin.put(f"/api/v1/agents/{outsider['id']}/skills/{world['skill']['id']}", {"capacity": 90})
    api_out = Api(admin.base).login("out", "password-out")
    for api in (api_low, api_out):
        api.put("/api/v1/me/status", {"status": "callcenter"})
    bus.enqueue("h1", hard["id"])
    time.sleep(0.5)
    assert ix(world, "h1")["state"] == "waiting"  # 30 < 80 and the 90 is in another team
    skips = bus("cc.router.trace", "OfferAction", "Trace", {"interaction_id": "h1"})["items"]
    assert {"step": "skipped", "agent_id": outsider["id"], "reason": "not_in_team"}.items() <= \
        next(s for s in skips if s["agent_id"] == outsider["id"]).items()
    # the bar drops to 20 after 1 s; the next routing event finds the agent
    time.sleep(0.8)
    api_low.put("/api/v1/me/status", {"status": "ready"})
    api_low.put("/api/v1/me/status", {"status": "callcenter"})
    assert wait_until(lambda: ix(world, "h1")["agent_id"] == low)


def test_max_wait_ends_a_waiting_interaction_as_timed_out(world):
    bus, admin = world["bus"], world["admin"]
    short = make(admin, "/api/v1/queues", {"name": "Short", "channel": "chat",
                                           "skill_id": world["skill"]["id"], "max_wait_s": 1})
    bus.enqueue("mw1", short["id"])
    t0 = time.time()
    got = wait_until(lambda: (lambda x: x if x["state"] == "ended" else None)(ix(world, "mw1")),
                     timeout=4)
    assert got["end_reason"] == "timed_out" and 0.9 <= time.time() - t0 <= 2.5
    assert bus.trace("mw1") == ["enqueued", "ended"]
    a, api = agent(world, "late")
    api.put("/api/v1/me/status", {"status": "callcenter"})
    time.sleep(0.6)
    assert ix(world, "mw1")["state"] == "ended" and state(world, a)["state"] == "waiting"


def test_trace_over_http_for_supervisors_and_admins(world):
    bus, admin = world["bus"], world["admin"]
    bus.enqueue("tr1", world["queue"]["id"])
    r = admin.get("/api/v1/interactions/tr1/trace")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] is None and body["items"][0]["step"] == "enqueued"
    assert body["items"][0]["at"].endswith("Z")
    assert admin.get("/api/v1/interactions/nope/trace").json()["error"]["code"] == "not_found"
    a, api = agent(world, "nosy")
    assert api.get("/api/v1/interactions/tr1/trace").status_code == 403
