"""What outside probing found (issue 16), each kept fixed: read-your-writes
for configuration, JSON bodies and strings, answers' headers, roles and
scopes, slow and greedy clients."""
import socket
import time

import pytest
import requests

from harness import free_port
from natslite import Nats, pb_encode
from test_registry_objects import make, skill

INTERACTION = {1: ("id", "str", None), 2: ("kind", "str", None), 3: ("queue_id", "str", None)}


@pytest.fixture
def stack(cluster):
    from harness import start_stack
    admin = start_stack(cluster)
    router = cluster.start("skill-router")
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    return {"admin": admin, "chat": chat, "router": router, "cluster": cluster}


def test_test_ports_lie_below_the_ephemeral_range():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(1024 < p < low for p in ports), sorted(ports)
    assert len(ports) == 50  # never the same port twice in one run


def test_a_configuration_change_is_usable_as_soon_as_it_is_confirmed(stack):
    admin, chat = stack["admin"], stack["chat"].base
    s = skill(admin, "Ryw")
    nats = Nats(stack["cluster"].nats.port)
    try:
        for i in range(3):
            # a busy bus: each service's change events wait behind many others,
            # as on a loaded machine, so only a reload on a miss finds new objects
            for _ in range(3000):
                nats.publish("cc.registry.changed.queues", b"")
                nats.publish("cc.registry.changed.channels", b"")
            nats.flush()
            q = make(admin, "/api/v1/queues", {"name": f"Ryw {i}", "channel": "chat",
                                               "skill_id": s["id"]})
            # skill-router knows the queue at once: a call into a chat queue is
            # refused for its kind, never for "no such queue"
            h, _ = nats.request("cc.router.enqueue", pb_encode(
                {"id": f"ryw-{i}", "kind": "call", "queue_id": q["id"]}, INTERACTION))
            assert "no such queue" not in h.get("Cc-Message", ""), h
            assert h.get("Cc-Status") == "bad_request", h
            fb = make(admin, "/api/v1/channels", {
                "type": "messenger", "name": f"Page {i}", "queue_id": q["id"],
                "api_base_url": "http://127.0.0.1:9",
                "credentials": {"page_access_token": "t", "app_secret": "s",
                                "verify_token": "v"}})
            r = requests.get(f"{chat}/webhooks/messenger/{fb['id']}", timeout=5, params={
                "hub.mode": "subscribe", "hub.verify_token": "v", "hub.challenge": "42"})
            assert r.status_code == 200 and r.text == "42", r.text
            wc = make(admin, "/api/v1/channels", {"type": "webchat", "name": f"Site {i}",
                                                  "queue_id": q["id"], "credentials": {}})
            r = requests.post(f"{chat}/webchat/v1/{wc['id']}/sessions", json={"name": "Ola"},
                              timeout=5)
            assert r.status_code == 201, r.text
    finally:
        nats.close()
    # an unknown channel is still 404, and a flood of them does not stall the service
    t0 = time.time()
    for i in range(20):
        r = requests.get(f"{chat}/webhooks/messenger/nope{i}", timeout=5)
        assert r.status_code == 404
    assert time.time() - t0 < 5
