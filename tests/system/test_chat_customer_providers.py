"""The customer's side of messenger chats (issue 17) against local stand-ins
of the providers' APIs: Telegram's profile name and language on the chat,
the agent's typing shown through sendChatAction, the closing message in the
customer's language when the agent ends the chat, a refused message shown
failed with the provider's reason on the desk (Chromium) and sent again with
its Retry button; Messenger's name from the Graph API when the page may read
profiles, and none (no crash, no raw id) when it may not."""
import json
import secrets
import time

import pytest

from browser import Browser
from providers import fixture
from test_calls_api import center  # noqa: F401 - the fixture
from test_chat_providers import accept_one, delivery, hook, messages, shop  # noqa: F401 - the fixture
from test_desktop import SLOW, no_errors, sign_in, status_is
from test_routing import wait_until

PSID = "2143458689072539"  # the sender of messenger/text.json


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def test_telegram_name_language_typing_retry_and_closing(shop, browser):  # noqa: F811
    standin, agent, admin = shop["standin"], shop["agent"], shop["admin"]
    shop["cluster"].start("call-router", env={"CC_PBX_TOKEN": secrets.token_hex(16)})  # the desk lists calls
    page = browser.page()
    try:
        sign_in(page, admin.base, "pia", "password-pia")
        page.wait(status_is("callcenter", "waiting"), SLOW)
        assert hook(shop, "telegram", fixture("telegram", "text")).status_code == 200
        page.wait("[...document.querySelectorAll('.invite')].some(e => e.innerText.includes('Zażółć Gęślą'))", SLOW)
        page.click("Accept")
        page.wait("[...document.querySelectorAll('.msg.customer')].some(e => e.textContent.includes('jaźń'))", SLOW)
        chat_id = page.eval("document.querySelector('#chat-list .chat-item').dataset.chat")
        c = admin.get(f"/api/v1/chats/{chat_id}").json()
        assert c["name"] == "Zażółć Gęślą" and c["language"] == "pl" and c["agent_name"] == "pia"

        # the agent types: Telegram shows "typing…" (at most every 3 s)
        page.focus("Message")
        page.type("Sprawdzam")
        (action,) = wait_until(lambda: standin.sent("/sendChatAction") or None, SLOW)
        assert action["path"] == "/bot123456:ABC-token/sendChatAction"
        assert json.loads(action["body"]) == {"chat_id": "1111111", "action": "typing"}
        time.sleep(0.3)  # its answer given before the next one is scripted
        # Telegram refuses the message: failed with its reason on the desk, then Retry
        standin.script = [(403, fixture("telegram", "send_blocked"))]
        page.press("Enter")
        page.wait("[...document.querySelectorAll('.msg.agent .delivery.failed')]"
                  ".some(e => e.textContent.includes('blocked'))", SLOW)
        (m,) = [x for x in messages(shop, chat_id) if x["text"] == "Sprawdzam"]
        assert m["delivery"] == "failed" and "blocked" in m["delivery_error"]
        page.click("Retry")
        page.wait("[...document.querySelectorAll('.msg.agent .delivery')].some(e => e.textContent === 'Sent')", SLOW)
        delivery(shop, chat_id, m["id"], "sent")
        assert len([r for r in standin.sent("/sendMessage") if b"Sprawdzam" in r["body"]]) == 2
        # only a failed message goes again
        assert agent.post(f"/api/v1/chats/{chat_id}/messages/{m['id']}/retry", {}).status_code == 409
        assert agent.post(f"/api/v1/chats/{chat_id}/messages/msg_nope/retry", {}).status_code == 404

        # End chat: the built-in closing message in Polish, once
        page.click("End chat")
        page.wait("document.getElementById('confirm').open")
        page.click("Yes")
        closing = "Konsultant zakończył czat. Dziękujemy za kontakt!"
        wait_until(lambda: [r for r in standin.sent("/sendMessage") if closing.encode() in r["body"]] or None, SLOW)
        page.wait(f"[...document.querySelectorAll('.msg.bot')].some(e => e.textContent.includes({json.dumps(closing)}))",
                  SLOW)
        last = messages(shop, chat_id)[-1]
        assert last["author"] == "bot" and last["text"] == closing
        delivery(shop, chat_id, last["id"], "sent")
        assert agent.post(f"/api/v1/chats/{chat_id}/end").status_code == 200  # again: nothing more
        time.sleep(1)
        assert len([r for r in standin.sent("/sendMessage") if closing.encode() in r["body"]]) == 1
        assert agent.post(f"/api/v1/chats/{chat_id}/typing", {}).status_code == 409
        no_errors(page)
    finally:
        page.close()


def test_messenger_name_from_the_graph_api(shop):  # noqa: F811
    standin, admin = shop["standin"], shop["admin"]
    standin.files[f"/v21.0/{PSID}"] = json.dumps({"first_name": "Zofia", "last_name": "Wiśniewska",
                                                  "id": PSID}).encode()
    assert hook(shop, "messenger", fixture("messenger", "text")).status_code == 200
    chat_id = accept_one(shop)
    assert admin.get(f"/api/v1/chats/{chat_id}").json()["name"] == "Zofia Wiśniewska"
    (asked,) = [r for r in standin.requests if r["method"] == "GET" and r["path"].startswith(f"/v21.0/{PSID}")]
    assert asked["path"] == f"/v21.0/{PSID}?fields=first_name,last_name"
    assert asked["headers"]["Authorization"] == "Bearer fb-token"


def test_messenger_without_profile_access_keeps_no_name(shop):  # noqa: F811
    admin = shop["admin"]
    # the stand-in answers 404 for the profile, as Meta refuses a page without the access
    assert hook(shop, "messenger", fixture("messenger", "text")).status_code == 200
    chat_id = accept_one(shop)
    c = admin.get(f"/api/v1/chats/{chat_id}").json()
    assert not c["name"] and c["from"] == PSID


def test_a_call_carries_the_callers_name_from_the_pbx(center):  # noqa: F811
    """The PBX's caller name (SIP From display name) on the call and its
    offer; refused when it is not text; absent or blank: no name."""
    pbx, ann = center["pbx"], center["api_ann"]
    r = pbx.post("/calls", {"call_id": "named-1@pbx", "queue_id": center["hot"]["id"], "from": "+48600100200",
                            "from_name": "Jan Kowalski-Łęcki"})
    assert r.status_code == 201, r.text
    call_id = r.json()["interaction_id"]
    offer = wait_until(lambda: next((o for o in ann.get("/api/v1/me/offers").json()["items"]
                                     if o["interaction_id"] == call_id), None), SLOW)
    assert offer["customer"]["name"] == "Jan Kowalski-Łęcki"
    assert center["admin"].get(f"/api/v1/calls/{call_id}").json()["caller_name"] == "Jan Kowalski-Łęcki"
    for bad in (5, "x" * 256, "Jan\nKowalski"):
        r = pbx.post("/calls", {"call_id": "named-2@pbx", "queue_id": center["hot"]["id"], "from": "+48600",
                                "from_name": bad})
        assert r.status_code == 400, (bad, r.text)
    r = pbx.post("/calls", {"call_id": "named-3@pbx", "queue_id": center["hot"]["id"], "from": "+48601",
                            "from_name": "   "})
    assert r.status_code == 201
    assert center["admin"].get(f"/api/v1/calls/{r.json()['interaction_id']}").json()["caller_name"] is None
