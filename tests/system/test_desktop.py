"""The web desktop served by api-gateway, in a real browser (headless
Chromium over the DevTools protocol, tests/system/browser.py): an agent
handles a web chat from the invitation to the Closed list, a supervisor
sees an agent's state change live and steers it, an administrator creates
a team, a skill, a queue and an agent, and the idle sign-out. No page may
log a console error, throw, or fail to load anything."""
import os

import pytest
import requests

from browser import Browser
from harness import ADMIN_PASSWORD, Api, start_stack
from test_chat_webchat import PNG, Customer
from test_calls_api import phone_queue, start_calls
from test_registry_objects import make, skill, team, user
from test_routing import wait_until

SLOW = 20  # seconds: the services run under ASan on a shared machine


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def stack(cluster):
    return make_stack(cluster)


def make_stack(cluster):
    """The services the desk needs (call-router too: the desk lists calls),
    a chat queue with a web-chat channel, a call queue (Hotline), a team
    (its supervisor: sam), the agent wanda with both queues' skills and a
    SIP account, and a quick reply."""
    admin = start_stack(cluster)
    pbx = start_calls(cluster)
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    sam = user(admin, "sam", role="supervisor", first_name="Sam", last_name="Super")
    t = team(admin, "Chat team", chat_invite_timeout_s=120, call_offer_timeout_s=60,
             wrap_up_time_s=600, supervisor_ids=[sam["id"]])
    s = skill(admin, "Web")
    q = make(admin, "/api/v1/queues", {"name": "Web", "channel": "chat", "skill_id": s["id"],
                                       "team_ids": [t["id"]]})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Site", "queue_id": q["id"],
                                         "credentials": {}})
    u = user(admin, "wanda", first_name="Wanda", last_name="Agent",
             agent={"enabled": True, "team_id": t["id"]}, sip_account="sip:wanda@pbx.test")
    assert admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 50}).status_code == 200
    hotline = phone_queue(admin, "Hotline", t["id"], [u["id"]])
    make(admin, "/api/v1/quick-replies", {"name": "Greeting",
                                          "text": "Dzień dobry, w czym mogę pomóc?",
                                          "queue_ids": [q["id"]]})
    make(admin, "/api/v1/pause-causes", {"name": "Lunch"})
    gw = admin.base
    return {"admin": admin, "gw": gw, "chat": chat.base, "channel": ch, "queue": q, "team": t,
            "agent_id": u["id"], "sam_id": sam["id"], "pbx": pbx, "hotline": hotline}


@pytest.fixture
def page(browser):
    p = browser.page()
    yield p
    p.close()


def sign_in(page, base, login, password):
    page.goto(base + "/")
    page.wait("location.hash === '#/signin' && !!__cc.control('Login')")
    page.fill("Login", login)
    page.fill("Password", password)
    page.click("Sign in")


def status_is(status, state=""):
    return (f"(() => {{ const i = document.getElementById('status-indicator');"
            f" return !!i && i.dataset.status === '{status}' && i.dataset.state === '{state}'; }})()")


def out_texts(cust):
    return [m["text"] for m in cust.messages() if m["direction"] == "out"]


def no_errors(page):
    assert page.errors == [], "\n".join(page.errors)


def test_agent_takes_a_web_chat_from_invitation_to_closed(stack, page, tmp_path):
    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait("location.hash === '#/desk'")
    page.wait(status_is("ready"), SLOW)
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    assert page.eval("document.querySelector('#status-indicator .timer').textContent").count(":") == 1
    # a pause with its cause, then back to waiting
    page.fill("Pause cause", "Lunch")
    page.click("Pause")
    page.wait(status_is("callcenter", "pause"), SLOW)
    assert "Pause (Lunch)" in page.eval("document.getElementById('status-indicator').innerText")
    page.click("End pause")
    page.wait(status_is("callcenter", "waiting"), SLOW)

    # a web-chat customer writes: the invitation rings with its time left
    cust = Customer(stack["chat"], stack["channel"]["id"], name="Łucja")
    cust.say("Dzień dobry 👋")
    page.wait("[...document.querySelectorAll('.invite')].some(e => e.textContent.includes('Dzień dobry 👋'))",
              SLOW)
    invite = page.eval("document.querySelector('.invite').innerText")
    assert "Chat from Łucja" in invite and "Time left:" in invite
    left = int(page.eval("document.querySelector('.invite .timer').textContent").split()[0])
    assert 60 < left <= 120
    assert page.eval("document.title").startswith("(1) Invitation")
    for name in ("Accept", "Open", "Cancel"):
        assert page.eval(f"!!__cc.button('{name}', true, document.querySelector('.invite'))"), name
    page.click("Accept")
    page.wait("[...document.querySelectorAll('.msg.customer')].some(e => e.textContent.includes('Dzień dobry 👋'))",
              SLOW)
    page.wait(status_is("callcenter", "busy"), SLOW)
    chat_id = page.eval("document.querySelector('#chat-list .chat-item').dataset.chat")
    assert page.eval("document.querySelector('.invite') === null")
    page.wait("document.querySelector('[data-state=new]').getAttribute('aria-pressed') === 'true'")
    profile = page.eval("document.querySelector('.profile-list').innerText")
    for label in ("From", "To", "Source", "Queue", "Start time", "End time", "State", "Name", "Case"):
        assert label in profile, profile
    assert "Web chat" in profile and "Site" in profile and "Łucja" in profile

    # a text sent with Enter
    page.focus("Message")
    page.type("Witam serdecznie")
    page.press("Enter")
    wait_until(lambda: out_texts(cust) == ["Witam serdecznie"], SLOW)
    page.wait("document.querySelector('[data-state=in_progress]').getAttribute('aria-pressed') === 'true'",
              SLOW)

    # an emoji from the picker, sent with the Send button
    page.click("Emoji")
    page.click("grinning face")
    assert page.eval("__cc.control('Message').value") == "😀"
    page.click("Send")
    wait_until(lambda: out_texts(cust)[-1:] == ["😀"], SLOW)
    page.wait("__cc.control('Message').value === ''")  # the send finished here too

    # a quick reply picked by name in "Select text", edited, sent
    page.fill("Select text", "Greeting")
    assert page.eval("__cc.control('Message').value") == "Dzień dobry, w czym mogę pomóc?"
    page.eval("(() => { const t = __cc.control('Message'); t.focus();"
              " t.selectionStart = t.selectionEnd = t.value.length; })()")
    page.type(" Łucjo")
    page.click("Send")
    wait_until(lambda: out_texts(cust)[-1:] == ["Dzień dobry, w czym mogę pomóc? Łucjo"], SLOW)

    # a file: previewed before sending, shown from its link after
    png = tmp_path / "receipt.png"
    png.write_bytes(PNG)
    page.set_files("input[type=file]", [str(png)])
    page.wait("!!document.querySelector('.preview img[src^=\"blob:\"]')")
    page.click("Send")
    wait_until(lambda: any(m["attachments"] for m in cust.messages()), SLOW)
    page.wait("[...document.querySelectorAll('.msg.agent .att-image img')].some(i => i.complete && i.naturalWidth > 0)",
              SLOW)
    assert page.eval("document.querySelectorAll('.preview').length") == 0

    # result details and a case on the record, then End chat (confirmed)
    page.fill("Result details", "Invoice sent")
    page.fill("Case", "CASE-7")
    page.click("Save")
    wait_until(lambda: stack["admin"].get(f"/api/v1/chats/{chat_id}").json()["links"]["case_id"] == "CASE-7",
               SLOW)
    page.click("End chat")
    page.wait("document.getElementById('confirm').open")
    page.click("Yes")
    page.wait("document.querySelector('[data-state=completed]').getAttribute('aria-pressed') === 'true'", SLOW)
    page.wait("document.querySelector('.composer fieldset').disabled")
    # the team's wrap-up, ended early
    page.wait(status_is("callcenter", "post_processing"), SLOW)
    page.click("End wrap-up")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    page.click("Closed", exact=False)
    page.wait(f"!!document.querySelector('#chat-list .chat-item[data-chat=\"{chat_id}\"]')", SLOW)
    assert page.eval("__cc.button('Closed', false).getAttribute('aria-selected')") == "true"
    c = stack["admin"].get(f"/api/v1/chats/{chat_id}").json()
    assert c["state"] == "completed" and c["result_details"] == "Invoice sent"
    no_errors(page)


def test_cancel_gives_the_chat_back_and_open_shows_its_record_page(stack, page):
    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait(status_is("ready"), SLOW)
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    cust = Customer(stack["chat"], stack["channel"]["id"], name="Marta")
    cust.say("Hej")
    first = page.wait("document.querySelector('.invite') && document.querySelector('.invite').dataset.offer", SLOW)
    page.click("Cancel")
    # declined: back in the queue; with no other agent it rings here again, as a new offer
    page.wait(f"!!document.querySelector('.invite') && document.querySelector('.invite').dataset.offer !== '{first}'",
              SLOW)
    page.click("Open")
    page.wait("location.hash.startsWith('#/chat/') && !!document.querySelector('.record .profile-list')",
              SLOW)
    chat_id = page.eval("decodeURIComponent(location.hash.slice(7))")
    trace = [x["step"] for x in stack["admin"].get(f"/api/v1/interactions/{chat_id}/trace").json()["items"]]
    assert "declined" in trace and trace[-1] == "accepted", trace
    page.wait("document.querySelector('[data-field=Name]').textContent === 'Marta'", SLOW)
    # the state set by hand: New -> In progress
    page.click("In progress")
    page.wait("document.querySelector('[data-field=State]').textContent === 'In progress'", SLOW)
    assert stack["admin"].get(f"/api/v1/chats/{chat_id}").json()["state"] == "in_progress"
    # a file dropped on the conversation is previewed, then sent
    page.eval("""(() => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array([137, 80, 78, 71])], "notes.txt", {type: "text/plain"}));
        const t = document.querySelector('.thread');
        t.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
        t.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    })()""")
    page.wait("[...document.querySelectorAll('.preview .name')].some(e => e.textContent.startsWith('notes.txt'))")
    page.click("Send")
    wait_until(lambda: any(a["name"] == "notes.txt" for m in cust.messages() for a in m["attachments"]), SLOW)
    page.wait("[...document.querySelectorAll('.msg.agent .att-file')].some(e => e.textContent.includes('notes.txt'))",
              SLOW)
    page.click("← Desk")
    page.wait("location.hash === '#/desk' && !!document.querySelector('#chat-list .chat-item')", SLOW)
    no_errors(page)


def test_supervisor_sees_an_agent_change_live_and_steers_it(stack, page):
    admin, agent_id = stack["admin"], stack["agent_id"]
    wanda = Api(stack["gw"]).login("wanda", "password-wanda")
    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("location.hash === '#/supervisor'")
    row = f"document.querySelector('tr[data-agent=\"{agent_id}\"]')"
    page.wait(f"!!{row} && {row}.dataset.status === 'ready'", SLOW)
    page.wait("document.getElementById('live-state').textContent === 'live'")
    page.eval("window.__sameDocument = true")

    # the agent goes Callcenter elsewhere: the row follows without a reload
    assert wanda.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
    page.wait(f"{row}.dataset.status === 'callcenter' && {row}.dataset.state === 'waiting'", SLOW)
    assert page.eval(f"{row}.innerText").count("Waiting") == 1
    assert page.eval("window.__sameDocument") is True

    # the supervisor sets the agent's status: DnD
    page.fill("Status for Wanda Agent", "DnD")
    page.click("Set status of Wanda Agent")
    page.wait(f"{row}.dataset.status === 'dnd'", SLOW)
    assert admin.get(f"/api/v1/agents/{agent_id}/status").json()["status"] == "dnd"

    # a chat waits (nobody in callcenter): the queue counts it, its trace opens
    cust = Customer(stack["chat"], stack["channel"]["id"], name="Olga")
    cust.say("Halo?")
    qrow = f"document.querySelector('tr[data-queue=\"{stack['queue']['id']}\"]')"
    page.wait(f"!!{qrow} && {qrow}.querySelector('td.num').textContent === '1'", SLOW)
    page.click("Trace of Olga", timeout=SLOW)
    page.wait("!!document.querySelector('#trace tr[data-step=enqueued]')", SLOW)
    no_errors(page)


def test_administrator_creates_a_team_a_skill_a_queue_and_an_agent(stack, page):
    admin = stack["admin"]
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash === '#/admin/users'")

    page.click("Teams")
    page.click("New team")
    page.fill("Name", "Night shift")
    page.fill("Wrap up time (s)", "15")
    page.fill("No answer delay time (s)", "7")
    page.fill("Chat invite timeout (s)", "45")
    page.fill("Sam Super", True)
    page.click("Save")
    page.wait("document.getElementById('editor-title').textContent === 'Team: Night shift'", SLOW)
    t = next(x for x in admin.get("/api/v1/teams").json()["items"] if x["name"] == "Night shift")
    assert (t["wrap_up_time_s"], t["no_answer_delay_s"], t["chat_invite_timeout_s"]) == (15, 7, 45)
    assert t["supervisor_ids"] == [stack["sam_id"]]

    page.click("Skills")
    page.click("New skill")
    page.fill("Name", "Billing")
    page.fill("Description", "invoices and payments")
    page.click("Save")
    page.wait("document.getElementById('editor-title').textContent === 'Skill: Billing'", SLOW)
    s = next(x for x in admin.get("/api/v1/skills").json()["items"] if x["name"] == "Billing")

    page.click("Queues")
    page.click("New queue")
    page.fill("Name", "Billing chat")
    page.fill("Channel", "Chat")
    page.fill("Queue skill", "Billing")
    page.fill("Strategy", "most_skilled")
    page.fill("Max concurrent chats", "2")
    page.fill("Minimum capacity", "50")
    page.fill("Widening steps", "30:20")
    page.fill("Night shift", True)
    page.click("Save")
    page.wait("document.getElementById('editor-title').textContent === 'Queue: Billing chat'", SLOW)
    q = next(x for x in admin.get("/api/v1/queues").json()["items"] if x["name"] == "Billing chat")
    assert (q["channel"], q["skill_id"], q["strategy"], q["max_concurrent_chats"]) == \
        ("chat", s["id"], "most_skilled", 2)
    assert q["min_capacity"] == 50 and q["team_ids"] == [t["id"]] and q["widening"] == [{"after_s": 30, "min_capacity": 20}]

    page.click("Users")
    page.click("New user")
    page.fill("First name", "Nina")
    page.fill("Last name", "Nowak")
    page.fill("Role", "agent")
    page.fill("Login", "nina")
    page.fill("Password", "password-nina")
    page.fill("Idle timeout (seconds)", "900")
    page.fill("Agent number", "A17")
    page.fill("Team", "Night shift")
    page.fill("Contact history", True)
    page.click("Save")
    page.wait("document.getElementById('editor-title').textContent === 'User: nina'", SLOW)
    u = next(x for x in admin.get("/api/v1/users").json()["items"] if x["login"] == "nina")
    assert u["role"] == "agent" and u["agent"] == {"enabled": True, "team_id": t["id"]}
    assert (u["first_name"], u["idle_timeout_s"], u["agent_number"]) == ("Nina", 900, "A17")
    assert u["rights"]["contact_history"] is True
    # the agent's skill, capacity and Active on the same page
    page.fill("Skill", "Billing")
    page.fill("Capacity (1–100)", "70")
    page.click("Save skill")
    page.wait("[...document.querySelectorAll('.agent-skills tbody th')].some(e => e.textContent === 'Billing')",
              SLOW)
    got = admin.get(f"/api/v1/agents/{u['id']}/skills").json()["items"]
    assert [(x["skill_id"], x["capacity"], x["active"]) for x in got] == [(s["id"], 70, True)]
    assert Api(stack["gw"]).login("nina", "password-nina").get("/api/v1/me").status_code == 200

    # archive keeps the user (admins see it), delete (confirmed) removes it
    page.click("Archive")
    page.wait("!!__cc.button('Unarchive')", SLOW)
    assert admin.get(f"/api/v1/users/{u['id']}").json()["archived"] is True
    page.click("Delete")
    page.wait("document.getElementById('confirm').open")
    page.click("Yes")
    page.wait("document.querySelector('.editor').childElementCount === 0", SLOW)
    assert admin.get(f"/api/v1/users/{u['id']}").status_code == 404
    no_errors(page)


def test_administrator_pages_of_the_other_kinds_and_the_switches(stack, page):
    admin = stack["admin"]
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash === '#/admin/users'")

    def create(section, button, fields, title):
        page.click(section)
        page.click(button)
        for label, value in fields:
            page.fill(label, value)
        page.click("Save")
        page.wait(f"document.getElementById('editor-title').textContent === {title!r}", SLOW)

    create("Pause causes", "New pause cause", [("Name", "Training"), ("Limit (minutes per day)", "30"),
                                               ("Agents may choose it", False)], "Pause cause: Training")
    pc = next(x for x in admin.get("/api/v1/pause-causes").json()["items"] if x["name"] == "Training")
    assert (pc["limit_minutes_per_day"], pc["allow_agent"], pc["allow_supervisor"]) == (30, False, True)
    create("Quick replies", "New quick reply", [("Name", "Bye"), ("Text", "Miłego dnia! 🌞"), ("Web", True)],
           "Quick reply: Bye")
    qr = next(x for x in admin.get("/api/v1/quick-replies").json()["items"] if x["name"] == "Bye")
    assert qr["text"] == "Miłego dnia! 🌞" and qr["queue_ids"] == [stack["queue"]["id"]]
    create("Results", "New result", [("Name", "Solved")], "Result: Solved")
    assert [x["name"] for x in admin.get("/api/v1/results").json()["items"]] == ["Solved"]
    page.click("Channels")
    page.click("New channel")
    page.fill("Type", "Telegram")
    page.wait("!!__cc.control('Bot token') && !__cc.control('Verify token')")
    assert not page.eval("!!__cc.control('Allowed origins')")  # web chat only
    for label, value in (("Name", "Bot"), ("Queue", "Web"), ("API base URL", "http://127.0.0.1:9/tg"),
                         ("Bot token", "123:abc"), ("Secret token", "s3cret"),
                         ("Media hosts", "*.cdn.example.org")):
        page.fill(label, value)
    page.click("Save")
    page.wait("document.getElementById('editor-title').textContent === 'Channel: Bot'", SLOW)
    chn = next(x for x in admin.get("/api/v1/channels").json()["items"] if x["name"] == "Bot")
    assert chn["type"] == "telegram" and chn["has_credentials"] is True and "credentials" not in chn
    assert chn["media_hosts"] == ["*.cdn.example.org"]
    page.click("Channels")
    page.click("New channel")
    page.fill("Type", "Web chat")
    for label, value in (("Name", "Shop"), ("Queue", "Web"),
                         ("Allowed origins", "https://Shop.example.com/")):
        page.fill(label, value)
    page.click("Save")
    page.wait("document.getElementById('editor-title').textContent === 'Channel: Shop'", SLOW)
    chn = next(x for x in admin.get("/api/v1/channels").json()["items"] if x["name"] == "Shop")
    assert chn["allowed_origins"] == ["https://shop.example.com"]  # kept as browsers send it

    page.click("Permissions")
    page.fill("Manage quick replies", True)
    page.fill("Limit access to assigned queues", False)
    page.click("Save")
    page.wait("document.getElementById('toast').textContent === 'Permissions saved.'", SLOW)
    p = admin.get("/api/v1/settings/permissions").json()
    assert p["agent"]["manage_public_canned"] is True and p["supervisor"]["limit_to_assigned_queues"] is False
    assert p["supervisor"]["view_queue_settings"] is True
    no_errors(page)


def test_idle_user_is_signed_out_with_a_message(stack, page):
    user(stack["admin"], "ida", idle_timeout_s=3, agent={"enabled": True})
    sign_in(page, stack["gw"], "ida", "password-ida")
    page.wait("location.hash === '#/desk'")
    page.wait("location.hash === '#/signin'", 15)
    notice = page.wait("document.getElementById('signin-notice').textContent")
    assert "signed out after 3 seconds without activity" in notice
    assert page.eval("sessionStorage.getItem('cc.session')") is None
    no_errors(page)


def test_static_files_carry_their_types_and_a_strict_policy(stack):
    base = stack["gw"]
    for path, ctype in (("/", "text/html"), ("/app.js", "text/javascript"), ("/app.css", "text/css"),
                        ("/favicon.svg", "image/svg+xml")):
        r = requests.get(base + path, timeout=5)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(ctype), (path, r.headers)
        assert r.headers["Cache-Control"] == "no-cache"
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert requests.get(base + "/nope.js", timeout=5).status_code == 404
    assert os.path.basename(base)  # the API beside it is unchanged
    assert requests.get(base + "/api/v1/me", timeout=5).status_code == 401
