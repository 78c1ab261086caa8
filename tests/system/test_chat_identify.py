"""A new chat's customer identified in the CRM before it is offered (SPEC section 7a):
chat-gateway asks cc.crm.identify; one match puts the contact on the chat (name, links)
and in the offer, many leave the chat for the agent to identify, a slow or absent
crm-sync costs at most CC_CRM_IDENTIFY_MS. The responder here stands in for crm-sync
on the real NATS server (crm-sync's own tests check what it answers)."""
import threading
import time

import pytest

from harness import Api, start_stack
from natslite import CONTACT_LIST, CONTACT_QUERY, Nats, pb_decode, pb_encode
from test_chat_webchat import Customer
from test_registry_objects import make, skill, team, user
from test_routing import wait_until

OLENA = {"id": "c4ed336c-3e9b-40fe-8b82-5632476472b4", "name": "Olena Kovalenko",
         "account_id": "405947d0-2ffb-4ded-8675-0475f19f5a81",
         "account_name": "Kovalenko Logistics"}
IVAN = {"id": "5b0f7a9e-6c1d-4e3a-8f21-9d4c3b2a1e02", "name": "Ivan Petrenko"}


class FakeCrm:
    """Answers cc.crm.identify with the contacts `answer(query)` returns, after `delay` s."""

    def __init__(self, port):
        self.nats = Nats(port)
        self.queries, self.answer, self.delay = [], lambda q: [], 0.0
        self.nats.subscribe("cc.crm.identify", self.on_query, queue_group="crm-sync")
        self.nats.flush()

    def on_query(self, subject, reply, headers, data):
        q = pb_decode(data, CONTACT_QUERY)
        self.queries.append(q)
        body = pb_encode({"items": self.answer(q)}, CONTACT_LIST)
        if self.delay:
            threading.Timer(self.delay, lambda: self.nats.publish(reply, body)).start()
        else:
            self.nats.publish(reply, body)

    def close(self):
        self.nats.close()


@pytest.fixture
def desk(cluster):
    admin = start_stack(cluster)
    cluster.start("skill-router")
    crm = FakeCrm(cluster.nats.port)
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self",
                                              "CC_CRM_IDENTIFY_MS": "300"})
    t = team(admin, "Chat team", chat_invite_timeout_s=30, wrap_up_time_s=0)
    s = skill(admin, "Web")
    q = make(admin, "/api/v1/queues", {"name": "Web", "channel": "chat", "skill_id": s["id"]})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Site", "queue_id": q["id"],
                                         "credentials": {}})
    u = user(admin, "wanda", agent={"enabled": True, "team_id": t["id"]})
    admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 50})
    agent = Api(admin.base).login("wanda", "password-wanda")
    agent.put("/api/v1/me/status", {"status": "callcenter"})
    yield {"agent": agent, "chat": chat, "channel": ch, "crm": crm}
    crm.close()


def offer(agent):
    return wait_until(lambda: next(iter(agent.get("/api/v1/me/offers").json()["items"]), None),
                      timeout=10)


def test_one_match_names_the_chat_and_the_offer(desk):
    agent, crm = desk["agent"], desk["crm"]
    crm.answer = lambda q: [OLENA]
    cust = Customer(desk["chat"].base, desk["channel"]["id"], name="olena_k")
    cust.say("Hi, about my order")
    o = offer(agent)
    assert o["customer"]["name"] == "Olena Kovalenko"
    q = crm.queries[-1]
    assert q["channel"] == "webchat" and q["customer_id"] == cust.id
    assert q["caller"]["user_id"] == "chat-gateway"
    c = agent.get(f"/api/v1/chats/{o['chat_id']}").json()
    assert c["name"] == "Olena Kovalenko"
    assert c["links"]["contact_id"] == OLENA["id"]
    assert c["links"]["account_id"] == OLENA["account_id"]
    # asked once per chat, not per message
    cust.say("one more")
    time.sleep(0.3)
    assert len(crm.queries) == 1


def test_many_matches_leave_the_chat_to_the_agent(desk):
    agent, crm = desk["agent"], desk["crm"]
    crm.answer = lambda q: [OLENA, IVAN]
    Customer(desk["chat"].base, desk["channel"]["id"], name="ambiguous").say("Hello")
    o = offer(agent)
    assert o["customer"]["name"] == "ambiguous"
    c = agent.get(f"/api/v1/chats/{o['chat_id']}").json()
    assert c["name"] == "ambiguous" and not any((c.get("links") or {}).values())
    assert len(crm.queries) == 1


def test_a_slow_crm_does_not_hold_the_chat(desk):
    agent, crm = desk["agent"], desk["crm"]
    crm.answer, crm.delay = (lambda q: [OLENA]), 2.0
    t0 = time.time()
    Customer(desk["chat"].base, desk["channel"]["id"], name="patient").say("Hello")
    o = offer(agent)
    assert time.time() - t0 < 1.8  # offered before the CRM's late answer
    assert o["customer"]["name"] == "patient"
    time.sleep(2.2)  # the late answer changes nothing
    assert agent.get(f"/api/v1/chats/{o['chat_id']}").json()["name"] == "patient"


def test_no_crm_sync_at_all(desk):
    agent, crm = desk["agent"], desk["crm"]
    crm.close()
    t0 = time.time()
    Customer(desk["chat"].base, desk["channel"]["id"], name="nobody").say("Hello")
    o = offer(agent)
    assert time.time() - t0 < 2 and o["customer"]["name"] == "nobody"
