"""The web-chat widget in headless Chromium while chat-gateway is down: a
message sent meanwhile shows "Sending…" (never "Sent" before the server's
2xx), is retried with its client_id, and arrives exactly once when
chat-gateway is back 3 s later (issue 19)."""
import json
import time

import pytest
import requests

from browser import Browser
from test_chat_webchat import desk  # noqa: F401 - the fixture
from test_routing import wait_until


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def state_of(page, text):
    return page.eval(f"""(() => {{
      const li = [...document.querySelectorAll(".cc-log li")].find((e) => e.dataset.text === {json.dumps(text)});
      return li ? li.dataset.state + "|" + li.querySelector(".cc-state").textContent : null;
    }})()""")


def test_message_sent_while_chat_gateway_is_down_arrives_once(desk, browser):  # noqa: F811
    chat = desk["chat"]
    page = browser.page()
    page.goto(f"{chat.base}/webchat/demo/{desk['channel']['id']}")
    page.click("Chat with us")
    page.wait("!!localStorage.getItem('cc-webchat-" + desk["channel"]["id"] + "')")
    page.fill("Message", "Pierwsza")
    page.press("Enter")
    wait_until(lambda: state_of(page, "Pierwsza") == "sent|Sent", timeout=10)
    chat.stop()
    page.fill("Message", "Druga 😀")
    page.press("Enter")
    seen = set()
    deadline = time.time() + 3
    while time.time() < deadline:
        seen.add(state_of(page, "Druga 😀"))
        time.sleep(0.2)
    assert seen == {"pending|Sending…"}, seen
    chat.start().wait_ready()
    wait_until(lambda: state_of(page, "Druga 😀") == "sent|Sent", timeout=15)
    s = json.loads(page.eval("localStorage.getItem('cc-webchat-" + desk["channel"]["id"] + "')"))
    items = requests.get(f"{chat.base}/webchat/v1/sessions/{s['session_id']}/messages",
                         headers={"X-Webchat-Token": s["token"]}, timeout=10).json()["items"]
    assert [m["text"] for m in items] == ["Pierwsza", "Druga 😀"]
    # the refused requests of the outage are logged by the browser; no script error
    assert not [e for e in page.errors if "Failed to load resource" not in e], page.errors
    page.close()
