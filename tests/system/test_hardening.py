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


def test_json_bodies_are_whole_and_never_cut_at_a_nul(stack):
    admin = stack["admin"]
    base = admin.base
    for raw in (b'{"login":"admin","password":"x"}}', b'{"login":"admin"} {"password":"x"}'):
        r = requests.post(f"{base}/api/v1/auth/login", data=raw, timeout=5,
                          headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", r.text
    from harness import ADMIN_PASSWORD
    pw = ADMIN_PASSWORD.encode()
    for raw in (b'{"login":"admin","password":"' + pw + b'\\u0000junk"}',
                b'{"login":"admin","password":"' + pw + b'\x00junk"}'):
        r = requests.post(f"{base}/api/v1/auth/login", data=raw, timeout=5)
        assert r.status_code == 400, r.text
    r = admin.call("POST", "/api/v1/skills", raw=b'{"name":"ab\\u0000cd"}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert admin.call("POST", "/api/v1/skills", raw=b'{"name":"ok"}]').status_code == 400


def test_answers_are_not_cached_nor_sniffed(stack):
    admin, chat = stack["admin"], stack["chat"].base
    for r in (requests.post(f"{admin.base}/api/v1/auth/login", timeout=5,
                            json={"login": "admin", "password": "wrong"}),
              admin.get("/api/v1/me"), admin.get("/api/v1/nope"),
              requests.get(f"{chat}/webchat/demo/abc", timeout=5),
              requests.get(f"{chat}/healthz", timeout=5)):
        assert r.headers.get("X-Content-Type-Options") == "nosniff", (r.url, r.headers)
        assert r.headers.get("Cache-Control") == "no-store", (r.url, r.headers)
    # the desk's own files keep their caching rule
    r = requests.get(f"{admin.base}/", timeout=5)
    assert r.headers.get("Cache-Control") == "no-cache"


@pytest.fixture
def guarded(cluster):
    from harness import FAST_HASH
    return cluster.start("agent-registry", env={
        **FAST_HASH, "CC_HTTP_MAX_CONNS_PER_IP": "20", "CC_HTTP_MAX_CONNS": "60",
        "CC_HTTP_REQUEST_TIMEOUT_S": "2"})


def _open_from(source, port, n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(3)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def _closed(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(4096) == b"" or True  # an answer (503/close) or EOF: refused
    except socket.timeout:
        return False
    except OSError:
        return True


def test_one_client_cannot_take_every_connection(guarded):
    port = guarded.port
    hogs = _open_from("127.0.0.2", port, 20)
    try:
        extra = _open_from("127.0.0.2", port, 1)[0]
        assert _closed(extra, 2), "a 21st connection from one address was kept open"
        extra.close()
        # every other client is still served, health checks included
        r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert r.status_code == 200
    finally:
        for s in hogs:
            s.close()


def test_a_trickling_request_is_cut_off(guarded):
    s = _open_from("127.0.0.1", guarded.port, 1)[0]
    t0 = time.time()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    cut = False
    while time.time() - t0 < 8:
        try:
            s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            cut = True
            break
        s.settimeout(0.5)
        try:
            if s.recv(4096) == b"":
                cut = True
                break
        except socket.timeout:
            pass
        except OSError:
            cut = True
            break
    s.close()
    assert cut and time.time() - t0 < 5, "a request trickling its header stayed open"
    r = requests.get(f"http://127.0.0.1:{guarded.port}/healthz", timeout=5)
    assert r.status_code == 200


def test_roles_and_input_are_answered_rightly(stack):
    from test_registry_objects import user
    from harness import Api
    admin = stack["admin"]
    user(admin, "mona", role="manager")
    user(admin, "pete", role="user")
    user(admin, "alice", agent={"enabled": True})
    mona = Api(admin.base).login("mona", "password-mona")
    r = mona.get("/api/v1/me")
    assert r.status_code == 200 and r.json()["login"] == "mona", r.text
    pete = Api(admin.base).login("pete", "password-pete")
    r = pete.call("POST", "/api/v1/files", raw=b"hello", name="a.txt")
    assert r.status_code == 403, r.text
    alice = Api(admin.base).login("alice", "password-alice")
    for who in (alice, pete, admin):
        for body in ({"status": "bogus"}, {"status": 5}, {"status": ""}):
            r = who.put("/api/v1/me/status", body)
            assert r.status_code == 400, (body, r.text)
    assert pete.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 409
