"""The web-chat API's guard (issue 16): the widget embedded on a customer's
site of another origin works in headless Chromium when the channel allows
that origin and is refused by the browser when it does not (CORS preflight
and headers; a disallowed origin is refused by the server too); and the
floods: sessions and messages limited per client address and per channel
(429 with Retry-After, counted in /metrics)."""
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from browser import Browser
from harness import free_port, key
from test_chat_webchat import Customer, desk, offered_chat  # noqa: F401 - the fixture
from test_routing import wait_until


class Site:
    """A customer's web site on its own port of 127.0.0.1 (another origin
    than chat-gateway's): one page holding the widget."""

    def __init__(self, chat_base, channel_id):
        page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
                f'</head><body><h1>Shop</h1><script src="{chat_base}/webchat/widget.js" '
                f'data-channel="{channel_id}" data-base="{chat_base}"></script></body></html>'
                ).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def sessions(cluster):
    return len(cluster.redis.cli("KEYS", key("wcs:*")).split())


def preflight(chat, path, origin, method="POST"):
    return requests.options(f"{chat.base}{path}", timeout=5, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type,x-webchat-token"})


def metric(chat, name, labels):
    for line in requests.get(f"{chat.base}/metrics", timeout=5).text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_allowed_origins_are_validated(desk):  # noqa: F811
    admin, ch = desk["admin"], desk["channel"]
    for bad in (["https://shop.example.com/path"], ["ftp://shop.example.com"], ["*"],
                ["https://shop example.com"], ["https://a.example:99999"], ["null"],
                ["https://a.example", "https://A.example/"]):
        r = admin.patch(f"/api/v1/channels/{ch['id']}", {"allowed_origins": bad})
        assert r.status_code == 400 and "allowed_origins" in r.text, (bad, r.text)
    r = admin.patch(f"/api/v1/channels/{ch['id']}", {"allowed_origins": [
        "HTTPS://Shop.Example.com:443/", "http://127.0.0.1:8080", "http://[::1]:9000"]})
    assert r.status_code == 200, r.text
    assert r.json()["allowed_origins"] == ["https://shop.example.com", "http://127.0.0.1:8080",
                                           "http://[::1]:9000"]
    # only web chat has origins
    q = desk["queue"]["id"]
    r = admin.post("/api/v1/channels", {"type": "viber", "name": "V", "queue_id": q,
                                        "api_base_url": "https://chatapi.viber.com",
                                        "credentials": {"auth_token": "t"},
                                        "allowed_origins": ["https://shop.example.com"]})
    assert r.status_code == 400 and "allowed_origins" in r.text


def test_widget_on_another_origin(desk, browser, cluster):  # noqa: F811
    chat, admin, ch = desk["chat"], desk["admin"], desk["channel"]
    shop, stranger = Site(chat.base, ch["id"]), Site(chat.base, ch["id"])
    try:
        path = f"/webchat/v1/{ch['id']}/sessions"
        # before the channel names the shop, its preflight is refused
        r = preflight(chat, path, shop.origin)
        assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
        r = admin.patch(f"/api/v1/channels/{ch['id']}", {"allowed_origins": [shop.origin]})
        assert r.status_code == 200, r.text
        r = wait_until(lambda: (lambda x: x if x.status_code == 204 else None)(
            preflight(chat, path, shop.origin)), timeout=5)
        assert r.headers["Access-Control-Allow-Origin"] == shop.origin
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert "X-Webchat-Token" in r.headers["Access-Control-Allow-Headers"]
        assert "Origin" in r.headers["Vary"] and int(r.headers["Access-Control-Max-Age"]) > 0
        bad = preflight(chat, path, stranger.origin)
        assert bad.status_code == 403 and "Access-Control-Allow-Origin" not in bad.headers
        # a session's preflights follow its channel
        cust = Customer(chat.base, ch["id"])
        for p, m in ((f"/webchat/v1/sessions/{cust.id}/messages", "POST"),
                     (f"/webchat/v1/sessions/{cust.id}/events", "GET")):
            assert preflight(chat, p, shop.origin, m).headers.get(
                "Access-Control-Allow-Origin") == shop.origin
            assert preflight(chat, p, stranger.origin, m).status_code == 403

        # the shop's page: the widget opens a session, sends, gets the agent's reply (SSE)
        page = browser.page()
        page.goto(shop.origin + "/")
        page.click("Chat with us")
        key = "cc-webchat-" + ch["id"]
        page.wait(f"!!localStorage.getItem('{key}')")
        page.fill("Message", "Hola desde la tienda 🛍️")
        page.press("Enter")
        s = json.loads(page.eval(f"localStorage.getItem('{key}')"))
        wait_until(lambda: [m["text"] for m in requests.get(
            f"{chat.base}/webchat/v1/sessions/{s['session_id']}/messages",
            headers={"X-Webchat-Token": s["token"]}, timeout=5).json()["items"]]
            == ["Hola desde la tienda 🛍️"], timeout=10)
        agent = desk["agent"]
        chat_id = offered_chat(agent)
        assert agent.post(f"/api/v1/chats/{chat_id}/accept").status_code == 200
        assert agent.post(f"/api/v1/chats/{chat_id}/messages",
                          {"text": "¡Bienvenida! 😊"}).status_code == 200
        page.wait("document.body.innerText.includes('¡Bienvenida! 😊')", timeout=10)
        assert not [e for e in page.errors if "Failed to load resource" not in e], page.errors
        page.close()

        # the stranger's page: the browser refuses; nothing is stored
        before = sessions(cluster)
        page = browser.page()
        page.goto(stranger.origin + "/")
        page.click("Chat with us")
        time.sleep(1.5)
        assert page.eval(f"localStorage.getItem('{key}')") is None
        refused = page.eval(f"""fetch({json.dumps(chat.base + path)}, {{method: "POST",
            headers: {{"Content-Type": "application/json"}}, body: "{{}}"}})
            .then(() => "answered", (e) => e.name)""")
        assert refused == "TypeError"
        # a request that needs no preflight reaches the server, which refuses it too
        page.eval(f"""fetch({json.dumps(chat.base + path)}, {{method: "POST", mode: "no-cors",
            headers: {{"Content-Type": "text/plain"}}, body: "{{}}"}}).then(() => 1, () => 0)""")
        assert any("CORS" in e or "Access-Control" in e for e in page.errors), page.errors
        page.close()
        assert sessions(cluster) == before
        assert metric(chat, "cc_chat_webchat_refused_total", {"reason": "origin"}) >= 2
        r = requests.post(f"{chat.base}{path}", json={}, headers={"Origin": stranger.origin},
                          timeout=5)
        assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
        # the session's own requests carry the headers, errors included
        r = requests.get(f"{chat.base}/webchat/v1/sessions/{cust.id}/messages", timeout=5,
                         headers={"Origin": shop.origin, "X-Webchat-Token": "0" * 64})
        assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == shop.origin
        assert "Retry-After" in r.headers["Access-Control-Expose-Headers"]
        # removing the origin takes the shop's access away
        assert admin.patch(f"/api/v1/channels/{ch['id']}",
                           {"allowed_origins": []}).status_code == 200
        wait_until(lambda: preflight(chat, path, shop.origin).status_code == 403, timeout=5)
    finally:
        shop.close()
        stranger.close()


# --- floods ----------------------------------------------------------------------------------------


def post_from(address, base, path, body, headers=None):
    """POST from client address `address` (any 127.x address reaches a service on 127.0.0.1)."""
    host, port = base.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(address, 0))
    try:
        c.request("POST", path, body=json.dumps(body),
                  headers={"Content-Type": "application/json", **(headers or {})})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def test_sessions_and_messages_are_limited(desk, cluster):  # noqa: F811
    chat, admin = desk["chat"], desk["admin"]
    chat.stop()
    chat.env.update({"CC_WEBCHAT_SESSIONS_PER_ADDRESS": "5", "CC_WEBCHAT_SESSIONS_PER_CHANNEL": "8",
                     "CC_WEBCHAT_MESSAGES_PER_ADDRESS": "30",
                     "CC_WEBCHAT_MESSAGES_PER_CHANNEL": "1000000"})
    chat.start().wait_ready()
    ch = desk["channel"]["id"]
    other = admin.post("/api/v1/channels", {"type": "webchat", "name": "Other",
                                            "queue_id": desk["queue"]["id"],
                                            "credentials": {}}).json()["id"]
    path = f"/webchat/v1/{ch}/sessions"
    got = [post_from("127.0.0.1", chat.base, path, {}) for _ in range(6)]
    assert [g[0] for g in got] == [201] * 5 + [429], [g[0] for g in got]
    status, headers, body = got[-1]
    assert 10 <= int(headers["Retry-After"]) <= 12, headers  # one more every 12 s
    assert json.loads(body)["error"]["code"] and "address" in json.loads(body)["error"]["message"]
    # another address has its own allowance, until the channel's is spent (8)
    got = [post_from("127.0.0.2", chat.base, path, {})[0] for _ in range(4)]
    assert got == [201, 201, 201, 429], got
    status, headers, body = post_from("127.0.0.3", chat.base, path, {})
    assert status == 429 and "channel" in json.loads(body)["error"]["message"]
    assert int(headers["Retry-After"]) >= 1
    # another channel is not held back by the first one's limit
    wait_until(lambda: post_from("127.0.0.3", chat.base, f"/webchat/v1/{other}/sessions",
                                 {})[0] == 201, timeout=5)
    # messages: 30 a minute from one address, one more every 2 s
    s = json.loads(post_from("127.0.0.4", chat.base, path.replace(ch, other), {})[2])
    mpath = f"/webchat/v1/sessions/{s['session_id']}/messages"
    h = {"X-Webchat-Token": s["token"]}
    got = [post_from("127.0.0.4", chat.base, mpath, {"text": f"m{i}"}, h) for i in range(31)]
    assert [g[0] for g in got] == [201] * 30 + [429], [g[0] for g in got]
    wait = int(got[-1][1]["Retry-After"])
    assert 1 <= wait <= 2
    time.sleep(wait + 0.1)
    assert post_from("127.0.0.4", chat.base, mpath, {"text": "after the wait"}, h)[0] == 201
    assert post_from("127.0.0.4", chat.base, mpath, {"text": "too soon"}, h)[0] == 429
    # counted
    assert metric(chat, "cc_chat_webchat_limited_total", {"what": "session", "scope": "address"}) == 1
    assert metric(chat, "cc_chat_webchat_limited_total", {"what": "session", "scope": "channel"}) == 2
    assert metric(chat, "cc_chat_webchat_limited_total", {"what": "message", "scope": "address"}) == 2
