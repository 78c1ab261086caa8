"""The customer's side of a web chat in headless Chromium (issue 17): the
widget with the channel's title, colour and language, the pre-chat form,
the agent's name once joined, timestamps, emoji and a file both ways, the
typing indicator both ways, a refresh mid-chat on both sides (the widget
keeps its open panel and its chat, the desk its conversation), the closing
message of the queue in the chat's language when the agent ends the chat and
a new chat from the widget; the widget on a phone-sized screen; the channel
page with its snippet, test page and webhook URLs; and the refusals of the
API behind it. No page logs a console error, fails a load or breaks its
Content-Security-Policy; axe-core finds no serious or critical violation."""
import json

import pytest
import requests

from browser import Browser
from harness import ADMIN_PASSWORD, Api, start_stack
from test_calls_api import start_calls
from test_chat_webchat import PNG
from test_desktop import SLOW, no_errors, sign_in, status_is
from test_registry_objects import make, skill, team, user
from test_routing import wait_until

CLOSING_PL = "Dziękujemy za rozmowę! Zapraszamy ponownie."


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def pages(browser):
    made = []

    def new():
        p = browser.page()
        made.append(p)
        return p
    yield new
    for p in made:
        p.close()


@pytest.fixture
def shop(cluster):
    """A web-chat channel "Sklep Ola" (purple, Polish, name and e-mail
    required) into a chat queue with a Polish closing message, and the agent
    wanda (first name Wanda)."""
    admin = start_stack(cluster)
    start_calls(cluster)  # skill-router, and call-router: the desk lists calls too
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    t = team(admin, "Shop team", chat_invite_timeout_s=120, wrap_up_time_s=0)
    s = skill(admin, "Shop")
    q = make(admin, "/api/v1/queues", {"name": "Shop", "channel": "chat", "skill_id": s["id"],
                                       "team_ids": [t["id"]],
                                       "closing_messages": [{"language": "pl", "text": CLOSING_PL},
                                                            {"language": "", "text": "Bye for now!"}]})
    ch = make(admin, "/api/v1/channels", {
        "type": "webchat", "name": "Shop site", "queue_id": q["id"], "credentials": {},
        "webchat": {"title": "Sklep Ola", "color": "#6a1b9a", "prechat": "required", "language": "pl"}})
    u = user(admin, "wanda", first_name="Wanda", last_name="Agent",
             agent={"enabled": True, "team_id": t["id"]})
    assert admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 50}).status_code == 200
    return {"admin": admin, "chat": chat, "channel": ch, "queue": q, "agent_id": u["id"]}


def widget_page(page, shop):
    page.goto(f"{shop['chat'].base}/webchat/demo/{shop['channel']['id']}")
    page.wait("!!document.querySelector('.ccw-launcher') && "
              "getComputedStyle(document.querySelector('.ccw-launcher')).position === 'fixed'")


def front(page):
    """Brings the page's tab to the front: keys and text go to the focused tab."""
    page.conn.send("Page.bringToFront")
    return page


def log_texts(page):
    return page.eval("[...document.querySelectorAll('.ccw-log li')].map(e => e.className + '|' + e.innerText)")


def test_customer_and_agent_from_the_prechat_form_to_a_new_chat(shop, pages, tmp_path):
    desk, cust = pages(), pages()
    gw = shop["admin"].base
    sign_in(desk, gw, "wanda", "password-wanda")
    desk.wait(status_is("ready"), SLOW)
    desk.click("Callcenter")
    desk.wait(status_is("callcenter", "waiting"), SLOW)

    # the widget in the channel's language, title and colour
    widget_page(cust, shop)
    cust.wait("document.querySelector('.ccw-launcher').innerText.includes('Czat z nami')")
    cust.click("Czat z nami")
    cust.wait("!document.querySelector('.ccw-panel').hidden")
    assert cust.eval("document.querySelector('.ccw-title').textContent") == "Sklep Ola"
    assert cust.eval("getComputedStyle(document.querySelector('.ccw-head')).backgroundColor") == "rgb(106, 27, 154)"
    assert cust.eval("document.querySelector('.ccw').lang") == "pl"
    # the pre-chat form: both required, then a session with the name and e-mail
    cust.wait("!!__cc.control('Imię i nazwisko')")
    cust.click("Rozpocznij czat")
    cust.wait("document.querySelector('.ccw-error').textContent === 'Podaj imię i adres e-mail.'")
    assert cust.eval("localStorage.getItem('cc-webchat-" + shop["channel"]["id"] + "')") is None
    cust.fill("Imię i nazwisko", "Łucja Nowak")
    cust.fill("E-mail", "lucja@example.com")
    cust.click("Rozpocznij czat")
    cust.wait("!!__cc.control('Wiadomość')")
    cust.fill("Wiadomość", "Dzień dobry, gdzie moja paczka?")
    cust.press("Enter")
    cust.wait("[...document.querySelectorAll('.ccw-log li.cc-in')].some(e => e.dataset.state === 'sent')", SLOW)
    assert cust.eval("document.querySelector('.ccw-status').textContent") == "Wkrótce odpowiemy"

    # the desk's invitation carries the customer's name; accept
    desk.wait("[...document.querySelectorAll('.invite')].some(e => e.innerText.includes('Łucja Nowak'))", SLOW)
    desk.click("Accept")
    desk.wait("[...document.querySelectorAll('.msg.customer')].some(e => e.textContent.includes('paczka'))", SLOW)
    chat_id = desk.eval("document.querySelector('#chat-list .chat-item').dataset.chat")
    c = shop["admin"].get(f"/api/v1/chats/{chat_id}").json()
    assert c["name"] == "Łucja Nowak" and c["email"] == "lucja@example.com" and c["language"] == "pl"
    assert c["agent_name"] == "Wanda"

    # the widget names the agent (initials in the avatar) once joined
    cust.wait("document.querySelector('.ccw-status').textContent === 'Rozmawiasz z: Wanda'", SLOW)
    assert cust.eval("document.querySelector('.ccw-avatar').textContent") == "W"
    assert any("Wanda dołącza do czatu" in t for t in log_texts(cust))

    # typing, both ways
    front(desk).focus("Message")
    desk.type("Sprawdzam")
    cust.wait("document.querySelector('.ccw-typing').textContent === 'Wanda pisze…'", SLOW)
    front(cust).focus("Wiadomość")
    cust.type("Numer to 123")
    desk.wait("document.querySelector('.typing').textContent === 'Łucja Nowak is typing…'", SLOW)
    cust.press("Enter")
    desk.wait("[...document.querySelectorAll('.msg.customer')].some(e => e.textContent.includes('Numer to 123'))",
              SLOW)
    desk.wait("document.querySelector('.typing').textContent === ''")
    front(desk).focus("Message")
    desk.press("Enter")
    cust.wait("[...document.querySelectorAll('.ccw-log li.cc-out')].some(e => e.innerText.includes('Sprawdzam'))",
              SLOW)
    cust.wait("document.querySelector('.ccw-typing').textContent === ''")
    # every message has its time; the agent's carries the agent's name
    out = cust.eval("[...document.querySelectorAll('.ccw-log li.cc-out')].map(e => e.innerText)")
    assert out and all(t.startswith("Wanda") for t in out), out
    assert cust.eval("[...document.querySelectorAll('.ccw-log li.cc-in, .ccw-log li.cc-out')]"
                     ".every(e => /\\b\\d{1,2}:\\d\\d\\b/.test(e.querySelector('time').textContent))")

    # an emoji and a file from the customer
    front(cust).click("Emoji")
    cust.click("thumbs up")
    assert cust.eval("__cc.control('Wiadomość').value") == "👍"
    cust.click("Wyślij")
    desk.wait("[...document.querySelectorAll('.msg.customer')].some(e => e.textContent.includes('👍'))", SLOW)
    png = tmp_path / "paragon.png"
    png.write_bytes(PNG)
    cust.set_files(".ccw-file", [str(png)])
    desk.wait("[...document.querySelectorAll('.msg.customer .att-image img')]"
              ".some(i => i.complete && i.naturalWidth > 0)", SLOW)
    cust.wait("[...document.querySelectorAll('.ccw-log li.cc-in')].some(e => e.dataset.text === 'paragon.png'"
              " && e.dataset.state === 'sent' && !!e.querySelector('a'))", SLOW)

    # a refresh mid-chat on both sides
    before = log_texts(cust)
    cust.goto(f"{shop['chat'].base}/webchat/demo/{shop['channel']['id']}")
    cust.wait("!!document.querySelector('.ccw-panel') && !document.querySelector('.ccw-panel').hidden", SLOW)
    cust.wait("document.querySelectorAll('.ccw-log li.cc-out').length >= 1", SLOW)
    cust.wait("document.querySelector('.ccw-status').textContent === 'Rozmawiasz z: Wanda'")
    after = [t for t in log_texts(cust) if "dołącza" not in t]
    assert len(after) == len([t for t in before if "dołącza" not in t]), (before, after)
    desk.goto(gw + "/")
    desk.wait(f"!!document.querySelector('#chat-list .chat-item[data-chat=\"{chat_id}\"]')", SLOW)
    front(desk).click_css(f"#chat-list .chat-item[data-chat=\"{chat_id}\"]")
    desk.wait("[...document.querySelectorAll('.msg.customer')].some(e => e.textContent.includes('paczka'))", SLOW)
    desk.focus("Message")
    desk.type("Paczka jest w drodze")
    desk.press("Enter")
    cust.wait("[...document.querySelectorAll('.ccw-log li.cc-out')].some(e => e.innerText.includes('w drodze'))",
              SLOW)

    # the panel minimized: an unread badge for the next reply, the state kept across a reload
    front(cust).click("Zminimalizuj czat")
    cust.wait("document.querySelector('.ccw-panel').hidden")
    front(desk).focus("Message")
    desk.type("Coś jeszcze?")
    desk.press("Enter")
    cust.wait("document.querySelector('.ccw-badge').textContent === '1' && !document.querySelector('.ccw-badge').hidden",
              SLOW)
    cust.goto(f"{shop['chat'].base}/webchat/demo/{shop['channel']['id']}")
    cust.wait("!!document.querySelector('.ccw-launcher') && !document.querySelector('.ccw-launcher').hidden")
    assert cust.eval("document.querySelector('.ccw-panel').hidden")
    front(cust).click("Czat z nami")
    cust.wait("[...document.querySelectorAll('.ccw-log li.cc-out')].some(e => e.innerText.includes('Coś jeszcze?'))",
              SLOW)

    # the agent ends the chat: the queue's Polish closing message and the end
    front(desk).click("End chat")
    desk.wait("document.getElementById('confirm').open")
    desk.click("Yes")
    cust.wait(f"[...document.querySelectorAll('.ccw-log li.cc-bot')].some(e => e.innerText === {json.dumps(CLOSING_PL)})",
              SLOW)
    cust.wait("!document.querySelector('.ccw-ended').hidden", SLOW)
    assert cust.eval("document.querySelector('.ccw-ended p').textContent") == "Czat został zakończony."
    assert cust.eval("document.querySelector('.ccw-form').hidden")
    msgs = shop["admin"].get(f"/api/v1/chats/{chat_id}/messages").json()["items"]
    assert msgs[-1]["author"] == "bot" and msgs[-1]["text"] == CLOSING_PL and msgs[-1]["delivery"] == "sent"
    # the ended chat stays ended after a reload, until a new one is started
    cust.goto(f"{shop['chat'].base}/webchat/demo/{shop['channel']['id']}")
    cust.wait("!document.querySelector('.ccw-ended').hidden", SLOW)
    front(cust).click("Rozpocznij nowy czat")
    cust.wait("document.querySelectorAll('.ccw-log li').length === 0 && !document.querySelector('.ccw-form').hidden")
    cust.goto(f"{shop['chat'].base}/webchat/demo/{shop['channel']['id']}")
    cust.wait("!document.querySelector('.ccw-panel').hidden && !!__cc.control('Wiadomość')", SLOW)
    assert cust.eval("document.querySelectorAll('.ccw-log li').length") == 0
    cust.fill("Wiadomość", "Jeszcze jedno pytanie")
    cust.press("Enter")
    desk.wait("[...document.querySelectorAll('.invite')].some(e => e.innerText.includes('Jeszcze jedno pytanie'))",
              SLOW)
    second = wait_until(lambda: next((o["chat_id"] for o in Api(gw).login("wanda", "password-wanda")
                                      .get("/api/v1/me/offers").json()["items"]), None), SLOW)
    assert second != chat_id
    assert shop["admin"].get(f"/api/v1/chats/{second}").json()["name"] == "Łucja Nowak"
    no_errors(cust)
    no_errors(desk)


def test_widget_on_a_phone_and_accessible(shop, browser):
    phone = Browser(width=390, height=780)
    try:
        page = phone.page()
        page.conn.send("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 780,
                                                               "deviceScaleFactor": 2, "mobile": True})
        widget_page(page, shop)
        page.assert_accessible("the closed widget")
        page.click("Czat z nami")
        page.wait("!!__cc.control('Imię i nazwisko')")
        # the panel takes the whole screen on a phone
        box = page.eval("(() => { const r = document.querySelector('.ccw-panel').getBoundingClientRect();"
                        " return [r.left, r.top, r.width, r.height]; })()")
        assert box == [0, 0, 390, 780], box
        page.assert_accessible("the pre-chat form")
        page.fill("Imię i nazwisko", "Ola")
        page.fill("E-mail", "ola@example.com")
        page.click("Rozpocznij czat")
        page.wait("!!__cc.control('Wiadomość')")
        page.fill("Wiadomość", "Z telefonu")
        page.press("Enter")
        page.wait("[...document.querySelectorAll('.ccw-log li.cc-in')].some(e => e.dataset.state === 'sent')", SLOW)
        page.click("Emoji")
        page.assert_accessible("the open chat")
        # the composer stays on screen, inside the panel
        bottom = page.eval("document.querySelector('.ccw-form').getBoundingClientRect().bottom")
        assert 700 < bottom <= 780, bottom
        no_errors(page)
    finally:
        phone.close()


def test_widget_speaks_the_visitors_language(shop, pages):
    """No channel language: the browser's (English here), Spanish or
    Ukrainian by data-lang."""
    shop["admin"].patch(f"/api/v1/channels/{shop['channel']['id']}", {"webchat": {"language": None,
                                                                               "prechat": "off"}})
    base, ch = shop["chat"].base, shop["channel"]["id"]
    page = pages()
    page.goto(f"{base}/webchat/demo/{ch}")
    page.wait("document.querySelector('.ccw-launcher') && document.querySelector('.ccw-launcher').innerText.includes('Chat with us')",
              SLOW)
    page.click("Chat with us")
    page.wait("!!__cc.control('Message')")
    assert page.eval("__cc.control('Message').placeholder") == "Write a message…"
    for lang, launcher, label in (("es", "Chatea con nosotros", "Mensaje"), ("uk", "Напишіть нам", "Повідомлення")):
        page.eval(f"""(() => {{ document.querySelector('.ccw').remove();
            const s = document.createElement('script'); s.src = '{base}/webchat/widget.js';
            s.dataset.channel = '{ch}'; s.dataset.lang = '{lang}'; document.body.append(s); }})()""")
        page.wait(f"[...document.querySelectorAll('.ccw-launcher')].some(e => e.innerText.includes('{launcher}'))"
                  " || (!!document.querySelector('.ccw-panel') && !document.querySelector('.ccw-panel').hidden"
                  f" && !!__cc.control('{label}'))", SLOW)
        page.wait(f"!!__cc.control('{label}')", SLOW)
    no_errors(page)


def test_channel_page_shows_the_snippet_test_page_and_webhook_urls(shop, pages):
    admin, chat = shop["admin"], shop["chat"]
    tg = make(admin, "/api/v1/channels", {"type": "telegram", "name": "Bot", "queue_id": shop["queue"]["id"],
                                         "api_base_url": "http://127.0.0.1:9",
                                         "credentials": {"bot_token": "1:x", "secret_token": "s3cret"}})
    # the API: admins only
    setup = admin.get(f"/api/v1/channels/{shop['channel']['id']}/setup").json()
    assert setup["snippet"] == (f'<script src="{chat.base}/webchat/widget.js" data-channel="{shop["channel"]["id"]}"'
                                f' data-base="{chat.base}" async></script>')
    assert setup["test_page_url"] == f"{chat.base}/webchat/demo/{shop['channel']['id']}"
    assert admin.get(f"/api/v1/channels/{tg['id']}/setup").json()["webhook_url"] == \
        f"{chat.base}/webhooks/telegram/{tg['id']}"
    agent = Api(admin.base).login("wanda", "password-wanda")
    assert agent.get(f"/api/v1/channels/{tg['id']}/setup").status_code == 403
    assert admin.get("/api/v1/channels/chn_nope/setup").status_code == 404

    page = pages()
    sign_in(page, admin.base, "admin", ADMIN_PASSWORD)
    page.wait("location.hash !== '#/signin'", SLOW)
    page.goto(admin.base + "/#/admin/channels")
    page.click("Edit Shop site", timeout=SLOW)
    page.wait("!!document.querySelector('.channel-setup textarea.code')", SLOW)
    assert page.eval("document.querySelector('.channel-setup textarea.code').value") == setup["snippet"]
    href = page.eval("__cc.button('Open the test page').href")
    assert href == setup["test_page_url"]
    # the widget's settings on the form, changed there
    assert page.eval("__cc.control('Title').value") == "Sklep Ola"
    assert page.eval("__cc.control('Colour').value") == "#6a1b9a"
    page.fill("Title", "Ola's shop")
    page.fill("Before the chat", "Ask nothing")
    page.click("Save")
    wait_until(lambda: admin.get(f"/api/v1/channels/{shop['channel']['id']}").json()["webchat"]
               .get("title") == "Ola's shop", SLOW)
    got = admin.get(f"/api/v1/channels/{shop['channel']['id']}").json()["webchat"]
    assert got["prechat"] == "off" and got["color"] == "#6a1b9a" and got["language"] == "pl"
    # a provider channel shows the webhook URL to register
    page.wait("document.getElementById('toast').textContent === 'Saved channel Shop site.'"
              " && !!document.querySelector('.channel-setup textarea.code')", SLOW)
    page.click("Edit Bot", timeout=SLOW)
    page.wait("!!document.querySelector('.channel-setup input.code')", SLOW)
    assert page.eval("document.querySelector('.channel-setup input.code').value") == setup_url(chat, tg)
    assert "Register this webhook URL with Telegram" in page.eval("document.querySelector('.channel-setup').innerText")
    page.assert_accessible("the channel page")
    # the queue's closing messages on its form
    page.goto(admin.base + "/#/admin/queues")
    page.click("Edit Shop", timeout=SLOW)
    page.wait("!!__cc.control('Closing message (Polish)')", SLOW)
    assert page.eval("__cc.control('Closing message (Polish)').value") == CLOSING_PL
    page.fill("Closing message (Spanish)", "¡Gracias!")
    page.click("Save")
    page.wait("document.getElementById('toast').textContent === 'Saved queue Shop.'", SLOW)
    wait_until(lambda: {m["language"]: m["text"] for m in admin.get(f"/api/v1/queues/{shop['queue']['id']}")
                        .json()["closing_messages"]} == {"pl": CLOSING_PL, "es": "¡Gracias!", "": "Bye for now!"},
               SLOW)
    # the test page the link names holds the widget, with the new title
    page.goto(href)
    page.wait("!!document.querySelector('.ccw-title') && document.querySelector('.ccw-title').textContent === \"Ola's shop\"",
              SLOW)
    no_errors(page)


def setup_url(chat, ch):
    return f"{chat.base}/webhooks/telegram/{ch['id']}"


def test_refusals_of_the_widget_api(shop):
    base, ch = shop["chat"].base, shop["channel"]["id"]
    admin = shop["admin"]
    post = lambda body: requests.post(f"{base}/webchat/v1/{ch}/sessions", json=body, timeout=10)  # noqa: E731
    # required pre-chat: name and e-mail, a real-looking e-mail, a language tag
    assert post({}).status_code == 400
    assert post({"name": "Ola"}).status_code == 400
    assert post({"name": "   ", "email": "o@example.com"}).status_code == 400
    assert post({"name": "Ola", "email": "not-an-email"}).status_code == 400
    assert post({"name": "Ola", "email": "o@example.com", "language": "polish!"}).status_code == 400
    assert post({"name": "Ola", "email": 5}).status_code == 400
    r = post({"name": "Ola", "email": "o@example.com", "language": "pl-PL"})
    assert r.status_code == 201, r.text
    sid, token = r.json()["session_id"], r.json()["token"]
    # config is public; typing and files need the token
    cfg = requests.get(f"{base}/webchat/v1/{ch}/config", timeout=10).json()
    assert cfg == {"title": "Sklep Ola", "color": "#6a1b9a", "prechat": "required", "language": "pl"}
    assert requests.get(f"{base}/webchat/v1/chn_nope/config", timeout=10).status_code == 404
    assert requests.post(f"{base}/webchat/v1/sessions/{sid}/typing", timeout=10).status_code == 401
    assert requests.post(f"{base}/webchat/v1/sessions/{sid}/typing", headers={"X-Webchat-Token": token},
                         timeout=10).status_code == 204
    assert requests.post(f"{base}/webchat/v1/sessions/{sid}/files?name=a.png", data=PNG, timeout=10).status_code == 401
    assert requests.post(f"{base}/webchat/v1/sessions/{sid}/files?name=a.png", data=b"",
                         headers={"X-Webchat-Token": token}, timeout=10).status_code == 400
    # the registry refuses bad widget settings and closing messages
    chp = f"/api/v1/channels/{ch}"
    for bad in ({"color": "purple"}, {"color": "#12345g"}, {"prechat": "maybe"}, {"language": "Polish"},
                {"title": "x" * 101}, {"title": "   "}):
        r = admin.patch(chp, {"webchat": bad})
        assert r.status_code == 400, (bad, r.text)
    qp = f"/api/v1/queues/{shop['queue']['id']}"
    for bad in ([{"language": "pl", "text": ""}], [{"language": "pl", "text": "a"}, {"language": "pl", "text": "b"}],
                [{"language": "p!", "text": "a"}], [{"text": "x" * 1001}]):
        r = admin.patch(qp, {"closing_messages": bad})
        assert r.status_code == 400, (bad, r.text)
    tg_q = make(admin, "/api/v1/queues", {"name": "Other", "channel": "chat", "skill_id": shop["queue"]["skill_id"]})
    r = admin.post("/api/v1/channels", {"type": "telegram", "name": "T", "queue_id": tg_q["id"],
                                        "api_base_url": "http://127.0.0.1:9",
                                        "credentials": {"bot_token": "1:x", "secret_token": "s"},
                                        "webchat": {"title": "no"}})
    assert r.status_code == 400 and "webchat" in r.text


def test_widget_embedded_on_a_page_of_another_origin(shop, pages):
    """The snippet on a customer's site (another origin the channel allows):
    settings, pre-chat form, messages, a file, typing and the end all work
    across origins, with no console error."""
    from test_chat_webchat_guard import Site
    chat, admin, ch = shop["chat"], shop["admin"], shop["channel"]
    site = Site(chat.base, ch["id"])
    try:
        assert admin.patch(f"/api/v1/channels/{ch['id']}",
                           {"allowed_origins": [site.origin]}).status_code == 200
        agent = Api(admin.base).login("wanda", "password-wanda")
        agent.put("/api/v1/me/status", {"status": "callcenter"})
        page = pages()
        page.goto(site.origin + "/")
        page.wait("!!document.querySelector('.ccw-launcher') && document.querySelector('.ccw-launcher')"
                  ".innerText.includes('Czat z nami')", SLOW)
        assert page.eval("document.querySelector('.ccw-title').textContent") == "Sklep Ola"
        page.click("Czat z nami")
        page.fill("Imię i nazwisko", "Jan Obcy")
        page.fill("E-mail", "jan@example.org")
        page.click("Rozpocznij czat")
        page.wait("!!__cc.control('Wiadomość')")
        page.fill("Wiadomość", "Piszę z innej strony")
        page.press("Enter")
        page.wait("[...document.querySelectorAll('.ccw-log li.cc-in')].some(e => e.dataset.state === 'sent')", SLOW)
        chat_id = wait_until(lambda: next((o["chat_id"] for o in agent.get("/api/v1/me/offers").json()["items"]),
                                          None), SLOW)
        assert agent.post(f"/api/v1/chats/{chat_id}/accept").status_code == 200
        page.wait("document.querySelector('.ccw-status').textContent === 'Rozmawiasz z: Wanda'", SLOW)
        assert agent.post(f"/api/v1/chats/{chat_id}/typing", {}).status_code == 200
        page.wait("document.querySelector('.ccw-typing').textContent === 'Wanda pisze…'", SLOW)
        png = "/tmp/cc-widget-cross.png"
        with open(png, "wb") as f:
            f.write(PNG)
        page.set_files(".ccw-file", [png])
        wait_until(lambda: any(m.get("attachments") for m in
                               agent.get(f"/api/v1/chats/{chat_id}/messages").json()["items"]), SLOW)
        assert agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "Witamy!"}).status_code == 200
        page.wait("[...document.querySelectorAll('.ccw-log li.cc-out')].some(e => e.innerText.includes('Witamy!'))",
                  SLOW)
        assert agent.post(f"/api/v1/chats/{chat_id}/end").status_code == 200
        page.wait(f"[...document.querySelectorAll('.ccw-log li.cc-bot')].some(e => e.innerText === {json.dumps(CLOSING_PL)})"
                  " && !document.querySelector('.ccw-ended').hidden", SLOW)
        assert agent.get(f"/api/v1/chats/{chat_id}").json()["name"] == "Jan Obcy"
        no_errors(page)
    finally:
        site.close()
