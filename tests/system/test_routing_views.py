"""What people see of routing over HTTP: an agent's ringing offers
(/me/offers and SSE `offer` / `offer_withdrawn`), the waiting per queue
(/monitor/queues) and the router's Prometheus gauges."""
import json
import time

import requests

from harness import Api
from test_registry_objects import make, user
from test_routing import agent, ix, wait_until
from test_routing_strategies import offered_to, online, queue, world  # noqa: F401 (fixture)
from test_status_api import Stream


def offer_frames(stream, n, seconds=5):
    out = []
    while len(out) < n:
        f = stream.until(lambda f: f.get("event") in ("offer", "offer_withdrawn"), seconds)
        assert f is not None, "stream ended"
        out.append((f["event"], json.loads(f["data"])))
    return out


def test_offers_reach_the_agent_by_sse_and_in_me_offers(world):
    bus = world["bus"]
    q = queue(world, "Chat", max_concurrent_chats=2)
    a, api = agent(world, "oa")
    api.put("/api/v1/me/status", {"status": "callcenter"})
    assert api.get("/api/v1/me/offers").json() == {"items": [], "next_cursor": None}
    s = Stream(api.base, "/api/v1/me/events", api.token)
    bus.enqueue("of1", q, preview="Hola, ¿qué tal? 😀",
                customer={"id": "tg:5", "name": "Łucja", "phone": "+48600100200"},
                chat_id="chat-of1")
    ((event, offer),) = offer_frames(s, 1)
    assert event == "offer"
    assert offer["interaction_id"] == "of1" and offer["kind"] == "chat"
    assert offer["queue_id"] == q and offer["chat_id"] == "chat-of1"
    assert offer["preview"] == "Hola, ¿qué tal? 😀"
    assert offer["customer"] == {"id": "tg:5", "name": "Łucja", "phone": "+48600100200"}
    assert offer["offered_at"] < offer["expires_at"]  # + the team's 10 s invite time
    listed = api.get("/api/v1/me/offers").json()["items"]
    assert [o["offer_id"] for o in listed] == [offer["offer_id"]]
    # the customer leaves: the offer is withdrawn and no longer listed
    bus.act("abandon", "of1")
    ((event, gone),) = offer_frames(s, 1)
    assert event == "offer_withdrawn" and gone["interaction_id"] == "of1"
    assert api.get("/api/v1/me/offers").json()["items"] == []
    # accepted offers leave the list too
    bus.enqueue("of2", q)
    offered_to(world, "of2")
    assert len(api.get("/api/v1/me/offers").json()["items"]) == 1
    bus.act("accept", "of2", a)
    assert api.get("/api/v1/me/offers").json()["items"] == []
    assert requests.get(api.base + "/api/v1/me/offers").status_code == 401


def test_ring_all_losers_see_the_offer_withdrawn(world):
    ids = online(world, "w1", "w2")
    apis = {}
    for login, a in zip(("w1", "w2"), ids):
        apis[a] = Api(world["admin"].base).login(login, "password-" + login)
    streams = {a: Stream(api.base, "/api/v1/me/events", api.token) for a, api in apis.items()}
    q = queue(world, "Ring", channel="call", strategy="ring_all")
    world["bus"].enqueue("rw1", q, kind="call")
    for a in ids:
        assert offer_frames(streams[a], 1)[0][0] == "offer"
        assert len(apis[a].get("/api/v1/me/offers").json()["items"]) == 1
    world["bus"].act("accept", "rw1", ids[0])
    ((event, offer),) = offer_frames(streams[ids[1]], 1)
    assert event == "offer_withdrawn" and offer["interaction_id"] == "rw1"
    for a in ids:
        assert apis[a].get("/api/v1/me/offers").json()["items"] == []


def test_monitor_queues_and_gauges(world):
    bus, admin = world["bus"], world["admin"]
    q1 = queue(world, "Q-one")
    q2 = queue(world, "Q-two")
    bus.enqueue("mq1", q1)
    time.sleep(0.05)
    bus.enqueue("mq2", q1, priority=90)  # first in line, but not the oldest
    t0 = time.time()
    rows = {r["queue_id"]: r for r in admin.get("/api/v1/monitor/queues").json()["items"]}
    one, two = rows[q1], rows[q2]
    assert one["name"] == "Q-one" and one["channel"] == "chat" and one["waiting"] == 2
    assert one["oldest_enqueued_at"] == ix(world, "mq1")["enqueued_at"]
    assert 0 <= one["oldest_wait_s"] < 5 + time.time() - t0
    assert two["waiting"] == 0 and two.get("oldest_enqueued_at") is None
    metrics = requests.get(world["cluster"].services["skill-router"].url("/metrics")).text
    assert f'cc_router_waiting{{queue="{q1}"}} 2' in metrics
    assert f'cc_router_oldest_wait_seconds{{queue="{q1}"}}' in metrics
    # a supervisor sees the queues assigned to them, an agent none
    sup = user(admin, "sup", role="supervisor")
    make(admin, "/api/v1/queues", {"name": "Theirs", "channel": "chat",
                                   "skill_id": world["skill"]["id"],
                                   "supervisor_ids": [sup["id"]]})
    sup_api = Api(admin.base).login("sup", "password-sup")
    names = [r["name"] for r in sup_api.get("/api/v1/monitor/queues").json()["items"]]
    assert names == ["Theirs"]
    _, agent_api = agent(world, "plain")
    assert agent_api.get("/api/v1/monitor/queues").status_code == 403
    # an offered interaction no longer waits
    online(world, "mq")
    wait_until(lambda: admin.get("/api/v1/monitor/queues").json()["items"][0]["waiting"] < 2)


def test_monitors_are_told_when_queues_change(world):
    admin = world["admin"]
    q = queue(world, "Watched")
    s = Stream(admin.base, "/api/v1/monitor/events", admin.token)
    assert s.frame().get("comment") == "connected"
    world["bus"].enqueue("qc1", q)
    f = s.until(lambda f: f.get("event") == "queues", 5)
    assert json.loads(f["data"]) == {"items": []}  # a signal: /monitor/queues holds the figures
    assert admin.get("/api/v1/monitor/queues").json()["items"][0]["waiting"] == 1
