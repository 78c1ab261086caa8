"""call-router's PBX API (docs/calls.md) driven the way a PBX drives it:
calls enter queues idempotently, the route long-poll names the agent to
ring and wakes at once on an offer or an abandon, events move the call and
the agent (answered, busy/no_answer -> missed and the next agent, hangup ->
wrap-up), stale and repeated events change nothing, waiting calls are served
in order, the call-or-chat rule holds both ways, direct and outgoing calls
hold the agent, and the token guards it all. Each case checks the engine's
state (agent status, interaction, call record), not only HTTP codes."""
import threading
import time

import pytest
import requests

from harness import PBX_TOKEN as TOKEN, Service, start_stack
from test_registry_objects import make, skill, team
from test_routing import Bus, agent, ix, state, wait_until



class Pbx:
    """The PBX side of call-router's API."""

    def __init__(self, svc, token=TOKEN):
        self.base, self.h = svc.base + "/pbx/v1", {"Authorization": f"Bearer {token}"}

    def create(self, call_id, queue_id, frm="+48600100200", to="1000", **kw):
        return requests.post(f"{self.base}/calls", json={"call_id": call_id, "queue_id": queue_id,
                                                         "from": frm, "to": to, **kw},
                             headers=self.h, timeout=10)

    def route(self, call_id, wait_s=0):
        return requests.get(f"{self.base}/calls/{requests.utils.quote(call_id, safe='')}/route",
                            params={"wait_s": wait_s}, headers=self.h, timeout=wait_s + 10)

    def event(self, call_id, type_, offer_id=None, **kw):
        body = {"type": type_, **kw}
        if offer_id:
            body["offer_id"] = offer_id
        return requests.post(f"{self.base}/calls/{requests.utils.quote(call_id, safe='')}/events",
                             json=body, headers=self.h, timeout=10)

    def direct(self, agent_key, call_id, direction="inbound", frm="+48111", to="201"):
        return requests.post(f"{self.base}/agents/{agent_key}/calls",
                             json={"call_id": call_id, "direction": direction, "from": frm,
                                   "to": to}, headers=self.h, timeout=10)

    def offer(self, call_id, wait_s=5):
        r = self.route(call_id, wait_s)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()


@pytest.fixture
def w(cluster):
    admin = start_stack(cluster)
    cluster.start("skill-router")
    cr = cluster.start("call-router")
    t = team(admin, "Phones", call_offer_timeout_s=10, chat_invite_timeout_s=10,
             no_answer_delay_s=30, wrap_up_time_s=0)
    s = skill(admin, "Voice")
    q = make(admin, "/api/v1/queues", {"name": "Support line", "channel": "call",
                                       "skill_id": s["id"]})
    bus = Bus(cluster)
    wait_until(lambda: bus("cc.router.enqueue", "Interaction", "Interaction",
                           {"id": "probe", "queue_id": q["id"], "kind": "call"}, ok=None)
               .get("state"), timeout=20)  # skill-router learnt the queue
    bus.act("abandon", "probe")
    return {"admin": admin, "team": t, "skill": s, "queue": q["id"], "bus": bus,
            "pbx": Pbx(cr), "svc": cr, "cluster": cluster}


def phone_agent(w, login, status="callcenter", **kw):
    a, api = agent(w, login, sip_account=f"{login}@pbx.test", **kw)
    if status:
        api.put("/api/v1/me/status", {"status": status})
    return a, api


def record(w, interaction_id):
    return w["bus"]("cc.call.get", "CallRequest", "Call",
                    {"caller": {"user_id": "admin-test", "role": "admin"}, "id": interaction_id})


def test_the_token_is_required_and_compared(w):
    pbx = w["pbx"]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Authorization": f"Bearer {TOKEN}x"}):
        r = requests.post(f"{pbx.base}/calls", json={"call_id": "c", "queue_id": w["queue"],
                                                      "from": "1"}, headers=headers, timeout=5)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert requests.get(f"{pbx.base}/calls/c/route", timeout=5).status_code == 401
    assert pbx.create("tok-1", w["queue"]).status_code == 201


@pytest.mark.parametrize("token", ["", "change-me-pbx-token", "short", "REPLACE-ME-pbx-token"])
def test_call_router_refuses_to_start_without_a_real_token(cluster, token):
    svc = Service("call-router", cluster.workdir, cluster.nats, cluster.redis,
                  {"CC_PBX_TOKEN": token}).start()
    svc.p.wait(20)
    assert svc.p.returncode != 0
    assert "CC_PBX_TOKEN" in svc.log()


def test_create_is_idempotent_and_checked(w):
    pbx, q = w["pbx"], w["queue"]
    first = pbx.create("dup@host", q)
    assert first.status_code == 201 and first.json()["state"] == "waiting"
    again = pbx.create("dup@host", q)
    assert again.status_code == 200 and again.json()["interaction_id"] == first.json()["interaction_id"]
    ix_id = first.json()["interaction_id"]
    assert ix(w, ix_id)["state"] == "waiting" and ix(w, ix_id)["kind"] == "call"
    rec = record(w, ix_id)
    assert rec["from"] == "+48600100200" and rec["queue_name"] == "Support line"
    assert rec["direction"] == "inbound" and rec["state"] == "waiting"
    bad = [{}, {"call_id": "x", "queue_id": q}, {"call_id": 5, "queue_id": q, "from": "1"},
           {"call_id": "a b", "queue_id": q, "from": "1"},
           {"call_id": "x" * 300, "queue_id": q, "from": "1"},
           {"call_id": "p", "queue_id": q, "from": "1", "priority": 101},
           {"call_id": "p", "queue_id": q, "from": "1", "priority": "high"},
           # beyond int's range (found by tests/fuzz/pbx.c: was undefined behaviour)
           {"call_id": "p", "queue_id": q, "from": "1", "priority": 1e10},
           {"call_id": "p", "queue_id": q, "from": "1", "priority": -1e300},
           {"call_id": "p", "queue_id": q, "from": "1", "priority": 2.5}]
    for body in bad:
        r = requests.post(f"{pbx.base}/calls", json=body, headers=pbx.h, timeout=5)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", body
    r = pbx.create("nq", "no-such-queue")
    assert r.status_code == 400 and "queue" in r.json()["error"]["message"]
    chat_q = make(w["admin"], "/api/v1/queues", {"name": "Chat only", "channel": "chat",
                                                 "skill_id": w["skill"]["id"]})["id"]
    r = pbx.create("chatq", chat_q)
    assert r.status_code == 400
    assert pbx.route("chatq").status_code == 404  # nothing was stored of it
    r = requests.post(f"{pbx.base}/calls", data=b"{not json", headers=pbx.h, timeout=5)
    assert r.status_code == 400
    assert pbx.route("never-created").status_code == 404
    assert pbx.event("never-created", "hangup").status_code == 404
    assert pbx.event("dup@host", "exploded").status_code == 400
    assert pbx.route("dup@host", wait_s=31).status_code == 400


def test_answered_then_hangup_by_the_agent_leads_to_wrap_up(w):
    a, _ = phone_agent(w, "ann")
    pbx = w["pbx"]
    call = pbx.create("c-ann", w["queue"], frm="+48500500500").json()
    offer = pbx.offer("c-ann")
    assert offer["agent_id"] == a and offer["sip_uri"] == "ann@pbx.test"
    assert 1 <= offer["ring_s"] <= 10 and [t["agent_id"] for t in offer["targets"]] == [a]
    assert state(w, a)["state"] == "offering"
    assert pbx.event("c-ann", "ringing", offer["offer_id"]).json()["ignored"] is False
    got = pbx.event("c-ann", "answered", offer["offer_id"]).json()
    assert got["state"] == "connected" and got["ignored"] is False
    st = state(w, a)
    assert st["state"] == "busy" and st["active_calls"] == 1
    assert pbx.event("c-ann", "answered", offer["offer_id"]).json()["ignored"] is True
    assert pbx.route("c-ann").status_code == 204  # connected: nothing to route
    time.sleep(0.2)
    got = pbx.event("c-ann", "hangup", by="agent").json()
    assert got["state"] == "ended"
    st = wait_until(lambda: (lambda s: s if s["state"] == "waiting" else None)(state(w, a)))
    assert st["active_calls"] == 0
    rec = record(w, call["interaction_id"])
    assert rec["outcome"] == "answered" and rec["hangup_by"] == "agent" and rec["agent_id"] == a
    assert rec["talk_s"] >= 0.2 and rec["wait_s"] >= 0 and rec["attempts"] == 1
    assert rec["answered_at"] and rec["ended_at"] and rec["offered_at"]
    assert pbx.event("c-ann", "hangup", by="caller").json()["ignored"] is True
    listed = w["admin"].get("/api/v1/calls", view="closed").json()["items"]
    assert [c["id"] for c in listed] == [call["interaction_id"]]
    assert w["admin"].get("/api/v1/calls", view="active").json()["items"] == []
    assert ix(w, call["interaction_id"])["state"] == "ended"
    assert "ended" in w["bus"].trace(call["interaction_id"])


def test_busy_then_the_next_agent_and_stale_events_are_ignored(w):
    first, _ = phone_agent(w, "bob")
    time.sleep(0.05)
    second, _ = phone_agent(w, "cid")
    pbx = w["pbx"]
    pbx.create("c-busy", w["queue"])
    o1 = pbx.offer("c-busy")
    assert o1["agent_id"] == first  # idle the longest
    assert pbx.event("c-busy", "busy", o1["offer_id"]).json()["ignored"] is False
    assert state(w, first)["state"] == "missed"
    o2 = pbx.offer("c-busy")
    assert o2["agent_id"] == second and o2["offer_id"] != o1["offer_id"]
    # the first agent's late no_answer and a made-up offer change nothing
    assert pbx.event("c-busy", "no_answer", o1["offer_id"]).json()["ignored"] is True
    assert pbx.event("c-busy", "answered", "123.nobody").json()["ignored"] is True
    assert state(w, second)["state"] == "offering"
    pbx.event("c-busy", "answered", o2["offer_id"])
    assert state(w, second)["state"] == "busy" and state(w, first)["state"] == "missed"
    pbx.event("c-busy", "hangup", by="caller")
    rec = record(w, ix(w, record_id(w, "c-busy"))["id"])
    assert rec["agent_id"] == second and rec["attempts"] == 2 and rec["hangup_by"] == "caller"


def record_id(w, call_id):
    r = w["pbx"].create(call_id, w["queue"])
    assert r.status_code == 200
    return r.json()["interaction_id"]


def test_no_answer_puts_the_agent_in_missed_and_max_no_answer_pauses(w):
    admin = w["admin"]
    admin.patch(f"/api/v1/teams/{w['team']['id']}", {"max_no_answer": 2, "no_answer_delay_s": 1})
    a, _ = phone_agent(w, "dan")
    pbx = w["pbx"]
    pbx.create("na-1", w["queue"])
    pbx.event("na-1", "no_answer", pbx.offer("na-1")["offer_id"])
    assert state(w, a)["state"] == "missed"
    # after no_answer_delay_s the agent is waiting and at once offered the call again
    pbx.event("na-1", "rejected", pbx.offer("na-1", wait_s=10)["offer_id"])
    st = state(w, a)
    assert st["state"] == "pause" and st["pause_cause_id"] == "pc_no_answer"
    assert pbx.route("na-1", wait_s=1).status_code == 204  # nobody left to ring
    pbx.event("na-1", "abandoned")
    assert record(w, record_id(w, "na-1"))["outcome"] == "abandoned"


def test_abandon_while_waiting_wakes_the_long_poll_at_once(w):
    pbx = w["pbx"]
    pbx.create("ab-1", w["queue"])
    got = {}

    def poll():
        t = time.time()
        got["r"] = pbx.route("ab-1", wait_s=20)
        got["s"] = time.time() - t

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.5)
    assert pbx.event("ab-1", "abandoned").json()["state"] == "ended"
    th.join(10)
    assert got["r"].status_code == 204 and got["s"] < 2.0
    rec = record(w, record_id(w, "ab-1"))
    assert rec["outcome"] == "abandoned" and rec["hangup_by"] == "caller" and rec["ended_at"]
    assert ix(w, rec["id"])["state"] == "ended"
    assert pbx.event("ab-1", "abandoned").json()["ignored"] is True


def test_abandon_while_ringing_frees_the_agent(w):
    a, _ = phone_agent(w, "eve")
    pbx = w["pbx"]
    pbx.create("ar-1", w["queue"])
    o = pbx.offer("ar-1")
    pbx.event("ar-1", "ringing", o["offer_id"])
    pbx.event("ar-1", "abandoned", o["offer_id"])
    wait_until(lambda: state(w, a)["state"] == "waiting")
    assert state(w, a)["offers"] == 0
    assert record(w, record_id(w, "ar-1"))["outcome"] == "abandoned"


def test_one_agent_four_callers_are_served_in_order(w):
    a, _ = phone_agent(w, "fay")
    pbx = w["pbx"]
    order, lock = [], threading.Lock()

    def caller(n):
        o = pbx.offer(f"fifo-{n}", wait_s=25)
        with lock:
            order.append(n)
        pbx.event(f"fifo-{n}", "answered", o["offer_id"])
        time.sleep(0.3)
        pbx.event(f"fifo-{n}", "hangup", by="caller")

    threads = []
    for n in range(4):
        assert pbx.create(f"fifo-{n}", w["queue"]).status_code == 201
        th = threading.Thread(target=caller, args=(n,))
        th.start()
        threads.append(th)
        time.sleep(0.05)
    for th in threads:
        th.join(30)
    assert order == [0, 1, 2, 3]
    wait_until(lambda: state(w, a)["state"] == "waiting")


def test_priority_goes_first(w):
    pbx = w["pbx"]
    pbx.create("low", w["queue"])
    pbx.create("high", w["queue"], priority=50)
    a, _ = phone_agent(w, "gil")
    assert pbx.offer("high")["agent_id"] == a
    assert pbx.route("low", wait_s=1).status_code == 204


def test_an_agent_on_a_chat_gets_no_call_and_one_on_a_call_no_chat(w):
    chats = make(w["admin"], "/api/v1/queues", {"name": "Chats", "channel": "chat",
                                               "skill_id": w["skill"]["id"],
                                               "max_concurrent_chats": 3})["id"]
    a, _ = phone_agent(w, "hal")
    bus, pbx = w["bus"], w["pbx"]
    wait_until(lambda: bus.enqueue("chat-x", chats, ok=None).get("state"))
    wait_until(lambda: ix(w, "chat-x")["state"] == "offered")
    bus.act("accept", "chat-x", a)
    pbx.create("cc-call", w["queue"])
    assert pbx.route("cc-call", wait_s=1).status_code == 204  # on a chat: no call
    bus.act("end", "chat-x")
    o = pbx.offer("cc-call")
    assert o["agent_id"] == a
    pbx.event("cc-call", "answered", o["offer_id"])
    bus.enqueue("chat-y", chats)
    time.sleep(1.0)
    assert ix(w, "chat-y")["state"] == "waiting"  # on a call: no chat
    pbx.event("cc-call", "hangup", by="caller")
    wait_until(lambda: ix(w, "chat-y")["state"] == "offered")


def test_max_wait_ends_the_call_and_the_route_answers_conflict(w):
    q = make(w["admin"], "/api/v1/queues", {"name": "Impatient", "channel": "call",
                                           "skill_id": w["skill"]["id"], "max_wait_s": 1})["id"]
    pbx = w["pbx"]
    wait_until(lambda: pbx.create("mw-1", q).status_code == 201, timeout=10)
    r = pbx.route("mw-1", wait_s=5)
    if r.status_code == 204:
        r = pbx.route("mw-1", wait_s=5)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    rec = record(w, pbx.create("mw-1", q).json()["interaction_id"])
    assert rec["state"] == "ended"
    assert rec["outcome"] == "timed_out" and rec["hangup_by"] == "system"


def test_direct_calls_respect_dnd_and_hold_the_agent(w):
    a, api = phone_agent(w, "ivy", status="dnd")
    pbx = w["pbx"]
    r = requests.get(f"{pbx.base}/agents/ivy@pbx.test/reachable", headers=pbx.h, timeout=5)
    assert r.json() == {"reachable": False, "status": "dnd", "agent_id": a, "sip_uri": "ivy@pbx.test"}
    r = pbx.direct("ivy@pbx.test", "d-1")
    assert r.status_code == 409 and "do not disturb" in r.json()["error"]["message"]
    assert pbx.route("d-1").status_code == 404  # refused: nothing stored
    api.put("/api/v1/me/status", {"status": "ready"})
    assert requests.get(f"{pbx.base}/agents/{a}/reachable", headers=pbx.h,
                        timeout=5).json()["reachable"] is True
    r = pbx.direct("ivy@pbx.test", "d-2")
    assert r.status_code == 201 and r.json()["agent_id"] == a
    assert pbx.direct("ivy@pbx.test", "d-2").status_code == 200  # a retry
    assert state(w, a)["active_calls"] == 1
    pbx.event("d-2", "answered")
    pbx.event("d-2", "hangup", by="agent")
    st = state(w, a)
    assert st["active_calls"] == 0 and st["status"] == "ready"
    rec = record(w, r.json()["interaction_id"])
    assert rec["direction"] == "direct" and rec["outcome"] == "answered"
    assert pbx.direct("nobody", "d-3").status_code == 404


def test_an_outgoing_call_keeps_the_agent_from_queue_calls(w):
    a, _ = phone_agent(w, "jon")
    pbx = w["pbx"]
    r = pbx.direct("jon@pbx.test", "out-1", direction="outbound", frm="jon", to="+48700700700")
    assert r.status_code == 201
    st = state(w, a)
    assert st["state"] == "busy" and st["active_calls"] == 1
    pbx.create("q-while-out", w["queue"])
    assert pbx.route("q-while-out", wait_s=1).status_code == 204
    pbx.event("out-1", "answered")
    pbx.event("out-1", "hangup", by="caller")
    o = pbx.offer("q-while-out")  # free again: no wrap-up after an outgoing call
    assert o["agent_id"] == a
    rec = record(w, r.json()["interaction_id"])
    assert rec["direction"] == "outbound" and rec["to"] == "+48700700700"


def test_ring_all_rings_every_agent_and_the_first_answer_wins(w):
    q = make(w["admin"], "/api/v1/queues", {"name": "Everyone", "channel": "call",
                                           "skill_id": w["skill"]["id"],
                                           "strategy": "ring_all"})["id"]
    a, _ = phone_agent(w, "kim")
    b, _ = phone_agent(w, "lee")
    pbx = w["pbx"]
    wait_until(lambda: pbx.create("ra-1", q).status_code == 201, timeout=10)
    o = pbx.offer("ra-1")
    targets = {t["agent_id"]: t for t in o["targets"]}
    assert set(targets) == {a, b}
    pbx.event("ra-1", "answered", targets[b]["offer_id"])
    assert state(w, b)["state"] == "busy"
    wait_until(lambda: state(w, a)["state"] == "waiting")
    assert pbx.event("ra-1", "answered", targets[a]["offer_id"]).json()["ignored"] is True


def test_an_agent_without_a_phone_is_passed_over(w):
    nophone, api_kay = agent(w, "kay")  # no sip_account, no agent_number
    api_kay.put("/api/v1/me/status", {"status": "callcenter"})
    time.sleep(0.05)
    b, _ = phone_agent(w, "lou")
    pbx = w["pbx"]
    pbx.create("np-1", w["queue"])
    o = pbx.offer("np-1")
    assert o["agent_id"] == b and o["sip_uri"] == "lou@pbx.test"
    assert state(w, nophone)["state"] == "missed"


def test_the_route_is_answered_from_the_published_offer(w):
    """A call created here is routed from the offer skill-router published: no
    cc.router.get on the way (nor for its ringing and answered events); the record
    says ringing right after the answer. After a missed offer the route asks
    skill-router again, and the next agent rings."""
    from natslite import Nats
    a, _ = phone_agent(w, "gus")
    time.sleep(0.05)
    b, _ = phone_agent(w, "hal")
    asked = []
    nc = Nats(w["cluster"].nats.port)
    try:
        nc.subscribe("cc.router.get", lambda *m: asked.append(1))
        nc.flush()
        pbx = w["pbx"]
        iid = pbx.create("fast-1", w["queue"]).json()["interaction_id"]
        o1 = pbx.offer("fast-1")
        assert o1["agent_id"] == a
        wait_until(lambda: record(w, iid)["state"] == "ringing")
        assert pbx.event("fast-1", "ringing", o1["offer_id"]).json()["ignored"] is False
        assert asked == []
        assert pbx.event("fast-1", "busy", o1["offer_id"]).json()["ignored"] is False
        o2 = pbx.offer("fast-1")
        assert o2["agent_id"] == b and o2["offer_id"] != o1["offer_id"]
        assert pbx.event("fast-1", "answered", o1["offer_id"]).json()["ignored"] is True
        assert pbx.event("fast-1", "answered", o2["offer_id"]).json()["state"] == "connected"
        rec = record(w, iid)
        assert rec["attempts"] == 2 and rec["agent_id"] == b
    finally:
        nc.close()
