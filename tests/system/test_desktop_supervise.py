"""Listen, whisper and barge from the supervisor view, in headless Chromium
(browser.py): the PBX is played with plain HTTP requests to call-router's
/pbx/v1 — the call (as in test_desktop_calls.py) and the command channel
(GET /pbx/v1/commands, POST /pbx/v1/commands/{id}/result, as in
test_calls_supervise.py). Sam, a supervisor of the Hotline queue with a
phone, sees Wanda on a call, presses Listen: the PBX receives a `supervise`
command with mode listen, reports it done and the view says "listening";
Barge switches, Stop ends, a whisper the PBX reports failed shows its
reason, and the audit list shows every request. A supervisor without a phone
is refused with the engine's reason. No page may log a console error, throw,
fail to load anything or break the content security policy."""
import time

import pytest
import requests

from browser import Browser
from harness import Api
from test_desktop import make_stack, no_errors, sign_in
from test_routing import wait_until

SLOW = 20  # seconds: the services run under ASan on a shared machine
CALLER = "+48600100200"


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def stack(cluster):
    return make_stack(cluster)


@pytest.fixture
def page(browser):
    p = browser.page()
    yield p
    p.close()


def next_command(pbx, timeout=SLOW):
    """The PBX's long-poll for commands: the one command the engine queued."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = requests.get(f"{pbx.base}/commands", params={"wait_s": 2}, headers=pbx.h, timeout=15)
        assert r.status_code in (200, 204), r.text
        if r.status_code == 200:
            (cmd,) = r.json()["commands"]
            return cmd
    raise AssertionError("no command reached the PBX")


def report(pbx, cmd, status, reason=None):
    body = {"status": status, **({"reason": reason} if reason else {})}
    r = requests.post(f"{pbx.base}/commands/{cmd['command_id']}/result", json=body, headers=pbx.h, timeout=10)
    assert r.status_code == 200 and r.json()["ignored"] is False, r.text


def on_call(stack, page, call_id):
    """Wanda in Callcenter takes a Hotline call while Sam watches: her row."""
    wanda = Api(stack["gw"]).login("wanda", "password-wanda")
    assert wanda.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("document.getElementById('live-state').textContent === 'live'", SLOW)
    row = f"document.querySelector('tr[data-agent=\"{stack['agent_id']}\"]')"
    page.wait(f"!!{row} && {row}.dataset.state === 'waiting'", SLOW)
    assert page.eval(f"{row}.querySelector('.sup-cell').textContent") == "—"  # no call, no buttons
    stack["pbx"].call(call_id, stack["hotline"]["id"], CALLER)
    stack["pbx"].answered(call_id)
    page.wait(f"{row}.dataset.call === 'connected'", SLOW)
    page.wait("!!__cc.button('Listen Wanda Agent')", SLOW)
    return row


def sup_text(page, row):
    return page.eval(f"({row}.querySelector('.sup-state') || {{}}).textContent || ''")


def test_supervisor_listens_barges_stops_and_sees_a_failed_whisper(stack, page):
    pbx, admin = stack["pbx"], stack["admin"]
    r = admin.patch(f"/api/v1/users/{stack['sam_id']}", {"sip_account": "sip:sam@pbx.test"})
    assert r.status_code == 200, r.text
    row = on_call(stack, page, "sup-desk-1@pbx")
    assert not page.eval("!!__cc.button('Stop supervising Wanda Agent')")  # nothing to stop yet
    page.wait("!!document.querySelector('#supervisions-body td[colspan]')", SLOW)  # "No supervisions yet."

    # Listen: the PBX gets the command; until it answers the request is pending
    page.click("Listen Wanda Agent")
    cmd = next_command(pbx)
    assert (cmd["type"], cmd["mode"], cmd["call_id"]) == ("supervise", "listen", "sup-desk-1@pbx")
    assert (cmd["supervisor_sip_uri"], cmd["agent_sip_uri"]) == ("sip:sam@pbx.test", "sip:wanda@pbx.test")
    page.wait(f"{row}.dataset.sup === 'listen:requested'", SLOW)
    assert sup_text(page, row) == "listen requested…"
    assert page.eval("!!__cc.button('Stop supervising Wanda Agent')")  # a pending request can be stopped
    report(pbx, cmd, "done")
    page.wait(f"{row}.dataset.sup === 'listen:active'", SLOW)
    assert sup_text(page, row) == "listening"
    pressed = f"[...{row}.querySelectorAll('.sup-buttons button[aria-pressed=true]')].map(b => b.textContent)"
    assert page.eval(pressed) == ["Listen"]
    # redrawing the row keeps the keyboard where it was
    assert page.eval("document.activeElement.getAttribute('aria-label')") == "Listen Wanda Agent"

    # Barge switches: a new command, then "barging in"
    page.click("Barge Wanda Agent")
    cmd = next_command(pbx)
    assert (cmd["mode"], cmd["call_id"]) == ("barge", "sup-desk-1@pbx")
    report(pbx, cmd, "done")
    page.wait(f"{row}.dataset.sup === 'barge:active'", SLOW)
    assert sup_text(page, row) == "barging in" and page.eval(pressed) == ["Barge"]

    # Stop ends it: the Stop button goes, nothing is pressed
    page.click("Stop supervising Wanda Agent")
    cmd = next_command(pbx)
    assert cmd["mode"] == "stop"
    report(pbx, cmd, "done")
    page.wait(f"{row}.dataset.sup === 'stop:ended'", SLOW)
    assert sup_text(page, row) == "stopped" and page.eval(pressed) == []
    assert not page.eval("!!__cc.button('Stop supervising Wanda Agent')")

    # a whisper the PBX cannot do: its reason is shown beside the agent
    page.click("Whisper Wanda Agent")
    cmd = next_command(pbx)
    assert cmd["mode"] == "whisper"
    report(pbx, cmd, "failed", "whisper needs a media server")
    page.wait(f"{row}.dataset.sup === 'whisper:failed'", SLOW)
    assert sup_text(page, row) == "whisper failed: whisper needs a media server"
    assert page.eval(f"{row}.querySelector('.sup-state').classList.contains('sup-failed')")

    # the audit list: every request, newest first, the failure's reason
    audit = ("[...document.querySelectorAll('#supervisions-body tr[data-sup]')]"
             ".map(r => [r.dataset.mode, r.dataset.state, r.cells[1].textContent, r.cells[2].textContent,"
             " r.cells[5].textContent])")
    page.wait(f"{audit}.length === 4", SLOW)
    assert page.eval(audit) == [["whisper", "failed", "you", "Wanda Agent", "whisper needs a media server"],
                                ["stop", "ended", "you", "Wanda Agent", "—"],
                                ["barge", "active", "you", "Wanda Agent", "—"],
                                ["listen", "active", "you", "Wanda Agent", "—"]]
    records = admin.get("/api/v1/supervisions").json()["items"]
    assert [(s["mode"], s["state"]) for s in records] == [
        ("whisper", "failed"), ("stop", "ended"), ("barge", "active"), ("listen", "active")]
    assert {s["supervisor_id"] for s in records} == {stack["sam_id"]}

    # each press was one command: nothing else waits for the PBX
    r = requests.get(f"{pbx.base}/commands", params={"wait_s": 0}, headers=pbx.h, timeout=10)
    assert r.status_code == 204, r.text

    # the call ends: no buttons any more
    pbx.event("sup-desk-1@pbx", "hangup", by="caller")
    page.wait(f"{row}.dataset.call === '' && {row}.querySelector('.sup-cell').textContent === '—'", SLOW)
    assert not page.eval("!!__cc.button('Listen Wanda Agent')")
    no_errors(page)


def test_a_supervisor_without_a_phone_is_told_why(stack, page):
    pbx = stack["pbx"]
    row = on_call(stack, page, "sup-desk-2@pbx")
    page.click("Listen Wanda Agent")
    page.wait(f"!!{row}.querySelector('.sup-refused')", SLOW)
    why = page.eval(f"{row}.querySelector('.sup-refused').textContent")
    assert why.startswith("you have no phone to listen on"), why
    assert page.eval("document.getElementById('toast').textContent") == why
    r = requests.get(f"{pbx.base}/commands", params={"wait_s": 0}, headers=pbx.h, timeout=10)
    assert r.status_code == 204, r.text  # nothing was sent to the PBX
    assert "Wanda" in page.eval(f"{row}.innerText")  # the row is intact
    # the refusal's 409 is the only thing the browser logged
    assert len(page.errors) == 1 and "409" in page.errors[0], page.errors
