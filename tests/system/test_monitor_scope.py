"""A supervisor with limit_to_assigned_queues (the default) monitors only the
agents of the queues assigned to them: /monitor/agents, /monitor/events and
the routing trace of an interaction; admins see everything."""
import json
import time

import pytest

from harness import Api, start_stack
from test_registry_objects import make, skill, team, user
from test_routing import Bus, wait_until
from test_status_api import Stream


@pytest.fixture
def world(cluster):
    admin = start_stack(cluster, gateway_env={"CC_SSE_KEEPALIVE_S": "1"})
    cluster.start("skill-router")
    t = team(admin, "T", chat_invite_timeout_s=60)
    sup = user(admin, "sue", role="supervisor")
    mine, other = skill(admin, "Mine"), skill(admin, "Other")
    qa = make(admin, "/api/v1/queues", {"name": "A", "channel": "chat", "skill_id": mine["id"],
                                        "supervisor_ids": [sup["id"]]})
    qb = make(admin, "/api/v1/queues", {"name": "B", "channel": "chat", "skill_id": other["id"]})
    agents = {}
    for login, s in (("ann", mine), ("bob", other)):
        u = user(admin, login, agent={"enabled": True, "team_id": t["id"]})
        admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 50})
        agents[login] = (u["id"], Api(admin.base).login(login, "password-" + login))
    return {"admin": admin, "sup": Api(admin.base).login("sue", "password-sue"),
            "qa": qa["id"], "qb": qb["id"], "agents": agents, "bus": Bus(cluster)}


def listed(api):
    r = api.get("/api/v1/monitor/agents")
    assert r.status_code == 200, r.text
    return {a["agent_id"] for a in r.json()["items"]}


def test_monitor_agents_lists_only_the_agents_of_assigned_queues(world):
    ann, bob = world["agents"]["ann"][0], world["agents"]["bob"][0]
    assert listed(world["sup"]) == {ann}
    assert listed(world["admin"]) >= {ann, bob}
    # without the limit the supervisor sees every agent
    world["admin"].put("/api/v1/settings/permissions",
                       {"supervisor": {"limit_to_assigned_queues": False}})
    assert listed(world["sup"]) >= {ann, bob}


def test_trace_of_an_unassigned_queue_is_404_for_the_supervisor(world):
    bus = world["bus"]
    bus.enqueue("ia", world["qa"])
    bus.enqueue("ib", world["qb"])
    sup, admin = world["sup"], world["admin"]
    assert sup.get("/api/v1/interactions/ia/trace").status_code == 200
    r = sup.get("/api/v1/interactions/ib/trace")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    assert sup.get("/api/v1/interactions/nope/trace").status_code == 404
    assert admin.get("/api/v1/interactions/ib/trace").status_code == 200


def test_monitor_events_carry_only_the_agents_of_assigned_queues(world):
    (ann, ann_api), (bob, bob_api) = world["agents"]["ann"], world["agents"]["bob"]
    s = Stream(world["sup"].base, "/api/v1/monitor/events", world["sup"].token)
    a = Stream(world["admin"].base, "/api/v1/monitor/events", world["admin"].token)
    assert s.r.status_code == 200 and a.r.status_code == 200
    bob_api.put("/api/v1/me/status", {"status": "dnd"})
    ann_api.put("/api/v1/me/status", {"status": "dnd"})
    seen = []
    f = s.until(lambda f: f.get("event") == "status" and
                seen.append(json.loads(f["data"])["agent_id"]) is None and seen[-1] == ann, 5)
    assert f is not None and bob not in seen, seen
    seen_admin = set()
    a.until(lambda f: f.get("event") == "status" and
            seen_admin.add(json.loads(f["data"])["agent_id"]) is None and
            {ann, bob} <= seen_admin, 5)
    # the scope follows assignment: bob's queue assigned, his events reach the stream
    # within a keepalive (1 s here)
    sup_id = world["sup"].get("/api/v1/me").json()["id"]
    r = world["admin"].patch(f"/api/v1/queues/{world['qb']}", {"supervisor_ids": [sup_id]})
    assert r.status_code == 200, r.text
    time.sleep(2.5)
    bob_api.put("/api/v1/me/status", {"status": "ready"})
    f = s.until(lambda f: f.get("event") == "status" and json.loads(f["data"])["agent_id"] == bob, 5)
    assert f is not None
