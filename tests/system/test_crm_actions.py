"""The desk's CRM actions through api-gateway against the stand-in Creatio (docs/crm.md
"Desk actions"): user identification (search, link, create a contact from a chat or a
call), a case created from a chat or a call (subject, the conversation as symptoms, the
contact, status New), a consultation on an existing case (linked, plus an Activity with
its CaseId); who may act (the agent on it, a supervisor of its queue, an admin); the CRM
settings with secrets never answered; the sync status and its retry; SPEC 8's refusal of
internal addresses."""
import ipaddress
import socket

import pytest

import creatio_standin as cs
from crm_helpers import chat as chat_record, crm_env, publish, request, rows, wait_for
from harness import Api, start_stack
from test_calls_api import phone_queue, start_calls
from test_chat_webchat import Customer, offered_chat
from test_registry_objects import err, make, skill, team, user

SLOW = 20
CASE_NEW = "ae5f2f10-f46b-1410-fd9a-0050ba5d6c38"
SEEDED_CASE = "0ca5e000-0000-4000-8000-000000000077"


@pytest.fixture
def standin():
    st = cs.Standin(page_size=50).start()
    st.seed({"Case": [{"Id": SEEDED_CASE, "Number": "SR00000077", "Subject": "Router keeps rebooting",
                       "ContactId": cs.CONTACT_2, "StatusId": CASE_NEW}]})
    yield st
    st.stop()


@pytest.fixture
def center(cluster, standin):
    """A chat queue Web (webchat channel) and a call queue Hotline, both supervised by
    sue, held by agent ann; bob another agent; sid the supervisor of another queue."""
    admin = start_stack(cluster)
    pbx = start_calls(cluster)
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    cluster.start("crm-sync", env=crm_env(standin))
    sue = user(admin, "sue", role="supervisor")
    sid = user(admin, "sid", role="supervisor")
    t = team(admin, "Care", chat_invite_timeout_s=60, call_offer_timeout_s=30, wrap_up_time_s=0)
    s = skill(admin, "Web")
    q = make(admin, "/api/v1/queues", {"name": "Web", "channel": "chat", "skill_id": s["id"],
                                       "supervisor_ids": [sue["id"]]})
    make(admin, "/api/v1/queues", {"name": "Other", "channel": "chat", "skill_id": s["id"],
                                   "supervisor_ids": [sid["id"]]})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Site", "queue_id": q["id"],
                                         "credentials": {}})
    ann = user(admin, "ann", agent={"enabled": True, "team_id": t["id"]}, sip_account="sip:ann@pbx.test")
    user(admin, "bob", agent={"enabled": True, "team_id": t["id"]})
    assert admin.put(f"/api/v1/agents/{ann['id']}/skills/{s['id']}", {"capacity": 50}).status_code == 200
    hot = phone_queue(admin, "Hotline", t["id"], [ann["id"]], supervisor_ids=[sue["id"]])
    apis = {n: Api(admin.base).login(n, "password-" + n) for n in ("ann", "bob", "sue", "sid")}
    assert apis["ann"].put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
    return {"admin": admin, "pbx": pbx, "chat": chat, "channel": ch, "hot": hot, **apis}


def accepted_chat(center, name="Olena Kovalenko"):
    """A web chat from `name`, accepted and answered by ann: its id."""
    ann = center["ann"]
    cust = Customer(center["chat"].base, center["channel"]["id"], name=name)
    cust.say("My router is broken since Monday")
    chat_id = offered_chat(ann)
    assert ann.post(f"/api/v1/chats/{chat_id}/accept").status_code == 200
    assert ann.post(f"/api/v1/chats/{chat_id}/messages", {"text": "Let me check your line"}).status_code == 200
    return chat_id


def links(api, kind, iid):
    return api.get(f"/api/v1/{kind}/{iid}").json()["links"]


def test_chat_identified_then_a_case_created_with_the_conversation(center, standin):
    ann = center["ann"]
    chat_id = accepted_chat(center)
    found = ann.get("/api/v1/crm/contacts", q="kovalenko").json()["items"]
    assert [c["id"] for c in found] == [cs.CONTACT_1] and found[0]["url"]
    r = ann.post(f"/api/v1/chats/{chat_id}/contact", {"contact_id": cs.CONTACT_1})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Olena Kovalenko" and r.json()["account_id"] == cs.ACCOUNT_1
    assert links(ann, "chats", chat_id)["contact_id"] == cs.CONTACT_1
    assert links(ann, "chats", chat_id)["account_id"] == cs.ACCOUNT_1

    r = ann.post(f"/api/v1/chats/{chat_id}/case", {"subject": "Router broken"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["number"].startswith("SR") and case["url"].endswith("CasePageV2/edit/" + case["case_id"])
    row = rows(standin, "Case", "Id", case["case_id"])[0]
    assert row["Subject"] == "Router broken" and row["StatusId"] == CASE_NEW
    assert row["ContactId"] == cs.CONTACT_1 and row["AccountId"] == cs.ACCOUNT_1
    assert "Customer: My router is broken since Monday" in row["Symptoms"]
    assert "Agent: Let me check your line" in row["Symptoms"]
    assert links(ann, "chats", chat_id)["case_id"] == case["case_id"]
    got = ann.get("/api/v1/crm/links", case_id=case["case_id"], contact_id=cs.CONTACT_1).json()
    assert got["case_url"] == case["url"] and got["contact_url"].endswith(cs.CONTACT_1)


def test_consultation_links_the_case_and_adds_an_activity(center, standin):
    ann, sue = center["ann"], center["sue"]
    chat_id = accepted_chat(center, name="Pavlo Petrenko")
    err(ann.post(f"/api/v1/chats/{chat_id}/case", {"case_id": "SR-1"}), 400, "bad_request")
    err(ann.post(f"/api/v1/chats/{chat_id}/case", {"case_id": cs.ACCOUNT_2}), 400, "bad_request")
    r = sue.post(f"/api/v1/chats/{chat_id}/case", {"case_id": SEEDED_CASE})  # the queue's supervisor
    assert r.status_code == 200, r.text
    assert r.json()["case_id"] == SEEDED_CASE and r.json()["number"] == "SR00000077"
    act = rows(standin, "Activity", "Id", r.json()["activity_id"])[0]
    assert act["CaseId"] == SEEDED_CASE and act["ContactId"] == cs.CONTACT_2
    assert act["TypeId"] and act["StatusId"] and "SR00000077" in act["Title"] and chat_id in act["Title"]
    assert links(ann, "chats", chat_id)["case_id"] == SEEDED_CASE
    assert links(ann, "chats", chat_id)["activity_id"] == act["Id"]


def test_only_the_agent_on_it_its_supervisor_or_an_admin_may_act(center, standin):
    chat_id = accepted_chat(center)
    for who in ("bob", "sid"):
        err(center[who].post(f"/api/v1/chats/{chat_id}/case", {"subject": "x"}), 404, "not_found")
        err(center[who].post(f"/api/v1/chats/{chat_id}/contact", {"contact_id": cs.CONTACT_1}),
            404, "not_found")
    err(center["ann"].post("/api/v1/chats/cht_nope/case", {"subject": "x"}), 404, "not_found")
    assert rows(standin, "Case", "Subject", "x") == []
    # the shape is checked before anyone is asked
    ann = center["ann"]
    err(ann.post(f"/api/v1/chats/{chat_id}/case", {}), 400, "bad_request")
    err(ann.post(f"/api/v1/chats/{chat_id}/case", {"subject": "a", "case_id": SEEDED_CASE}), 400, "bad_request")
    err(ann.post(f"/api/v1/chats/{chat_id}/contact", {"contact_id": 7}), 400, "bad_request")
    err(ann.post(f"/api/v1/chats/{chat_id}/contact", {"contact_id": "not-a-guid"}), 400, "bad_request")
    err(ann.get("/api/v1/crm/contacts", q="x"), 400, "bad_request")
    assert center["admin"].post(f"/api/v1/chats/{chat_id}/case", {"subject": "By admin"}).status_code == 201


def test_contact_created_from_a_chat_is_linked_and_identifies_the_customer_next_time(
        center, standin, cluster):
    ann = center["ann"]
    chat_id = accepted_chat(center, name="Iryna Bondar")
    r = ann.post(f"/api/v1/chats/{chat_id}/contact", {"create": True, "email": "iryna@example.com"})
    assert r.status_code == 201, r.text
    new = r.json()
    row = rows(standin, "Contact", "Id", new["id"])[0]
    assert row["Name"] == "Iryna Bondar" and row["Email"] == "iryna@example.com"
    assert links(ann, "chats", chat_id)["contact_id"] == new["id"]
    customer = ann.get(f"/api/v1/chats/{chat_id}").json()["from"]
    assert rows(standin, "ContactCommunication", "Number", customer)[0]["ContactId"] == new["id"]
    again = request(cluster, "cc.crm.identify", "ContactQuery", "ContactList",
                    {"channel": "webchat", "customer_id": customer})
    assert [c["id"] for c in again["items"]] == [new["id"]]


def test_a_call_gets_a_contact_and_a_case_from_its_details(center, standin):
    pbx, ann = center["pbx"], center["ann"]
    call_id = pbx.call("crm-1@pbx", center["hot"]["id"], "+48600111222")
    pbx.answered("crm-1@pbx")
    r = ann.post(f"/api/v1/calls/{call_id}/contact", {"create": True, "name": "Marek Nowak"})
    assert r.status_code == 201, r.text
    assert rows(standin, "Contact", "Id", r.json()["id"])[0]["MobilePhone"] == "+48600111222"
    r = ann.post(f"/api/v1/calls/{call_id}/case", {"subject": "Invoice question"})
    assert r.status_code == 201, r.text
    row = rows(standin, "Case", "Id", r.json()["case_id"])[0]
    assert "From: +48600111222" in row["Symptoms"] and "Queue: Hotline" in row["Symptoms"]
    assert row["ContactId"] == links(ann, "calls", call_id)["contact_id"]
    assert links(ann, "calls", call_id)["case_id"] == r.json()["case_id"]
    err(center["bob"].post(f"/api/v1/calls/{call_id}/case", {"subject": "x"}), 404, "not_found")


def test_settings_round_trip_never_answers_a_secret(center):
    admin = center["admin"]
    s = admin.get("/api/v1/crm/settings")
    assert s.status_code == 200, s.text
    assert s.json()["type"] == "creatio" and s.json()["has_password"] is True
    assert "password" not in s.json() and "Supervisor" != s.json().get("password")
    r = admin.put("/api/v1/crm/settings", {
        "client_secret": "very-secret-1", "ui_url": "https://crm.example.com/{object}/{id}",
        "names": [{"key": "case.category_default", "value": "1b0bc159-150a-e111-a31b-00155d04c01d"}]})
    assert r.status_code == 200, r.text
    assert "very-secret-1" not in r.text and r.json()["has_client_secret"] is True
    assert r.json()["ui_url"] == "https://crm.example.com/{object}/{id}"
    assert {"key": "case.category_default", "value": "1b0bc159-150a-e111-a31b-00155d04c01d"} in r.json()["names"]
    assert "very-secret-1" not in admin.get("/api/v1/crm/settings").text
    err(admin.put("/api/v1/crm/settings", {"type": "sap"}), 400, "bad_request")
    err(admin.put("/api/v1/crm/settings", {"has_password": False}), 400, "bad_request")
    err(admin.put("/api/v1/crm/settings", {"names": [{"key": "nope", "value": "X"}]}), 400, "bad_request")
    err(center["ann"].get("/api/v1/crm/settings"), 403, "forbidden")
    err(center["ann"].put("/api/v1/crm/settings", {"type": "none"}), 403, "forbidden")


def test_status_shows_a_refused_record_and_retry_writes_it(cluster, standin):
    admin = start_stack(cluster)
    # a field name this CRM does not have: every chat record is refused (400)
    cluster.start("crm-sync", env=crm_env(standin, CC_CRM_NAMES="chat.queue=UsrQueueNumber"))
    publish(cluster, [chat_record("cht_fail1", 1)])
    st = wait_for(lambda: [f for f in admin.get("/api/v1/crm/status").json()["failures"]
                           if f["id"] == "cht_fail1"], SLOW)
    assert st[0]["kind"] == "chat" and st[0]["reason"]
    status = admin.get("/api/v1/crm/status").json()
    assert status["type"] == "creatio" and status["last_error"] and "backlog" in status
    fixed = admin.put("/api/v1/crm/settings", {"names": [{"key": "chat.queue", "value": "UsrQueue"}]})
    assert fixed.status_code == 200, fixed.text
    r = admin.post("/api/v1/crm/status/retry")
    assert r.status_code == 200, r.text
    assert wait_for(lambda: rows(standin, "UsrChat", "UsrExternalId", "cht_fail1"), SLOW)
    assert wait_for(lambda: admin.get("/api/v1/crm/status").json()["failures"] == [], SLOW)
    assert len(rows(standin, "UsrChat", "UsrExternalId", "cht_fail1")) == 1
    agent = user(admin, "ann")
    ann = Api(admin.base).login(agent["login"], "password-ann")
    err(ann.get("/api/v1/crm/status"), 403, "forbidden")
    err(ann.post("/api/v1/crm/status/retry"), 403, "forbidden")


def internal_name():
    """A host name (not an address, not localhost) whose every address is internal:
    this machine's name on most hosts, Debian's ip6-localhost in a bare chroot."""
    for name in (socket.gethostname(), "ip6-localhost", "ip6-loopback"):
        try:
            infos = socket.getaddrinfo(name, 9, proto=socket.IPPROTO_TCP)
        except OSError:
            continue
        addrs = {ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos}
        if addrs and all(a.is_private for a in addrs):  # loopback and link-local included
            return name
    return None


def test_internal_addresses_are_refused_without_the_test_setting(cluster):
    """SPEC 8: a CRM URL naming a loopback address is refused when configured, and a name
    that resolves to one is refused when connecting."""
    admin = start_stack(cluster)
    cluster.start("crm-sync", env={"CC_CRM_ALLOW_PRIVATE": "0"})
    msg = err(admin.put("/api/v1/crm/settings", {"type": "webhook", "webhook_url": "http://127.0.0.1:9/x",
                                                 "webhook_secret": "s"}), 400, "bad_request")
    assert "webhook_url" in msg and "loopback" in msg
    msg = err(admin.put("/api/v1/crm/settings", {"type": "creatio", "url": "http://[::1]:9", "user": "u",
                                                 "password": "p"}), 400, "bad_request")
    assert "loopback" in msg
    err(admin.put("/api/v1/crm/settings", {"type": "webhook", "webhook_url": "http://10.1.2.3/x",
                                           "webhook_secret": "s"}), 400, "bad_request")
    assert admin.get("/api/v1/crm/settings").json()["type"] == "none"
    host = internal_name()
    if not host:
        pytest.skip("no host name here resolves to an internal address only")
    r = admin.put("/api/v1/crm/settings", {"type": "webhook", "webhook_url": f"http://{host}:9/x",
                                           "webhook_secret": "s"})
    assert r.status_code == 200, r.text
    got = request(cluster, "cc.crm.identify", "ContactQuery", "ContactList", {"phone": "+380501234567"})
    assert got["error"]["code"] == "unavailable" and "refused" in got["error"]["message"], got
