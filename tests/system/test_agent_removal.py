"""An agent deactivated (agent.enabled = false), archived or deleted while in
callcenter leaves routing at once (SPEC section 3): a ringing offer is
withdrawn and the interaction goes to the next agent, nothing is lost, and
no new offer reaches the removed agent."""
import time

import pytest

from harness import start_stack
from test_registry_objects import make, skill, team
from test_routing import Bus, agent, ix, state, wait_until


@pytest.fixture
def world(cluster):
    admin = start_stack(cluster)
    cluster.start("skill-router")
    # a long invitation: only the removal can take the offer away in time
    t = team(admin, "T", chat_invite_timeout_s=60, call_offer_timeout_s=60, no_answer_delay_s=0)
    s = skill(admin, "Support")
    q = make(admin, "/api/v1/queues", {"name": "Chat", "channel": "chat", "skill_id": s["id"]})
    return {"admin": admin, "team": t, "skill": s, "queue": q, "bus": Bus(cluster),
            "cluster": cluster}


def offered_to(w, ix_id, agent_id):
    return lambda: (lambda x: x["state"] == "offered" and x["agent_id"] == agent_id)(ix(w, ix_id))


def deactivate(w, uid):
    r = w["admin"].patch(f"/api/v1/users/{uid}", {"agent": {"enabled": False}})
    assert r.status_code == 200, r.text


def archive(w, uid):
    r = w["admin"].post(f"/api/v1/users/{uid}/archive")
    assert r.status_code == 200, r.text


def delete(w, uid):
    r = w["admin"].delete(f"/api/v1/users/{uid}")
    assert r.status_code in (200, 204), r.text


@pytest.mark.parametrize("remove", [deactivate, archive, delete])
def test_a_removed_agent_loses_the_ringing_offer_and_gets_no_new_one(world, remove):
    bus, q = world["bus"], world["queue"]["id"]
    a, api_a = agent(world, "amy")
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    bus.enqueue("c1", q, customer={"id": "tg:1", "name": "Ola"})
    wait_until(offered_to(world, "c1", a))
    b, api_b = agent(world, "ben")
    assert api_b.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200

    t0 = time.time()
    remove(world, a)
    # the invitation moves to the next agent well before its 60 s timeout
    wait_until(offered_to(world, "c1", b), timeout=3)
    took = time.time() - t0
    assert took < 2, took
    steps = bus.trace("c1")
    assert steps[:4] == ["enqueued", "offered", "withdrawn", "requeued"], steps
    assert steps.count("offered") == 2, steps
    # the removed agent is out of callcenter (or gone) and offered nothing more
    if remove is not delete:
        st = state(world, a)
        assert st["status"] != "callcenter" and st.get("state") is None, st
    bus.act("accept", "c1", b)
    bus.enqueue("c2", q)
    time.sleep(1.0)
    got = ix(world, "c2")
    assert got["state"] == "waiting", got  # ben is busy; amy must not get it
    assert bus.act("accept", "c1", a, ok=False)
    assert bus.act("accept", "c2", a, ok=False)


def test_a_deactivated_agent_cannot_go_back_to_callcenter_until_enabled(world):
    a, api_a = agent(world, "amy")
    deactivate(world, a)
    r = api_a.put("/api/v1/me/status", {"status": "callcenter"})
    assert r.status_code == 409, r.text
    assert world["admin"].patch(f"/api/v1/users/{a}",
                                {"agent": {"enabled": True}}).status_code == 200
    assert api_a.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
    world["bus"].enqueue("c1", world["queue"]["id"])
    wait_until(offered_to(world, "c1", a))


def test_a_pause_chosen_while_ringing_requeues_the_offer_at_once(world):
    """SPEC section 4: a status change asked for while an offer rings withdraws
    the offer and re-queues the interaction at its old place."""
    bus, q = world["bus"], world["queue"]["id"]
    a, api_a = agent(world, "amy")
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    bus.enqueue("c1", q)
    wait_until(offered_to(world, "c1", a))
    enq = ix(world, "c1")["enqueued_at"]
    b, api_b = agent(world, "ben")
    api_b.put("/api/v1/me/status", {"status": "callcenter"})
    assert api_a.put("/api/v1/me/status", {"status": "dnd"}).status_code == 200
    wait_until(offered_to(world, "c1", b), timeout=3)
    assert ix(world, "c1")["enqueued_at"] == enq
    # amy back in callcenter is not timed out later by the stale timer of c1
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    assert state(world, a)["state"] == "waiting"
