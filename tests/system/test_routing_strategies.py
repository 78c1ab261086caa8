"""skill-router: each strategy chooses the agent SPEC section 5 says,
ring_all rings every eligible agent and the first answer wins, a sticky
queue prefers the agent who last served the customer, and the call-or-chat
rule holds."""
import time

import pytest

from harness import Api, start_stack
from test_registry_objects import make, skill, team, user
from test_routing import Bus, agent, ix, state, wait_until


@pytest.fixture
def world(cluster):
    """Offers ring for 10 s here, so a test answers them at its own pace."""
    admin = start_stack(cluster)
    cluster.start("skill-router")
    t = team(admin, "T", chat_invite_timeout_s=10, call_offer_timeout_s=10, no_answer_delay_s=0)
    s = skill(admin, "Support")
    return {"admin": admin, "team": t, "skill": s, "bus": Bus(cluster), "cluster": cluster}


def queue(w, name, channel="chat", **kw):
    return make(w["admin"], "/api/v1/queues", {"name": name, "channel": channel,
                                               "skill_id": w["skill"]["id"], **kw})["id"]


def online(w, *logins, capacity=50):
    """Agents in callcenter, waiting, in the order given (the first idle longest)."""
    ids = []
    for login in logins:
        a, api = agent(w, login, capacity=capacity[login] if isinstance(capacity, dict)
                       else capacity)
        api.put("/api/v1/me/status", {"status": "callcenter"})
        ids.append(a)
        time.sleep(0.01)
    return ids


def offered_to(w, ix_id):
    return wait_until(lambda: (lambda x: x["agent_id"] if x["state"] == "offered" else None)(
        ix(w, ix_id)))


def serve(w, ix_id):
    """Waits for the offer, accepts and ends it; returns the agent."""
    a = offered_to(w, ix_id)
    w["bus"].act("accept", ix_id, a)
    w["bus"].act("end", ix_id)
    return a


def test_longest_idle_takes_the_agent_waiting_longest(world):
    a, b, c = online(world, "la", "lb", "lc")
    q = queue(world, "Idle")
    world["bus"].enqueue("li1", q)
    assert serve(world, "li1") == a
    world["bus"].enqueue("li2", q)
    assert serve(world, "li2") == b  # a is back in waiting, but only just
    strategy = next(s for s in world["bus"]("cc.router.trace", "OfferAction", "Trace",
                                            {"interaction_id": "li2"})["items"]
                    if s["step"] == "offered")["strategy"]
    assert strategy == "longest_idle"


def test_most_skilled_then_an_excluded_agent_comes_last(world):
    caps = {"m30": 30, "m80": 80, "m60": 60}
    low, top, mid = online(world, "m30", "m80", "m60", capacity=caps)
    q = queue(world, "Skilled", strategy="most_skilled")
    world["bus"].enqueue("ms1", q)
    assert offered_to(world, "ms1") == top
    world["bus"].act("decline", "ms1", top)
    # the most skilled just declined: the next best takes it, not the same agent again
    assert offered_to(world, "ms1") == mid
    world["bus"].act("decline", "ms1", mid)
    assert offered_to(world, "ms1") == top


def test_round_robin_takes_turns(world):
    ids = sorted(online(world, "ra", "rb", "rc"))
    q = queue(world, "Turns", strategy="round_robin")
    got = []
    for i in range(6):
        world["bus"].enqueue(f"rr{i}", q)
        got.append(serve(world, f"rr{i}"))
    first = ids.index(got[0])
    assert got == [ids[(first + i) % 3] for i in range(6)]


def test_fewest_interactions_today(world):
    (busy,) = online(world, "fa")
    plain = queue(world, "Plain")
    for i in range(2):
        world["bus"].enqueue(f"fp{i}", plain)
        assert serve(world, f"fp{i}") == busy
    (fresh,) = online(world, "fb")
    # fa has idled longer, but handled two today against none
    q = queue(world, "Fair", strategy="fewest_interactions")
    world["bus"].enqueue("fw1", q)
    assert offered_to(world, "fw1") == fresh


def test_random_spreads_over_every_agent(world):
    ids = online(world, "xa", "xb", "xc")
    q = queue(world, "Dice", strategy="random")
    seen = set()
    for i in range(30):  # each agent missing from 30 draws: (2/3)^30, about 5e-6
        world["bus"].enqueue(f"rd{i}", q)
        seen.add(serve(world, f"rd{i}"))
    assert seen == set(ids)


def test_call_or_chat(world):
    chats = queue(world, "Chats", max_concurrent_chats=2)
    calls = queue(world, "Calls", channel="call")
    (a,) = online(world, "cc")
    bus = world["bus"]
    bus.enqueue("ch1", chats)
    bus.act("accept", "ch1", offered_to(world, "ch1"))
    bus.enqueue("call1", calls, kind="call")
    time.sleep(0.4)
    assert ix(world, "call1")["state"] == "waiting"  # busy with a chat: no call
    bus.enqueue("ch2", chats)
    assert offered_to(world, "ch2") == a  # a second chat fits
    bus.act("accept", "ch2", a)
    bus.act("end", "ch1")
    time.sleep(0.3)
    assert ix(world, "call1")["state"] == "waiting"
    bus.act("end", "ch2")
    assert offered_to(world, "call1") == a  # free of chats: the call
    bus.act("accept", "call1", a)
    bus.enqueue("ch3", chats)
    time.sleep(0.4)
    assert ix(world, "ch3")["state"] == "waiting"  # on a call: no chat
    bus.act("end", "call1")
    assert offered_to(world, "ch3") == a


def ringing(w, agents):
    return {a for a in agents if state(w, a)["state"] == "offering"}


def test_ring_all_rings_everyone_and_the_first_answer_wins(world):
    ids = online(world, "r1", "r2", "r3")
    q = queue(world, "Ring", channel="call", strategy="ring_all")
    bus = world["bus"]
    bus.enqueue("ring1", q, kind="call")
    wait_until(lambda: ringing(world, ids) == set(ids))
    x = ix(world, "ring1")
    assert x["state"] == "offered" and x.get("agent_id") in (None, "")
    bus.act("decline", "ring1", ids[0])  # one says no: the others still ring
    assert ix(world, "ring1")["state"] == "offered"
    assert ringing(world, ids) == {ids[1], ids[2]}
    assert bus.act("accept", "ring1", ids[2])["agent_id"] == ids[2]
    assert bus.act("accept", "ring1", ids[1], ok=False)["error"]["code"] == "conflict"
    assert state(world, ids[2])["state"] == "busy"
    for a in ids[:2]:
        s = state(world, a)
        assert s["state"] == "waiting" and s["offers"] == 0
    steps = bus("cc.router.trace", "OfferAction", "Trace", {"interaction_id": "ring1"})["items"]
    assert [s["agent_id"] for s in steps if s["step"] == "offered"] == ids
    assert [s["agent_id"] for s in steps if s["step"] == "withdrawn"] == [ids[1]]
    bus.act("end", "ring1")


def test_ring_all_rings_six_agents_at_once(world):
    """Six agents in one reserve.lua call (more arguments than the 128
    cc_redis_eval once took: ring_all rang at most three)."""
    ids = online(world, *[f"w{i}" for i in range(6)])
    q = queue(world, "Wide", channel="call", strategy="ring_all")
    bus = world["bus"]
    bus.enqueue("ring6", q, kind="call")
    wait_until(lambda: ringing(world, ids) == set(ids))
    assert bus.act("accept", "ring6", ids[4])["agent_id"] == ids[4]
    others = [a for a in ids if a != ids[4]]
    wait_until(lambda: all(state(world, a)["state"] == "waiting" for a in others))
    assert all(state(world, a)["offers"] == 0 for a in others)
    bus.act("end", "ring6")


def test_ring_all_abandoned_while_ringing_frees_everyone(world):
    ids = online(world, "s1", "s2")
    q = queue(world, "Ring", channel="call", strategy="ring_all")
    bus = world["bus"]
    bus.enqueue("ring2", q, kind="call")
    wait_until(lambda: ringing(world, ids) == set(ids))
    assert bus.act("abandon", "ring2")["end_reason"] == "abandoned"
    for a in ids:
        assert bus.act("accept", "ring2", a, ok=False)["error"]["code"] == "conflict"
        s = state(world, a)
        assert s["state"] == "waiting" and s["offers"] == 0


def test_ring_all_nobody_answers_then_rings_again(world):
    admin = world["admin"]
    quick = team(admin, "Quick", call_offer_timeout_s=1, no_answer_delay_s=0)
    ids = []
    for login in ("n1", "n2"):
        u = user(admin, login, agent={"enabled": True, "team_id": quick["id"]})
        admin.put(f"/api/v1/agents/{u['id']}/skills/{world['skill']['id']}", {"capacity": 50})
        Api(admin.base).login(login, "password-" + login).put("/api/v1/me/status",
                                                              {"status": "callcenter"})
        ids.append(u["id"])
    q = queue(world, "Ring", channel="call", strategy="ring_all")
    world["bus"].enqueue("ring3", q, kind="call")
    steps = wait_until(lambda: (lambda t: t if t.count("offered") >= 4 else None)(
        world["bus"].trace("ring3")), timeout=6)
    assert steps.count("timed_out") >= 2 and "requeued" in steps
    assert all(state(world, a)["missed_in_row"] >= 1 for a in ids)


def test_sticky_prefers_the_agent_who_last_served_the_customer(world):
    bus = world["bus"]
    q = queue(world, "Sticky", sticky_agent=True, sticky_wait_s=2)
    (b,) = online(world, "sb")
    bus.enqueue("st1", q, customer={"id": "tg:9", "name": "Ola"})
    assert serve(world, "st1") == b
    a, api_a = agent(world, "sa")
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    # a has idled longer than b, who just ended: longest_idle alone would pick a
    bus.enqueue("st2", q, customer={"id": "tg:9"})
    assert offered_to(world, "st2") == b
    assert "sticky" in bus.trace("st2")
    bus.act("accept", "st2", b)
    # b busy: a new chat of that customer waits for b up to sticky_wait_s, then a takes it
    bus.enqueue("st3", q, customer={"id": "tg:9"})
    t0 = time.time()
    assert wait_until(lambda: offered_to(world, "st3"), timeout=5) == a
    assert time.time() - t0 >= 1.5
    assert state(world, b)["state"] == "busy"
