"""Screenshots of the web desktop's main screens (make screenshots).

Starts nats-server, redis-server and the services on free ports (binaries
from $CC_BIN_DIR, as the system tests do), fills them with a small contact
center, drives headless Chromium through sign-in, the agent desk with a chat
invitation, a conversation, the inbox (previews, unread counts, a closed
chat with its result), the chat record page with its CRM block
(the customer identified in the stand-in Creatio, a case created), a ringing call and an
active call (the PBX played over call-router's /pbx/v1), the supervisor
view (also listening to a call, the PBX's command channel played too), the chat history, four administration pages (users, queues, CRM settings, CRM sync) and the Reports page,
the web-chat widget on its test page (desktop and phone width, in a chat and
ended) and a web-chat channel's admin page with its snippet, and writes one PNG per screen (1366x768) into the
directory given (default docs/screenshots)."""
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import zlib

import requests

import creatio_standin
from browser import Browser
from crm_helpers import crm_env
from harness import ADMIN_PASSWORD, Api, Cluster
from test_chat_webchat import Customer
from test_desktop import make_stack, sign_in, status_is
from test_registry_objects import user
from test_routing import wait_until

SLOW = 30


def receipt_png(width=220, height=140):
    """A small picture of a receipt (white paper, grey lines), as PNG bytes."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            paper = 16 <= x < width - 16 and 8 <= y < height - 8
            line = paper and 28 <= x < width - 28 and y % 14 in (0, 1) and 20 <= y < height - 20
            short = line and y > height - 40 and x > width // 2
            c = (120, 128, 140) if line and not short else (255, 255, 255) if paper else (214, 226, 245)
            row += bytes(c)
        rows.append(bytes(row))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def shot(page, out, name):
    page.eval("document.activeElement && document.activeElement.blur()")
    page.eval("document.getElementById('toast').className = 'toast'")
    page.eval("new Promise((r) => setTimeout(r, 400))")  # let the toasts and timers settle
    path = os.path.join(out, name)
    page.screenshot(path)
    print("wrote", os.path.relpath(path))


def page_shot(page, out, name):
    """A screenshot of a page that is not the desk's (no toast to hide)."""
    page.eval("document.activeElement && document.activeElement.blur()")
    page.eval("new Promise((r) => setTimeout(r, 400))")
    path = os.path.join(out, name)
    page.screenshot(path)
    print("wrote", os.path.relpath(path))


def team_of_agents(stack):
    """Three more agents in the supervisor's team, in different states."""
    admin, team_id = stack["admin"], stack["team"]["id"]
    lunch = next(p for p in admin.get("/api/v1/pause-causes").json()["items"] if p["name"] == "Lunch")
    people = [("piotr", "Piotr", "Nowak"), ("ana", "Ana", "García"), ("lee", "Lee", "Chen")]
    apis = {}
    for login, first, last in people:
        user(admin, login, first_name=first, last_name=last, agent={"enabled": True, "team_id": team_id})
        apis[login] = Api(admin.base).login(login, "password-" + login)
    apis["piotr"].put("/api/v1/me/status", {"status": "callcenter"})
    apis["piotr"].put("/api/v1/me/status", {"state": "pause", "pause_cause_id": lunch["id"]})
    apis["lee"].put("/api/v1/me/status", {"status": "callcenter"})
    for name in ("Thank you", "Order status"):
        admin.post("/api/v1/quick-replies", {"name": name, "text": f"{name}: …", "queue_ids": []})
    for name in ("Solved", "Call back", "Sale"):
        admin.post("/api/v1/results", {"name": name})
    return apis


def agent_screens(browser, stack, out, tmp):
    page = browser.page()
    page.goto(stack["gw"] + "/")
    page.wait("!!__cc.control('Login')")
    shot(page, out, "signin.png")

    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait(status_is("ready"), SLOW)
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    cust = Customer(stack["chat"], stack["channel"]["id"], name="Łucja Kowalska")
    cust.say("Dzień dobry 👋 I was charged twice for order 1042, can you help?")
    page.wait("!!document.querySelector('.invite')", SLOW)
    shot(page, out, "desk-invitation.png")

    page.click("Accept")
    page.wait("!!document.querySelector('.msg.customer')", SLOW)
    page.focus("Message")
    page.type("Hello Łucja, I am sorry about that. Let me check order 1042 🙂")
    page.press("Enter")
    wait_until(lambda: any(m["direction"] == "out" for m in cust.messages()), SLOW)
    cust.say("Thank you! Here is the receipt.")
    png = os.path.join(tmp, "receipt.png")
    with open(png, "wb") as f:
        f.write(receipt_png())
    page.set_files("input[type=file]", [png])
    page.click("Send")
    page.wait("!!document.querySelector('.msg.agent .att-image img')", SLOW)
    page.fill("Select text", "Greeting")
    page.click("Emoji")
    page.wait("!!document.querySelector('.msg.customer + .msg.customer, .msg.customer ~ .msg.customer')", SLOW)
    shot(page, out, "desk-conversation.png")

    chat_id = page.eval("document.querySelector('#chat-list .chat-item').dataset.chat")
    page.eval("__cc.control('Message').value = ''")
    page.goto(f"{stack['gw']}/#/chat/{chat_id}")
    page.wait("!!document.querySelector('.record .profile-list dd')", SLOW)
    page.fill("Result details", "Refund of the duplicate charge requested")
    page.fill("Case", "CS-2041")
    shot(page, out, "chat-record.png")

    # the CRM block: the customer identified, then a case created from the chat
    page.fill("Case", "")
    page.fill("Search contacts", "olena")
    page.click("Search")
    page.wait("!!__cc.button('Link Olena Kovalenko')", SLOW)
    page.click("Link Olena Kovalenko")
    page.wait("!!document.querySelector('[data-crm=contact_id] a.crm-link')", SLOW)
    page.fill("Subject", "Duplicate charge for order 1042")
    page.click("Create case")
    page.wait("!!document.querySelector('[data-crm=case_id] a.crm-link')", SLOW)
    page.eval("document.querySelector('.crm-panel').scrollIntoView()")
    shot(page, out, "chat-record-crm.png")
    return page, chat_id


def inbox_screen(page, stack, out):
    """Wanda's desk as an inbox: three more chats (one from a visitor who
    gave no name), two of them writing while she reads Łucja's, one closed
    with a result."""
    admin = stack["admin"]
    assert admin.patch(f"/api/v1/queues/{stack['queue']['id']}", {"max_concurrent_chats": 4}).status_code == 200
    time.sleep(2)  # skill-router reads the queue again
    page.click("← Desk")
    page.wait("location.hash === '#/desk'", SLOW)
    solved = next(r for r in admin.get("/api/v1/results").json()["items"] if r["name"] == "Solved")
    people = [("Marek Wiśniewski", "Hi, my parcel shows as delivered but it is not here"),
              ("", "hello, do you ship to Norway?"),
              ("Sofía Martínez-Delacroix de la Vega y Montenegro", "¿Puedo cambiar la dirección de entrega?")]
    custs, ids = [], []
    for name, text in people:
        c = Customer(stack["chat"], stack["channel"]["id"], name=name)
        c.say(text)
        page.wait("!!document.querySelector('.invite')", 2 * SLOW)
        ids.append(page.eval("document.querySelector('.invite').dataset.chat"))
        page.click("Accept")
        page.wait(f"!!document.querySelector('#chat-list .chat-item[data-chat=\"{ids[-1]}\"]')", SLOW)
        custs.append(c)
    # the last one is answered, given a result and closed
    page.focus("Message")
    page.type("Sí, claro: la cambio ahora mismo.")
    page.press("Enter")
    wait_until(lambda: any(m["direction"] == "out" for m in custs[2].messages()), SLOW)
    page.fill("Result", "Solved")
    page.click("Save")
    page.click("End chat")
    page.wait("document.getElementById('confirm').open")
    page.click("Yes")
    page.wait("document.querySelector('.composer fieldset').disabled", SLOW)
    # back in Łucja's chat while the others write
    page.click_element("[...document.querySelectorAll('#chat-list .chat-item')]"
                       ".find(b => b.querySelector('.name').textContent === 'Łucja Kowalska')")
    page.wait("document.getElementById('conv-title').textContent === 'Łucja Kowalska'", SLOW)
    custs[0].say("The tracking number is PL 4410 2291 003")
    custs[1].say("or Sweden?")
    custs[1].say("thanks 🙏")
    page.wait(f"document.querySelector('#chat-list .chat-item[data-chat=\"{ids[1]}\"]').dataset.unread === '2'", SLOW)
    page.eval("document.querySelector('.desk .left').scrollTop = 0")
    shot(page, out, "desk-inbox.png")
    page.click("Closed", exact=False)
    page.wait(f"!!document.querySelector('#chat-list .chat-item[data-chat=\"{ids[2]}\"]')", SLOW)
    page.eval("document.querySelector('.desk .left').scrollTop = 0")
    shot(page, out, "desk-closed.png")
    page.click("Active", exact=False)
    # three chats at most again: the next customer waits in the queue
    admin.patch(f"/api/v1/queues/{stack['queue']['id']}", {"max_concurrent_chats": 3})


def history_screen(browser, stack, out):
    page = browser.page()
    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("location.hash === '#/supervisor'", SLOW)
    page.click("History")
    page.wait("document.querySelectorAll('#history-body tr[data-chat]').length >= 4", SLOW)
    page.fill("Message text", "order")
    page.click("Search")
    page.wait("document.querySelectorAll('#history-body tr[data-chat]').length === 1", SLOW)
    page.click("Clear")
    page.wait("document.querySelectorAll('#history-body tr[data-chat]').length >= 4", SLOW)
    page.fill("Agent", "Wanda Agent")
    page.click("Search")
    page.wait("document.querySelectorAll('#history-body tr[data-chat]').length >= 4", SLOW)
    shot(page, out, "history.png")


def call_screens(browser, stack, out):
    """Ewa (Hotline) sees a call ring, then talks: left connected, so the
    supervisor view shows her on a call."""
    admin, pbx = stack["admin"], stack["pbx"]
    ewa = user(admin, "ewa", first_name="Ewa", last_name="Lis", sip_account="sip:ewa@pbx.test",
               agent={"enabled": True, "team_id": stack["team"]["id"]})
    admin.put(f"/api/v1/agents/{ewa['id']}/skills/{stack['hotline']['skill_id']}", {"capacity": 60})
    page = browser.page()
    sign_in(page, stack["gw"], "ewa", "password-ewa")
    page.wait(status_is("ready"), SLOW)
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    pbx.call("shot-1@pbx", stack["hotline"]["id"], "+48600100200")
    page.wait("!!document.querySelector('.call-invite')", SLOW)
    shot(page, out, "desk-call-invitation.png")
    pbx.answered("shot-1@pbx")
    page.wait("!!document.querySelector('.call-view[data-state=connected]')", SLOW)
    page.fill("Result", "Solved")
    page.fill("Result details", "New delivery address for order 1042")
    page.eval("new Promise((r) => setTimeout(r, 3000))")  # the talk timer runs
    shot(page, out, "desk-call.png")
    return page


def supervisor_screen(browser, stack, out):
    waiting = Customer(stack["chat"], stack["channel"]["id"], name="Olga")
    waiting.say("Is anyone there?")
    page = browser.page()
    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("document.getElementById('live-state').textContent === 'live'", SLOW)
    # the agents of Sam's queues (Piotr, Ana and Lee have no skill in them)
    page.wait("document.querySelectorAll('#agents-body tr[data-agent]').length >= 2", SLOW)
    page.wait("[...document.querySelectorAll('#queues-body td.num')].some(e => e.textContent === '1')", SLOW)
    page.click("Trace of Olga", timeout=SLOW)
    page.wait("!!document.querySelector('#trace tr[data-step]')", SLOW)
    shot(page, out, "supervisor.png")
    return page


def supervisor_listen_screen(page, stack, out):
    """Sam (given a phone) listens to Ewa's call: the PBX fetches the
    supervise command and reports it done."""
    pbx = stack["pbx"]
    admin = stack["admin"]
    admin.patch(f"/api/v1/users/{stack['sam_id']}", {"sip_account": "sip:sam@pbx.test"})
    page.click("Listen Ewa Lis", timeout=SLOW)

    def command():
        r = requests.get(f"{pbx.base}/commands", params={"wait_s": 2}, headers=pbx.h, timeout=15)
        return r.json()["commands"][0] if r.status_code == 200 else None
    cmd = wait_until(command, SLOW)
    requests.post(f"{pbx.base}/commands/{cmd['command_id']}/result", json={"status": "done"},
                  headers=pbx.h, timeout=10).raise_for_status()
    page.wait("[...document.querySelectorAll('.sup-state')].some(e => e.textContent === 'listening')", SLOW)
    page.wait("!!document.querySelector('#supervisions-body tr[data-state=active]')", SLOW)
    shot(page, out, "supervisor-listen.png")


def admin_screens(browser, stack, out):
    page = browser.page()
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash === '#/admin/users'")
    page.click("Edit wanda", timeout=SLOW)
    page.wait("[...document.querySelectorAll('.agent-skills tbody th')].length > 0", SLOW)
    shot(page, out, "admin-users.png")
    page.click("Queues")
    page.click("Edit Web", timeout=SLOW)
    page.wait("document.getElementById('editor-title').textContent === 'Queue: Web'", SLOW)
    shot(page, out, "admin-queues.png")
    page.click("CRM settings")
    page.wait("!!__cc.control('Record links') && __cc.control('CRM type').value === 'creatio'", SLOW)
    shot(page, out, "admin-crm-settings.png")
    page.click("CRM sync")
    page.wait("!!document.querySelector('[data-field=Backlog]')", SLOW)
    shot(page, out, "admin-crm-sync.png")


def reports_screens(browser, stack, out, apis):
    """A few calls through the PBX API (answered after different waits, one
    abandoned), Piotr back from lunch, Lee archived, Max deleted, then Sam's
    Reports page (the queue table and charts) and the administrator's agents
    per day."""
    pbx, hotline = stack["pbx"], stack["hotline"]["id"]
    ewa = Api(stack["gw"]).login("ewa", "password-ewa")
    admin = stack["admin"]
    lunch = next(p for p in admin.get("/api/v1/pause-causes").json()["items"] if p["name"] == "Lunch")
    admin.patch(f"/api/v1/pause-causes/{lunch['id']}", {"limit_minutes_per_day": 30})
    apis["piotr"].put("/api/v1/me/status", {"state": "waiting"})  # the lunch pause is counted once it ends
    # Lee is archived and Max deleted after some time in Ready: both stay in the report
    lee = next(u for u in admin.get("/api/v1/users").json()["items"] if u["login"] == "lee")
    gone = user(admin, "max", first_name="Max", last_name="Gone", agent={"enabled": True, "team_id": stack["team"]["id"]})
    max_api = Api(admin.base).login("max", "password-max")
    max_api.put("/api/v1/me/status", {"status": "ready"})
    apis["lee"].put("/api/v1/me/status", {"status": "ready"})

    def wrapped_up():
        wait_until(lambda: ewa.get("/api/v1/me/status").json().get("state") == "post_processing", SLOW)
        ewa.put("/api/v1/me/status", {"state": "waiting"})
    pbx.event("shot-1@pbx", "hangup", by="caller")  # her call from the desk screenshots
    wrapped_up()
    for n, (wait, talk) in enumerate(((0.3, 1.5), (2.5, 2.0), (0.8, 1.0), (4.0, 2.5)), 2):
        pbx.call(f"shot-{n}@pbx", hotline, f"+4860010{n:04d}")
        time.sleep(wait)
        pbx.answered(f"shot-{n}@pbx")
        time.sleep(talk)
        pbx.event(f"shot-{n}@pbx", "hangup", by="caller")
        wrapped_up()
    ewa.put("/api/v1/me/status", {"status": "dnd"})
    pbx.call("shot-9@pbx", hotline, "+48600109999")
    time.sleep(3)
    pbx.event("shot-9@pbx", "abandoned")
    max_api.put("/api/v1/me/status", {"status": "dnd"})
    admin.delete(f"/api/v1/users/{gone['id']}")
    apis["lee"].put("/api/v1/me/status", {"status": "dnd"})
    admin.post(f"/api/v1/users/{lee['id']}/archive")
    wait_until(lambda: sum(r["abandoned"] for r in stack["admin"].get(
        "/api/v1/reports/queues", interval="day", queue_id=hotline).json()["items"]) == 1, SLOW)

    page = browser.page()
    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("location.hash === '#/supervisor'", SLOW)
    page.click("Reports")
    page.wait("!!document.querySelector('#queue-report tr.grand') && !!document.querySelector('#agent-report')", SLOW)
    shot(page, out, "reports.png")
    # an administrator sees every agent, the deleted one too
    page = browser.page()
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash === '#/admin/users'", SLOW)
    page.click("Reports")
    page.wait("[...document.querySelectorAll('#agent-report tr.deleted')].length === 1", SLOW)
    page.eval("document.getElementById('rep-agents-title').scrollIntoView()")
    shot(page, out, "reports-agents.png")


def widget_screens(browser, stack, out):
    """The web-chat widget as a customer sees it on a shop's page (desktop
    and phone width, in a chat with its agent, then ended) and the channel's
    admin page with the snippet to paste."""
    admin = stack["admin"]
    team_id = stack["team"]["id"]
    sk = admin.post("/api/v1/skills", {"name": "Shop"}).json()
    q = admin.post("/api/v1/queues", {"name": "Shop", "channel": "chat", "skill_id": sk["id"], "team_ids": [team_id],
                                      "closing_messages": [{"language": "", "text":
                                                            "Thanks for shopping with Acme! Come back any time."}]}).json()
    ch = admin.post("/api/v1/channels", {
        "type": "webchat", "name": "Acme shop site", "queue_id": q["id"], "credentials": {},
        "allowed_origins": ["https://shop.acme.example"],
        "webchat": {"title": "Acme Shop", "color": "#0b6e4f", "prechat": "optional", "language": "en"}}).json()
    olga = user(admin, "olga", first_name="Olga", last_name="Petrenko", agent={"enabled": True, "team_id": team_id})
    admin.put(f"/api/v1/agents/{olga['id']}/skills/{sk['id']}", {"capacity": 80})
    agent = Api(admin.base).login("olga", "password-olga")
    agent.put("/api/v1/me/status", {"status": "callcenter"})
    demo = f"{stack['chat']}/webchat/demo/{ch['id']}"

    page = browser.page()
    page.goto(demo)
    page.click("Chat with us")
    page.fill("Your name (optional)", "Maria Rossi")
    page.fill("E-mail (optional)", "maria@example.com")
    page.click("Start chat")
    page.wait("!!__cc.control('Message')", SLOW)
    page.fill("Message", "Hi! Does the blue rain jacket come in size M?")
    page.press("Enter")
    chat_id = wait_until(lambda: next((o["chat_id"] for o in agent.get("/api/v1/me/offers").json()["items"]), None),
                         SLOW)
    agent.post(f"/api/v1/chats/{chat_id}/accept")
    page.wait("document.querySelector('.ccw-status').textContent.includes('Olga')", SLOW)
    agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "Hello Maria! Yes, size M is in stock in blue 🙂"})
    page.wait("document.querySelectorAll('.ccw-log li.cc-out').length === 1", SLOW)
    page.fill("Message", "Great, and can I return it if it does not fit?")
    page.press("Enter")
    page.wait("[...document.querySelectorAll('.ccw-log li.cc-in')].every(e => e.dataset.state === 'sent')", SLOW)
    agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "Of course: 30 days, free of charge."})
    page.wait("document.querySelectorAll('.ccw-log li.cc-out').length === 2", SLOW)
    agent.post(f"/api/v1/chats/{chat_id}/typing", {})
    page.wait("document.querySelector('.ccw-typing').textContent !== ''", SLOW)
    page_shot(page, out, "widget-desktop.png")

    # the same chat on a phone: the session and the open panel carried over
    phone = Browser(width=390, height=780)
    try:
        mp = phone.page()
        mp.conn.send("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 780, "deviceScaleFactor": 1,
                                                             "mobile": True})
        mp.goto(demo)
        for key in ("cc-webchat-", "cc-webchat-ui-"):
            value = page.eval(f"localStorage.getItem('{key}{ch['id']}')")
            mp.eval(f"localStorage.setItem('{key}{ch['id']}', {json.dumps(value)})")
        mp.goto(demo)
        mp.wait("document.querySelectorAll('.ccw-log li.cc-out').length === 2", SLOW)
        mp.fill("Message", "Perfect, thank you!")
        mp.press("Enter")
        mp.wait("[...document.querySelectorAll('.ccw-log li.cc-in')].some(e => e.dataset.state === 'sent'"
                " && e.dataset.text === 'Perfect, thank you!')", SLOW)
        page_shot(mp, out, "widget-mobile.png")
        agent.post(f"/api/v1/chats/{chat_id}/end")
        mp.wait("!document.querySelector('.ccw-ended').hidden", SLOW)
        page_shot(mp, out, "widget-mobile-ended.png")
        errors = mp.errors
    finally:
        phone.close()
    if errors:
        raise AssertionError("\n".join(errors))

    page = browser.page()
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash === '#/admin/users'")
    page.goto(stack["gw"] + "/#/admin/channels")
    page.click("Edit Acme shop site", timeout=SLOW)
    page.wait("!!document.querySelector('.channel-setup textarea.code')", SLOW)
    # the whole form and its setup panel: a taller window for this one
    height = page.eval("document.documentElement.scrollHeight")
    page.conn.send("Emulation.setDeviceMetricsOverride", {"width": 1366, "height": max(768, height),
                                                           "deviceScaleFactor": 1, "mobile": False})
    shot(page, out, "admin-channel.png")


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="cc-shots-")
    cluster = Cluster(work)
    browser = None
    try:
        stack = make_stack(cluster)
        standin = creatio_standin.Standin(page_size=50).start()
        cluster.start("crm-sync", env=crm_env(standin))
        apis = team_of_agents(stack)
        browser = Browser()
        pages = [call_screens(browser, stack, out), agent_screens(browser, stack, out, work)[0]]
        inbox_screen(pages[1], stack, out)
        supervisor_listen_screen(supervisor_screen(browser, stack, out), stack, out)
        history_screen(browser, stack, out)
        admin_screens(browser, stack, out)
        reports_screens(browser, stack, out, apis)
        widget_screens(browser, stack, out)
        errors = [e for p in browser.pages for e in p.errors]
        if errors:
            print("console errors:\n" + "\n".join(errors), file=sys.stderr)
            return 1
        del pages
        return 0
    finally:
        if browser:
            browser.close()
        failures = cluster.close()
        if failures:
            print("\n".join(failures), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
