"""The routing index agent-registry keeps in Redis for skill-router's Lua
scripts (docs/registry.md, "Routing index"): <tag>:rt:cand:<skill> holds
exactly the agents with the skill active, scored by capacity, and the
presence hash <tag>:agent:<user> carries the user's team."""
import pytest

from harness import key, start_stack
from test_registry_objects import make, skill, team, user


@pytest.fixture
def admin(cluster):
    return start_stack(cluster)


def cand(cluster, skill_id):
    """The candidate set of a skill as {user id: capacity}."""
    out = cluster.redis.cli("ZRANGE", key("rt:cand:") + skill_id, "0", "-1", "WITHSCORES")
    words = out.split() if out else []
    return {words[i]: int(float(words[i + 1])) for i in range(0, len(words), 2)}


def exists(cluster, key):
    return cluster.redis.cli("EXISTS", key) == "1"


def team_of(cluster, user_id):
    return cluster.redis.cli("HGET", key("agent:") + user_id, "team")


def put_skill(api, user_id, skill_id, capacity, active=True):
    r = api.put(f"/api/v1/agents/{user_id}/skills/{skill_id}",
                {"capacity": capacity, "active": active})
    assert r.status_code == 200, r.text


def patch(api, user_id, body):
    r = api.patch(f"/api/v1/users/{user_id}", body)
    assert r.status_code == 200, r.text
    return r.json()


def test_agent_skill_put_capacity_and_active_drive_membership(cluster, admin):
    s = skill(admin, "Sales")
    a = user(admin, "ann")
    assert cand(cluster, s["id"]) == {}
    put_skill(admin, a["id"], s["id"], 40)
    assert cand(cluster, s["id"]) == {a["id"]: 40}
    put_skill(admin, a["id"], s["id"], 75)
    assert cand(cluster, s["id"]) == {a["id"]: 75}
    put_skill(admin, a["id"], s["id"], 75, active=False)
    assert cand(cluster, s["id"]) == {}
    put_skill(admin, a["id"], s["id"], 60)
    assert cand(cluster, s["id"]) == {a["id"]: 60}
    assert admin.delete(f"/api/v1/agents/{a['id']}/skills/{s['id']}").status_code == 204
    assert cand(cluster, s["id"]) == {}


def test_deactivated_agent_leaves_every_set_and_comes_back(cluster, admin):
    s1, s2 = skill(admin, "One"), skill(admin, "Two")
    a, b = user(admin, "al"), user(admin, "bo")
    put_skill(admin, a["id"], s1["id"], 10)
    put_skill(admin, a["id"], s2["id"], 20)
    put_skill(admin, b["id"], s1["id"], 30)
    patch(admin, a["id"], {"agent": {"enabled": False}})
    assert cand(cluster, s1["id"]) == {b["id"]: 30}
    assert cand(cluster, s2["id"]) == {}
    patch(admin, a["id"], {"agent": {"enabled": True}})
    assert cand(cluster, s1["id"]) == {a["id"]: 10, b["id"]: 30}
    assert cand(cluster, s2["id"]) == {a["id"]: 20}


def test_archived_agent_leaves_and_unarchived_returns(cluster, admin):
    s = skill(admin, "Archive")
    a = user(admin, "arch")
    put_skill(admin, a["id"], s["id"], 50)
    assert admin.post(f"/api/v1/users/{a['id']}/archive").status_code == 200
    assert cand(cluster, s["id"]) == {}
    assert admin.post(f"/api/v1/users/{a['id']}/unarchive").status_code == 200
    assert cand(cluster, s["id"]) == {a["id"]: 50}


def test_team_field_follows_the_user_without_touching_the_version(cluster, admin):
    t1, t2 = team(admin, "Red"), team(admin, "Blue")
    a = user(admin, "tina", agent={"enabled": True, "team_id": t1["id"]})
    assert team_of(cluster, a["id"]) == t1["id"]
    admin.login("tina", "password-tina")  # signing in writes the record and its version
    version = cluster.redis.cli("HGET", key("agent:") + a["id"], "version")
    assert version not in ("", "0")
    patch(admin, a["id"], {"agent": {"team_id": t2["id"]}})
    assert team_of(cluster, a["id"]) == t2["id"]
    patch(admin, a["id"], {"agent": None})  # back to the defaults: enabled, no team
    assert team_of(cluster, a["id"]) == ""
    assert cluster.redis.cli("HGET", key("agent:") + a["id"], "version") == version
    assert team_of(cluster, user(admin, "noteam")["id"]) == ""


def test_deleted_skill_takes_its_set_and_deleted_user_leaves(cluster, admin):
    s1, s2 = skill(admin, "Gone"), skill(admin, "Kept")
    a, b = user(admin, "del1"), user(admin, "del2")
    for u in (a, b):
        put_skill(admin, u["id"], s1["id"], 10)
        put_skill(admin, u["id"], s2["id"], 20)
    assert admin.delete(f"/api/v1/skills/{s1['id']}").status_code == 204
    assert not exists(cluster, key("rt:cand:") + s1["id"])
    assert cand(cluster, s2["id"]) == {a["id"]: 20, b["id"]: 20}
    assert admin.delete(f"/api/v1/users/{a['id']}").status_code == 204
    assert cand(cluster, s2["id"]) == {b["id"]: 20}
    assert not exists(cluster, key("agent:") + a["id"])


def test_non_agent_is_never_indexed(cluster, admin):
    s = skill(admin, "Nobody")
    t = team(admin, "Office")
    u = user(admin, "clerk", role="user")
    assert u["agent"]["enabled"] is False
    put_skill(admin, u["id"], s["id"], 90)
    assert cand(cluster, s["id"]) == {}
    patch(admin, u["id"], {"first_name": "Clara", "agent": {"team_id": t["id"]}})
    assert cand(cluster, s["id"]) == {}
    assert team_of(cluster, u["id"]) == t["id"]
    assert admin.post(f"/api/v1/users/{u['id']}/archive").status_code == 200
    assert admin.post(f"/api/v1/users/{u['id']}/unarchive").status_code == 200
    assert cand(cluster, s["id"]) == {}


def test_restart_rebuilds_the_index_from_stored_data(cluster, admin):
    s1, s2 = skill(admin, "Re1"), skill(admin, "Re2")
    t = team(admin, "Rebuild")
    a = user(admin, "re-a", agent={"enabled": True, "team_id": t["id"]})
    b = user(admin, "re-b")
    off = user(admin, "re-off", agent={"enabled": False})
    put_skill(admin, a["id"], s1["id"], 11)
    put_skill(admin, a["id"], s2["id"], 12, active=False)
    put_skill(admin, b["id"], s1["id"], 13)
    put_skill(admin, off["id"], s1["id"], 14)
    before = {s1["id"]: cand(cluster, s1["id"]), s2["id"]: cand(cluster, s2["id"])}
    assert before == {s1["id"]: {a["id"]: 11, b["id"]: 13}, s2["id"]: {}}
    # As data written before the index existed: no sets, no team fields, and
    # a stray member whose user and agent skill never existed.
    cluster.redis.cli("DEL", key("rt:cand:") + s1["id"], key("rt:cand:") + s2["id"])
    cluster.redis.cli("HDEL", key("agent:") + a["id"], "team")
    cluster.redis.cli("ZADD", key("rt:cand:") + s2["id"], "5", "usr_ghost")
    reg = cluster.services["agent-registry"]
    reg.kill9()
    reg.start().wait_ready()
    assert {s: cand(cluster, s) for s in before} == before
    assert team_of(cluster, a["id"]) == t["id"]
    assert team_of(cluster, b["id"]) == ""
    make(admin, "/api/v1/skills", {"name": "after-restart"})  # the registry still serves
