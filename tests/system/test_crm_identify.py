"""crm-sync contact identification (cc.crm.identify) and staff search
(cc.crm.contacts.search) against the stand-in Creatio: by the channel's customer id,
then by the last digits of the phone (Creatio's reversed SearchNumber); 0, 1 or many."""
import time

import pytest

import creatio_standin as cs
from crm_helpers import crm_env, request


@pytest.fixture
def standin():
    st = cs.Standin(page_size=2).start()
    yield st
    st.stop()


def identify(cluster, **q):
    return request(cluster, "cc.crm.identify", "ContactQuery", "ContactList", q)


def test_one_contact_by_phone_with_account_name_and_link(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    got = identify(cluster, channel="phone", phone="+380501234567")
    assert [c["id"] for c in got["items"]] == [cs.CONTACT_1]
    c = got["items"][0]
    assert c["name"] == "Olena Kovalenko" and c["account_name"] == "Kovalenko Logistics"
    assert c["url"].endswith("ContactPageV2/edit/" + cs.CONTACT_1)
    searches = [r["path"] for r in standin.requests if "SearchNumber" in r["path"]]
    assert searches and "7654321" in searches[0]


def test_shared_number_gives_many_and_unknown_gives_none(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    many = identify(cluster, channel="viber", customer_id="nobody", phone="+380 67 000 1122")
    assert sorted(c["id"] for c in many["items"]) == sorted([cs.CONTACT_2, cs.CONTACT_3])
    assert identify(cluster, channel="phone", phone="+1 555 000 9999")["items"] == []


def test_channel_customer_id_is_tried_before_the_phone(cluster, standin):
    standin.seed({"ContactCommunication": [
        {"Id": "0c000001-0000-4000-8000-0000000000aa", "ContactId": cs.CONTACT_3,
         "CommunicationTypeId": cs.COMM_TYPES["Other"], "Number": "tg-559912"}]})
    cluster.start("crm-sync", env=crm_env(standin))
    got = identify(cluster, channel="telegram", customer_id="tg-559912", phone="+380501234567")
    assert [c["id"] for c in got["items"]] == [cs.CONTACT_3]


def test_no_crm_configured_answers_an_empty_list_at_once(cluster):
    cluster.start("crm-sync")
    t0 = time.time()
    assert identify(cluster, channel="phone", phone="+380501234567") == {"items": []}
    assert time.time() - t0 < 2


def test_staff_search_by_name_email_or_phone(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    caller = {"user_id": "u1", "role": "agent"}
    by_name = request(cluster, "cc.crm.contacts.search", "ContactQuery", "ContactList",
                      {"caller": caller, "q": "petrenko"})
    assert sorted(c["id"] for c in by_name["items"]) == sorted([cs.CONTACT_2, cs.CONTACT_3])
    by_mail = request(cluster, "cc.crm.contacts.search", "ContactQuery", "ContactList",
                      {"caller": caller, "q": "olena@example"})
    assert [c["id"] for c in by_mail["items"]] == [cs.CONTACT_1]
    hostile = request(cluster, "cc.crm.contacts.search", "ContactQuery", "ContactList",
                      {"caller": caller, "q": "x') or (Name ne '"})
    assert hostile["items"] == []


def test_crm_down_is_an_error_not_a_wrong_answer(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    standin.faults.append({"path": "/0/odata", "status": 500, "count": 5, "retryAfter": 0})
    got = identify(cluster, channel="phone", phone="+380501234567")
    assert got["error"]["code"] == "unavailable"
