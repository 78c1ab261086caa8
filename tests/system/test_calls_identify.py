"""A queue call's caller identified in the CRM before it is offered (docs/calls.md
"Create"): call-router asks cc.crm.identify; one match names the caller on the record
(customer_name, account_name, links) and on the offer. When NATS says nobody answers
cc.crm.identify (no crm-sync), calls are not held up asking it again for a short
while, and a crm-sync that starts later identifies the calls that come after. The
responder stands in for crm-sync on the real NATS server (crm-sync's own tests check
what it answers)."""
import time

from test_calls_pbx import phone_agent, record, w  # noqa: F401 (the fixture)
from test_chat_identify import IVAN, OLENA, FakeCrm
from test_routing import ix, wait_until

CRM_ABSENT_S = 2.0  # flow.c CRM_ABSENT_MS


def test_a_single_contact_names_the_caller_on_the_record_and_the_offer(w):
    crm = FakeCrm(w["cluster"].nats.port)
    try:
        crm.answer = lambda q: [OLENA] if q.get("phone") == "+380501234567" else [OLENA, IVAN]
        a, api = phone_agent(w, "ida")
        pbx = w["pbx"]
        call = pbx.create("id-1", w["queue"], frm="+380501234567", from_name="Olena K").json()
        offer = pbx.offer("id-1")
        assert offer["agent_id"] == a
        assert [q.get("phone") for q in crm.queries] == ["+380501234567"]
        rec = record(w, call["interaction_id"])
        assert rec["customer_name"] == "Olena Kovalenko"
        assert rec["account_name"] == "Kovalenko Logistics"
        assert rec["links"]["contact_id"] == OLENA["id"]
        assert rec["links"]["account_id"] == OLENA["account_id"]
        assert rec["caller_name"] == "Olena K"
        offers = api.get("/api/v1/me/offers").json()["items"]
        assert [o["customer"]["name"] for o in offers] == ["Olena Kovalenko"]
        # the record's "ringing" is written after the answer, then the events act on it
        wait_until(lambda: record(w, call["interaction_id"])["state"] == "ringing")
        assert pbx.event("id-1", "answered", offer["offer_id"]).json()["state"] == "connected"
        rec = record(w, call["interaction_id"])
        assert rec["attempts"] == 1 and rec["agent_id"] == a and rec["offered_at"]
        # a retry of the create asks nothing more and changes nothing
        assert pbx.create("id-1", w["queue"], frm="+380501234567").status_code == 200
        assert len(crm.queries) == 1
        # two contacts: nobody is named, the PBX's name stays the caller's
        call2 = pbx.create("id-2", w["queue"], frm="+380509999999", from_name="Somebody").json()
        rec2 = record(w, call2["interaction_id"])
        assert rec2.get("customer_name") is None and rec2["caller_name"] == "Somebody"
        assert ix(w, call2["interaction_id"])["state"] == "waiting"  # the agent is busy
    finally:
        crm.close()


def test_no_crm_sync_costs_nothing_and_one_that_starts_is_asked(w):
    pbx = w["pbx"]
    t0 = time.monotonic()
    for i in range(5):
        assert pbx.create(f"nocrm-{i}", w["queue"], frm="+380501234567").status_code == 201
    assert time.monotonic() - t0 < 5  # no CC_CRM_IDENTIFY_MS wait (250 ms) per call
    first = pbx.create("nocrm-x", w["queue"], frm="+380501234567").json()
    assert record(w, first["interaction_id"]).get("customer_name") is None
    crm = FakeCrm(w["cluster"].nats.port)
    try:
        crm.answer = lambda q: [OLENA]
        time.sleep(CRM_ABSENT_S + 0.5)  # "nobody answers" is remembered that long at most
        later = pbx.create("crm-later", w["queue"], frm="+380501234567").json()
        assert [q.get("phone") for q in crm.queries] == ["+380501234567"]
        assert record(w, later["interaction_id"])["customer_name"] == "Olena Kovalenko"
    finally:
        crm.close()
