"""Room to shard (docs/routing.md, "Redis keys"): every Redis key of a
deployment carries its routing domain's hash tag {cc:<CC_DOMAIN>}, so that
deployments with different domains share one Redis (Cluster) without seeing
each other; a domain that is not [a-z0-9-]{1,32} is refused at start."""
import shutil
import tempfile

import pytest

from harness import SERVICES, Api, Cluster, start_stack, tag
from test_chat_webchat import Customer, offered_chat
from test_registry_objects import make, skill, team, user
from test_routing import wait_until


def all_keys(redis):
    """Every key in Redis, by SCAN."""
    keys, cursor = [], "0"
    while True:
        out = redis.cli("SCAN", cursor, "COUNT", "1000").split("\n")
        cursor, keys = out[0], keys + [k for k in out[1:] if k]
        if cursor == "0":
            return keys


def desk(cluster, login):
    """The whole stack of `cluster` with a web-chat channel and one agent
    `login` ready for chats. Returns (admin, agent Api, agent id, chat-gateway)."""
    admin = start_stack(cluster)
    for name in ("skill-router", "call-router", "crm-sync"):
        cluster.start(name)
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    t = team(admin, "Chat team " + login, chat_invite_timeout_s=30, wrap_up_time_s=0)
    s = skill(admin, "Web " + login)
    q = make(admin, "/api/v1/queues", {"name": "Web " + login, "channel": "chat",
                                        "skill_id": s["id"]})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Site " + login,
                                          "queue_id": q["id"], "credentials": {}})
    u = user(admin, login, agent={"enabled": True, "team_id": t["id"]})
    admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 50})
    agent = Api(admin.base).login(login, "password-" + login)
    assert agent.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
    return admin, agent, u["id"], chat, ch


def chat_reaches(agent, chat, channel, text):
    """A web-chat customer writes `text`; the agent is offered the chat and
    accepts it. Returns the chat id."""
    cust = Customer(chat.base, channel["id"])
    cust.say(text)
    chat_id = offered_chat(agent)
    r = agent.post(f"/api/v1/chats/{chat_id}/accept")
    assert r.status_code == 200, r.text
    return chat_id


@pytest.fixture
def shared_redis():
    """Two clusters (own NATS each) on the Redis of the first: domains cell-a
    and cell-b."""
    dirs = [tempfile.mkdtemp(prefix="cc-test-") for _ in range(2)]
    a = Cluster(dirs[0], domain="cell-a")
    b = Cluster(dirs[1], domain="cell-b", redis=a.redis)
    yield a, b
    failures = b.close() + a.close()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        pytest.fail("\n".join(failures))


@pytest.mark.parametrize("domain", ["cell-7", "a-domain-of-the-longest-size-32c"])
def test_every_key_carries_the_domain_and_chats_route(tmp_path, domain):
    cluster = Cluster(str(tmp_path), domain=domain)
    try:
        admin, agent, agent_id, chat, ch = desk(cluster, "dora")
        chat_id = chat_reaches(agent, chat, ch, "Hello from " + domain)
        assert agent.get(f"/api/v1/chats/{chat_id}").json()["agent_id"] == agent_id
        m = agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "Hi, how can I help?"})
        assert m.status_code == 200, m.text
        keys = all_keys(cluster.redis)
        # the records of every service are there, each under the domain's tag
        for rest in (f"agent:{agent_id}", f"chat:{chat_id}", "chats:all", "obj:users",
                     f"askill:{agent_id}"):
            assert cluster.key(rest) in keys, rest
        assert any(k.startswith(cluster.key("sess:")) for k in keys)
        assert any(k.startswith(cluster.key("ix:")) for k in keys)
        stray = [k for k in keys if not k.startswith(tag(domain) + ":")]
        assert stray == []
    finally:
        failures = cluster.close()
    assert not failures, "\n".join(failures)


def test_two_domains_on_one_redis_do_not_see_each_other(shared_redis):
    a, b = shared_redis
    admin_a, agent_a, id_a, chat_a, ch_a = desk(a, "anna")
    admin_b, agent_b, id_b, chat_b, ch_b = desk(b, "bert")
    # each deployment bootstrapped its own admin and sees only its own configuration
    logins_a = {u["login"] for u in admin_a.get("/api/v1/users").json()["items"]}
    logins_b = {u["login"] for u in admin_b.get("/api/v1/users").json()["items"]}
    assert "anna" in logins_a and "bert" not in logins_a
    assert "bert" in logins_b and "anna" not in logins_b
    queues_b = {q["name"] for q in admin_b.get("/api/v1/queues").json()["items"]}
    assert queues_b == {"Web bert"}
    # a token of one deployment is no session in the other
    assert Api(admin_b.base, agent_a.token).get("/api/v1/me/offers").status_code == 401
    # a chat in cell-a goes to anna; cell-b knows nothing of it
    chat_id = chat_reaches(agent_a, chat_a, ch_a, "Hi A")
    assert admin_b.get(f"/api/v1/chats/{chat_id}").status_code == 404
    assert admin_b.get("/api/v1/chats").json()["items"] == []
    assert agent_b.get("/api/v1/me/offers").json()["items"] == []
    # and a chat in cell-b goes to bert while anna is busy with hers
    chat_id_b = chat_reaches(agent_b, chat_b, ch_b, "Hi B")
    assert admin_a.get(f"/api/v1/chats/{chat_id_b}").status_code == 404
    # the agents' presence: each registry lists only its own agents
    ids_a = {x["agent_id"] for x in admin_a.get("/api/v1/monitor/agents").json()["items"]}
    ids_b = {x["agent_id"] for x in admin_b.get("/api/v1/monitor/agents").json()["items"]}
    assert id_a in ids_a and id_b not in ids_a
    assert id_b in ids_b and id_a not in ids_b
    # every key is one domain's or the other's, both in use
    keys = all_keys(a.redis)
    in_a = [k for k in keys if k.startswith(tag("cell-a") + ":")]
    in_b = [k for k in keys if k.startswith(tag("cell-b") + ":")]
    assert in_a and in_b and len(in_a) + len(in_b) == len(keys)


@pytest.mark.parametrize("domain", ["Main", "cell_b", "x" * 33])
def test_a_bad_domain_is_refused_at_start(cluster, domain):
    for name in SERVICES:
        svc = cluster.start(name, env={"CC_DOMAIN": domain}, key=name + "-bad", wait=False)
        assert svc.p.wait(20) != 0, name
        assert "CC_DOMAIN" in svc.log(), (name, svc.log()[-2000:])
