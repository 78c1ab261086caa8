"""A web-chat customer and an agent through the whole chat lifecycle (SPEC
section 6): the widget API of chat-gateway, the chat endpoints of
api-gateway, skill-router's offer, files with expiring links, End chat, a
new chat for the next message, and the refusals on both sides."""
import json
import time

import pytest
import requests

from harness import Api
from test_registry_objects import make, skill, team, user
from test_routing import wait_until
from test_status_api import Stream

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
       b"\x00\x00\x00IEND\xaeB`\x82")


class Customer:
    """The widget's side: a session and its token."""

    def __init__(self, base, channel_id, name="Ola"):
        self.base = base
        r = requests.post(f"{base}/webchat/v1/{channel_id}/sessions", json={"name": name},
                          timeout=10)
        assert r.status_code == 201, r.text
        self.id, self.token = r.json()["session_id"], r.json()["token"]

    def call(self, method, path, **kw):
        return requests.request(method, f"{self.base}/webchat/v1/sessions/{self.id}{path}",
                                headers={"X-Webchat-Token": self.token}, timeout=10, **kw)

    def say(self, text, **kw):
        r = self.call("POST", "/messages", json={"text": text, **kw})
        assert r.status_code == 201, r.text
        return r.json()

    def messages(self):
        r = self.call("GET", "/messages")
        assert r.status_code == 200, r.text
        return r.json()["items"]


@pytest.fixture
def desk(cluster, tmp_path):
    from harness import start_stack
    admin = start_stack(cluster)
    cluster.start("skill-router")
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    t = team(admin, "Chat team", chat_invite_timeout_s=30, wrap_up_time_s=0)
    s = skill(admin, "Web")
    q = make(admin, "/api/v1/queues", {"name": "Web", "channel": "chat", "skill_id": s["id"]})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Site", "queue_id": q["id"],
                                         "credentials": {}})
    u = user(admin, "wanda", agent={"enabled": True, "team_id": t["id"]})
    admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 50})
    agent = Api(admin.base).login("wanda", "password-wanda")
    agent.put("/api/v1/me/status", {"status": "callcenter"})
    return {"admin": admin, "agent": agent, "agent_id": u["id"], "chat": chat, "channel": ch,
            "queue": q}


def offered_chat(agent):
    return wait_until(lambda: next((o["chat_id"] for o in agent.get("/api/v1/me/offers")
                                    .json()["items"]), None), timeout=10)


def test_web_chat_whole_lifecycle(desk):
    agent, chat_base = desk["agent"], desk["chat"].base
    events = Stream(agent.base, "/api/v1/me/events", agent.token)
    cust = Customer(chat_base, desk["channel"]["id"], name="Łucja")
    cust.say("Dzień dobry 👋 ¿qué tal?")
    chat_id = offered_chat(agent)
    offer = events.until(lambda f: f.get("event") == "offer", 10)
    offered = json.loads(offer["data"])
    assert offered["preview"] == "Dzień dobry 👋 ¿qué tal?"
    assert offered["queue_name"] == "Web" and offered["source"] == "webchat"
    c = agent.post(f"/api/v1/chats/{chat_id}/accept").json()
    assert c["agent_id"] == desk["agent_id"] and c["state"] == "new" and c["start_time"]
    assert c["source"] == "webchat" and c["queue_id"] == desk["queue"]["id"]
    assert c["name"] == "Łucja" and c["to"] == "Site" and c["queue_name"] == "Web"
    assert [x["id"] for x in agent.get("/api/v1/chats", view="active").json()["items"]] == [chat_id]
    # the customer's stream sees the agent's reply
    cstream = Stream(chat_base, f"/webchat/v1/sessions/{cust.id}/events", cust.token, via="query")
    m = agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "Hola 😀, w czym pomóc?"})
    assert m.status_code == 200, m.text
    assert m.json()["direction"] == "out" and m.json()["delivery"] == "sent"
    got = cstream.until(lambda f: f.get("event") == "message", 10)
    assert json.loads(got["data"])["text"] == "Hola 😀, w czym pomóc?"
    assert agent.get(f"/api/v1/chats/{chat_id}").json()["state"] == "in_progress"
    # the customer writes again: same chat, in order, and the agent's stream has it
    cust.say("Mam pytanie o fakturę")
    ev = events.until(lambda f: f.get("event") == "message" and
                      json.loads(f["data"])["direction"] == "in", 10)
    assert json.loads(ev["data"])["text"] == "Mam pytanie o fakturę"
    texts = [x["text"] for x in wait_until(lambda: (lambda ms: ms if len(ms) == 3 else None)(
        agent.get(f"/api/v1/chats/{chat_id}/messages").json()["items"]))]
    assert texts == ["Dzień dobry 👋 ¿qué tal?", "Hola 😀, w czym pomóc?", "Mam pytanie o fakturę"]
    assert [x["direction"] for x in cust.messages()] == ["in", "out", "in"]
    # a file: uploaded, sent, fetched by its link
    up = agent.call("POST", "/api/v1/files", raw=PNG, name="../../etc/pic.png")
    assert up.status_code == 201, up.text
    assert up.json()["mime"] == "image/png" and up.json()["name"] == "pic.png"
    fm = agent.post(f"/api/v1/chats/{chat_id}/messages", {"file_id": up.json()["id"]}).json()
    att = fm["attachments"][0]
    assert att["kind"] == "image" and att["url"].startswith(chat_base + "/files/")
    r = requests.get(att["url"], timeout=10)
    assert r.status_code == 200 and r.content == PNG and r.headers["Content-Type"] == "image/png"
    assert requests.get(chat_base + "/files/" + "0" * 64, timeout=10).status_code == 404
    for tail in ("%00", "%00.png", "%2500"):  # never the file by another name
        assert requests.get(att["url"] + tail, timeout=10).status_code == 404
    # result, links, then End chat
    p = agent.patch(f"/api/v1/chats/{chat_id}", {"result_details": "Faktura wysłana",
                                                  "links": {"case_id": "CASE-1"}})
    assert p.status_code == 200, p.text
    assert p.json()["links"]["case_id"] == "CASE-1"
    assert agent.patch(f"/api/v1/chats/{chat_id}", {"state": "completed"}).status_code == 409
    assert agent.patch(f"/api/v1/chats/{chat_id}", {"agent_id": "x"}).status_code == 400
    done = agent.post(f"/api/v1/chats/{chat_id}/end").json()
    assert done["state"] == "completed" and done["end_time"]
    assert agent.get("/api/v1/chats", view="active").json()["items"] == []
    assert [x["id"] for x in agent.get("/api/v1/chats", view="closed").json()["items"]] == [chat_id]
    assert agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "late"}).status_code == 409
    # the next message opens a new chat
    cust.say("Jeszcze jedno")
    assert offered_chat(agent) != chat_id


def test_refusals(desk):
    agent, admin, chat_base = desk["agent"], desk["admin"], desk["chat"].base
    ch = desk["channel"]["id"]
    assert requests.post(f"{chat_base}/webchat/v1/chn_nope/sessions", json={},
                         timeout=5).status_code == 404
    assert requests.post(f"{chat_base}/webchat/v1/{ch}/sessions", data="{", timeout=5,
                         headers={"Content-Type": "application/json"}).status_code == 400
    cust = Customer(chat_base, ch)
    bad = requests.post(f"{chat_base}/webchat/v1/sessions/{cust.id}/messages",
                        json={"text": "x"}, headers={"X-Webchat-Token": "0" * 64}, timeout=5)
    assert bad.status_code == 401
    assert requests.get(f"{chat_base}/webchat/v1/sessions/{cust.id}/messages",
                        timeout=5).status_code == 401
    assert cust.call("POST", "/messages", json={"text": ""}).status_code == 400
    assert cust.call("POST", "/messages", json={"text": "x" * 5000}).status_code == 400
    # a retried POST with the same client_id is one message
    cust.say("raz", client_id="c-1")
    cust.say("raz", client_id="c-1")
    chat_id = offered_chat(agent)
    time.sleep(0.3)
    assert [m["text"] for m in cust.messages()] == ["raz"]
    # only the offered agent accepts; only the owner writes
    other = user(admin, "otto", agent={"enabled": True})
    otto = Api(admin.base).login("otto", "password-otto")
    assert otto.post(f"/api/v1/chats/{chat_id}/accept").status_code == 409
    assert otto.get(f"/api/v1/chats/{chat_id}").status_code == 403
    assert agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "hi"}).status_code == 403
    agent.post(f"/api/v1/chats/{chat_id}/accept")
    assert otto.post(f"/api/v1/chats/{chat_id}/messages", {"text": "hi"}).status_code == 403
    assert agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": 5}).status_code == 400
    assert agent.post(f"/api/v1/chats/{chat_id}/messages", {"file_id": "fil_x"}).status_code == 400
    assert agent.get("/api/v1/chats/cht_nope").status_code == 404
    assert agent.get("/api/v1/chats", view="history").status_code == 403
    hist = admin.get("/api/v1/chats", view="history", customer="Ola").json()["items"]
    assert [c["id"] for c in hist] == [chat_id]
    assert admin.get("/api/v1/chats", view="history", source="telegram").json()["items"] == []
    del other


def test_widget_is_served(desk):
    chat_base = desk["chat"].base
    js = requests.get(chat_base + "/webchat/widget.js", timeout=5)
    assert js.status_code == 200 and "EventSource" in js.text
    page = requests.get(f"{chat_base}/webchat/demo/{desk['channel']['id']}", timeout=5)
    assert page.status_code == 200 and "widget.js" in page.text


def test_quick_replies_of_the_chat_queue(desk):
    admin, agent = desk["admin"], desk["agent"]
    other = make(admin, "/api/v1/queues", {"name": "Other", "channel": "chat",
                                           "skill_id": skill(admin, "Other")["id"]})
    make(admin, "/api/v1/quick-replies", {"name": "Hello", "text": "Dzień dobry, w czym mogę pomóc? 🙂",
                                          "queue_ids": [desk["queue"]["id"]]})
    make(admin, "/api/v1/quick-replies", {"name": "Bye", "text": "Miłego dnia!", "queue_ids": []})
    make(admin, "/api/v1/quick-replies", {"name": "Elsewhere", "text": "x",
                                          "queue_ids": [other["id"]]})
    cust = Customer(desk["chat"].base, desk["channel"]["id"])
    cust.say("Hej")
    chat_id = offered_chat(agent)
    agent.post(f"/api/v1/chats/{chat_id}/accept")
    qr = agent.get(f"/api/v1/chats/{chat_id}/quick-replies").json()["items"]
    assert sorted(q["name"] for q in qr) == ["Bye", "Hello"]
    hello = next(q for q in qr if q["name"] == "Hello")
    edited = hello["text"].replace("pomóc", "dziś pomóc")  # picked by name, edited, sent
    assert agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": edited}).status_code == 200
    assert wait_until(lambda: [m["text"] for m in cust.messages()
                               if m["direction"] == "out"]) == [edited]
    outsider = user(admin, "olaf", agent={"enabled": True})
    olaf = Api(admin.base).login("olaf", "password-olaf")
    assert olaf.get(f"/api/v1/chats/{chat_id}/quick-replies").status_code == 403
    del outsider


def test_messages_are_stored_while_skill_router_is_down(desk, cluster):
    router = cluster.services["skill-router"]
    router.kill9()
    cust = Customer(desk["chat"].base, desk["channel"]["id"])
    for text in ("one", "two", "three"):
        cust.say(text)
    # stored and in order although no router takes the chat
    assert wait_until(lambda: [m["text"] for m in cust.messages()] == ["one", "two", "three"])
    router.start().wait_ready()
    chat_id = offered_chat(desk["agent"])  # handed over once skill-router is back
    assert desk["agent"].post(f"/api/v1/chats/{chat_id}/accept").status_code == 200


def test_supervisors_see_the_chats_of_their_queues(desk):
    admin, chat_base = desk["admin"], desk["chat"].base
    sue = user(admin, "sue", role="supervisor")
    s = skill(admin, "Theirs")
    q = make(admin, "/api/v1/queues", {"name": "Theirs", "channel": "chat", "skill_id": s["id"],
                                       "supervisor_ids": [sue["id"]]})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Shop", "queue_id": q["id"],
                                         "credentials": {}})
    Customer(chat_base, desk["channel"]["id"]).say("to the Web queue")
    Customer(chat_base, ch["id"]).say("to Sue's queue")
    sup = Api(admin.base).login("sue", "password-sue")
    theirs = wait_until(lambda: sup.get("/api/v1/chats", view="active").json()["items"])
    assert [c["queue_id"] for c in theirs] == [q["id"]]
    assert [c["queue_id"] for c in sup.get("/api/v1/chats", view="history").json()["items"]] \
        == [q["id"]]
    everyone = wait_until(lambda: (lambda xs: xs if len(xs) == 2 else None)(
        admin.get("/api/v1/chats", view="active").json()["items"]))
    other = next(c for c in everyone if c["queue_id"] != q["id"])
    assert sup.get(f"/api/v1/chats/{other['id']}").status_code == 403
    assert sup.get(f"/api/v1/chats/{theirs[0]['id']}").status_code == 200
    assert sup.get(f"/api/v1/chats/{theirs[0]['id']}/messages").json()["items"][0]["text"] \
        == "to Sue's queue"
