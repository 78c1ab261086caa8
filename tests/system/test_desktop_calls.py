"""Phone calls on the web desktop, in headless Chromium (browser.py): a PBX
simulated with plain HTTP requests to call-router's /pbx/v1 puts a call in
the Hotline queue; the agent sees the invitation (the caller's number, the
queue, the time left, "answer on your SIP phone", no Accept button), then,
once the PBX reports the answer, the active call with a running talk
timer, records a result, and after the hang-up sees the wrap-up and the
call among the closed ones. A supervisor sees the agent on a call, live.
No page may log a console error, throw, or fail to load anything."""
import pytest

from browser import Browser
from harness import Api
from test_desktop import make_stack, no_errors, sign_in, status_is
from test_registry_objects import make
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
    s = make_stack(cluster)
    s["solved"] = make(s["admin"], "/api/v1/results", {"name": "Solved"})
    return s


@pytest.fixture
def page(browser):
    p = browser.page()
    yield p
    p.close()


def invite_text(page):
    return page.eval("(document.querySelector('.call-invite') || {}).innerText || ''")


def test_agent_sees_a_ringing_call_answers_on_the_phone_and_records_its_result(stack, page):
    pbx, admin = stack["pbx"], stack["admin"]
    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait(status_is("ready"), SLOW)
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)

    # the PBX puts a call in the Hotline queue: it rings here as an invitation
    call_id = pbx.call("desk-1@pbx", stack["hotline"]["id"], CALLER)
    page.wait(f"!!document.querySelector('.call-invite[data-call=\"{call_id}\"]')", SLOW)
    text = invite_text(page)
    for part in (CALLER, "Queue: Hotline", "Time left:", "Answer on your SIP phone."):
        assert part in text, text
    left = int(page.eval("document.querySelector('.call-invite .timer').textContent").split()[0])
    assert 30 < left <= 60, left
    page.wait(f"parseInt(document.querySelector('.call-invite .timer').textContent) < {left}", 5)
    assert page.eval("document.querySelectorAll('.call-invite button').length") == 0
    assert page.eval("document.title").startswith("(1) Invitation")

    # the PBX rings the agent's phone and reports the answer: the active call
    offer = pbx.route("desk-1@pbx")
    assert (offer["agent_id"], offer["sip_uri"]) == (stack["agent_id"], "sip:wanda@pbx.test")
    pbx.event("desk-1@pbx", "ringing", offer_id=offer["offer_id"])
    pbx.event("desk-1@pbx", "answered", offer_id=offer["offer_id"])
    page.wait("document.querySelector('.call-view') && document.querySelector('.call-view').dataset.state === 'connected'",
              SLOW)
    page.wait("document.querySelector('.call-invite') === null", SLOW)
    page.wait(status_is("callcenter", "busy"), SLOW)
    assert page.eval("document.getElementById('call-title').textContent") == f"Call with {CALLER}"
    assert "Queue: Hotline" in page.eval("document.querySelector('.call-view .sub').textContent")
    assert page.eval("document.querySelector('[data-field=From]').textContent") == CALLER
    first = page.eval("document.querySelector('#talk-time .timer').textContent")
    assert first.count(":") == 1, first
    page.wait(f"document.querySelector('#talk-time .timer').textContent !== {first!r}", 5)  # it runs
    item = f"document.querySelector('#call-list .call-item[data-call=\"{call_id}\"]')"
    page.wait(f"!!{item} && {item}.dataset.state === 'connected'", SLOW)

    # Result and Result details, saved while talking
    page.fill("Result", "Solved")
    page.fill("Result details", "Adres zmieniony")
    page.fill("Case", "CASE-12")
    page.click("Save")
    wait_until(lambda: admin.get(f"/api/v1/calls/{call_id}").json()["result_id"] == stack["solved"]["id"], SLOW)
    saved = admin.get(f"/api/v1/calls/{call_id}").json()
    assert saved["result_details"] == "Adres zmieniony" and saved["links"]["case_id"] == "CASE-12"

    # the caller hangs up: wrap-up, the call ended and among the closed ones
    pbx.event("desk-1@pbx", "hangup", by="caller")
    page.wait("document.querySelector('.call-view').dataset.state === 'ended'", SLOW)
    page.wait(status_is("callcenter", "post_processing"), SLOW)
    assert page.eval("!!__cc.button('End wrap-up')")
    page.wait(f"!!{item} && {item}.dataset.state === 'ended'", SLOW)
    page.wait("document.querySelector('[data-field=\"Hung up by\"]').textContent === 'Caller'", SLOW)
    assert page.eval("document.querySelector('#call-list').innerText").count("No active calls.") == 1
    # the result stays on the closed call's view
    assert page.eval("__cc.control('Result details').value") == "Adres zmieniony"
    page.click("End wrap-up")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    no_errors(page)


def test_an_unanswered_call_stops_ringing_on_the_desk(stack, page):
    pbx = stack["pbx"]
    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait(status_is("ready"), SLOW)
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    call_id = pbx.call("desk-2@pbx", stack["hotline"]["id"], CALLER)
    page.wait(f"!!document.querySelector('.call-invite[data-call=\"{call_id}\"]')", SLOW)
    # the caller gives up while it rings: the invitation goes, no call opens
    pbx.route("desk-2@pbx")
    pbx.event("desk-2@pbx", "abandoned")
    page.wait("document.querySelector('.call-invite') === null", SLOW)
    assert page.eval("document.querySelector('.call-view') === null")
    no_errors(page)


def test_supervisor_sees_an_agent_on_a_call(stack, page):
    pbx = stack["pbx"]
    wanda = Api(stack["gw"]).login("wanda", "password-wanda")
    assert wanda.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("document.getElementById('live-state').textContent === 'live'", SLOW)
    row = f"document.querySelector('tr[data-agent=\"{stack['agent_id']}\"]')"
    page.wait(f"!!{row} && {row}.dataset.state === 'waiting'", SLOW)
    assert page.eval(f"{row}.querySelector('.call-cell').textContent") == "—"

    pbx.call("desk-3@pbx", stack["hotline"]["id"], CALLER)
    pbx.answered("desk-3@pbx")
    page.wait(f"{row}.dataset.call === 'connected' && {row}.dataset.state === 'busy'", SLOW)
    cell = f"{row}.querySelector('.call-cell')"
    assert "on a call" in page.eval(f"{cell}.textContent")
    first = page.eval(f"{cell}.querySelector('.timer').textContent")
    page.wait(f"{cell}.querySelector('.timer').textContent !== {first!r}", 5)
    assert CALLER in page.eval(f"{cell}.title")

    pbx.event("desk-3@pbx", "hangup", by="agent")
    page.wait(f"{row}.dataset.call === '' && {row}.dataset.state === 'post_processing'", SLOW)
    no_errors(page)
