"""call-router killed (kill -9) while calls wait and while a call rings,
then restarted: no call is lost or offered twice, the PBX's retries (create
again, route again, the events it could not deliver) are answered as if
nothing had happened, the calls complete with correct records and no agent
is left stuck. Driven over plain HTTP the way a PBX drives the API
(deterministic), and once through the reference Kamailio with SIPp."""
import threading
import time

import requests

import sip
from harness import PBX_TOKEN
from test_calls_pbx import phone_agent, record, w  # noqa: F401 (w: the fixture)
from test_routing import agent, ix, state, wait_until


def restart(w):
    svc = w["svc"]
    svc.kill9()
    svc.start().wait_ready(30)


def offers_of(w, interaction_id):
    return w["bus"].trace(interaction_id).count("offered")


def test_calls_waiting_in_long_polls_survive_a_kill_and_are_served_once_in_order(w):
    pbx, q = w["pbx"], w["queue"]
    ids = [pbx.create(f"kw-{n}", q).json()["interaction_id"] for n in range(3)]
    broken = {}

    def poll(n):
        try:
            broken[n] = pbx.route(f"kw-{n}", wait_s=25).status_code
        except requests.RequestException:
            broken[n] = "dropped"

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(3)]
    for th in threads:
        th.start()
    time.sleep(0.5)  # the three long-polls are parked
    w["svc"].kill9()
    for th in threads:
        th.join(10)
    assert broken == {0: "dropped", 1: "dropped", 2: "dropped"}
    w["svc"].start().wait_ready(30)
    # the PBX retries: creating again is answered with the same call, still waiting
    for n in range(3):
        r = pbx.create(f"kw-{n}", q)
        assert r.status_code == 200 and r.json()["interaction_id"] == ids[n]
        assert r.json()["state"] == "waiting"
    order, lock = [], threading.Lock()

    def serve(n):
        o = pbx.offer(f"kw-{n}", wait_s=25)
        with lock:
            order.append(n)
        assert pbx.event(f"kw-{n}", "answered", o["offer_id"]).json()["state"] == "connected"
        time.sleep(0.2)
        pbx.event(f"kw-{n}", "hangup", by="caller")

    threads = [threading.Thread(target=serve, args=(n,)) for n in range(3)]
    for th in threads:
        th.start()
        time.sleep(0.05)
    a, _ = phone_agent(w, "amy")
    for th in threads:
        th.join(30)
    assert order == [0, 1, 2]
    for i in ids:
        rec = record(w, i)
        assert rec["outcome"] == "answered" and rec["agent_id"] == a and rec["attempts"] == 1
        assert offers_of(w, i) == 1  # offered once, not again after the restart
    st = wait_until(lambda: (lambda s: s if s["state"] == "waiting" else None)(state(w, a)))
    assert st["active_calls"] == 0 and st["offers"] == 0


def test_a_kill_while_a_call_rings_keeps_the_offer_and_takes_the_pbx_retries(w):
    pbx = w["pbx"]
    a, _ = phone_agent(w, "bea")
    time.sleep(0.05)
    b, _ = phone_agent(w, "cal")
    iid = pbx.create("kr-1", w["queue"]).json()["interaction_id"]
    o = pbx.offer("kr-1")
    assert o["agent_id"] == a
    assert pbx.event("kr-1", "ringing", o["offer_id"]).json()["ignored"] is False
    w["svc"].kill9()
    try:  # the phone answers while call-router is down: the PBX cannot report it
        pbx.event("kr-1", "answered", o["offer_id"])
        raise AssertionError("call-router answered while killed")
    except requests.RequestException:
        pass
    w["svc"].start().wait_ready(30)
    # a PBX that asks again is told the same offer: nobody else rings
    again = pbx.offer("kr-1", wait_s=0)
    assert again["offer_id"] == o["offer_id"] and again["agent_id"] == a
    assert state(w, b)["state"] == "waiting" and state(w, b)["offers"] == 0
    # the retried event is applied once
    got = pbx.event("kr-1", "answered", o["offer_id"]).json()
    assert got["ignored"] is False and got["state"] == "connected"
    assert pbx.event("kr-1", "answered", o["offer_id"]).json()["ignored"] is True
    st = state(w, a)
    assert st["state"] == "busy" and st["active_calls"] == 1
    w["svc"].kill9()  # and once more while connected: the hangup is retried
    w["svc"].start().wait_ready(30)
    assert pbx.event("kr-1", "hangup", by="agent").json()["state"] == "ended"
    rec = record(w, iid)
    assert rec["outcome"] == "answered" and rec["agent_id"] == a and rec["attempts"] == 1
    assert rec["hangup_by"] == "agent" and offers_of(w, iid) == 1
    wait_until(lambda: state(w, a)["state"] == "waiting")
    assert state(w, a)["active_calls"] == 0 and state(w, b)["offers"] == 0


def test_a_no_answer_reported_after_the_restart_moves_the_call_to_the_next_agent(w):
    pbx = w["pbx"]
    a, _ = phone_agent(w, "dee")
    time.sleep(0.05)
    b, _ = phone_agent(w, "eli")
    iid = pbx.create("kn-1", w["queue"]).json()["interaction_id"]
    o1 = pbx.offer("kn-1")
    restart(w)
    assert pbx.event("kn-1", "no_answer", o1["offer_id"]).json()["ignored"] is False
    assert pbx.event("kn-1", "no_answer", o1["offer_id"]).json()["ignored"] is True  # a retry
    assert state(w, a)["state"] == "missed"
    o2 = pbx.offer("kn-1")
    assert o2["agent_id"] == b and o2["offer_id"] != o1["offer_id"]
    pbx.event("kn-1", "answered", o2["offer_id"])
    pbx.event("kn-1", "hangup", by="caller")
    rec = record(w, iid)
    assert rec["agent_id"] == b and rec["attempts"] == 2 and rec["outcome"] == "answered"
    assert ix(w, iid)["state"] == "ended"


def test_through_kamailio_a_kill_while_one_call_rings_and_another_waits(w):
    """Kamailio long-polls for the waiting caller and has rung the agent for
    the first; call-router dies and comes back: Kamailio's lookups and events
    are retried, both calls complete on the one agent, each rung once."""
    sw = sip.SipWorld(w["cluster"].workdir, w["svc"].base + "/pbx/v1", PBX_TOKEN,
                      numbers={"5000": w["queue"]})
    try:
        a, api = agent(w, "fox", sip_account="fox")
        phone = sw.phone("fox", "answer", ring_ms=2500)
        api.put("/api/v1/me/status", {"status": "callcenter"})
        first = sw.caller("5000", hold_ms=500).start()
        wait_until(lambda: phone.invites(), timeout=10)
        second = sw.caller("5000", hold_ms=500).start()
        wait_until(lambda: (record_of(w, second.call_id()) or {}).get("state") == "waiting",
                   timeout=10)
        time.sleep(0.5)  # the second call's long-poll is pending
        restart(w)
        assert first.wait(40) == 0, first.sipp.log()[-2000:]
        assert second.wait(40) == 0, second.sipp.log()[-2000:]
        assert phone.invites() == [first.call_id(), second.call_id()]  # each rung once
        for c in (first, second):
            rec = wait_until(lambda: (lambda r: r if r and r["state"] == "ended" else None)(
                record_of(w, c.call_id())))
            assert rec["outcome"] == "answered" and rec["agent_id"] == a
            assert rec["attempts"] == 1 and rec["hangup_by"] == "caller"
        st = wait_until(lambda: (lambda s: s if s["state"] == "waiting" else None)(state(w, a)))
        assert st["active_calls"] == 0 and st["offers"] == 0
    finally:
        problems = sw.close()
    assert problems == [], problems


def record_of(w, call_id):
    """The record of PBX call `call_id`, from the staff API (GET /calls)."""
    for view in ("active", "closed"):
        r = w["admin"].get("/api/v1/calls", view=view, limit=100)
        assert r.status_code == 200, r.text
        for rec in r.json().get("items", []):
            if rec["call_id"] == call_id:
                return rec
    return None
