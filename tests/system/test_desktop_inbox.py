"""The desk's chat lists as in any inbox, in headless Chromium: each row has
the customer's name (never a raw id: an unnamed web visitor is "Web visitor
NNNN") with avatar initials, the latest message's preview and time, the
channel's mark and the unread count; a long name never overflows its card;
the open conversation stays open after a page refresh; a closed chat shows
when it closed and its result; the history page searches by customer, text,
date, queue, agent and result, for supervisors and admins only. Every page
is checked by axe-core; no console error, failed load or CSP violation is
allowed."""
import datetime
import re

import pytest

from browser import Browser
from harness import ADMIN_PASSWORD, Api
from test_chat_webchat import Customer
from test_desktop import SLOW, make_stack, no_errors, sign_in, status_is
from test_registry_objects import make
from test_routing import wait_until


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def page(browser):
    p = browser.page()
    yield p
    p.close()


@pytest.fixture
def stack(cluster):
    return make_stack(cluster)


def item(chat_id):
    return f"document.querySelector('#chat-list .chat-item[data-chat=\"{chat_id}\"]')"


def accept_next(page):
    """Accepts the invitation ringing now; returns its chat id."""
    page.wait("!!document.querySelector('.invite')", SLOW)
    chat_id = page.eval("document.querySelector('.invite').dataset.chat")
    page.click("Accept")
    page.wait(f"!!{item(chat_id)}", SLOW)
    return chat_id


def test_chat_list_rows_unread_counts_and_refresh(stack, page):
    admin = stack["admin"]
    # two chats at once for wanda
    assert admin.patch(f"/api/v1/queues/{stack['queue']['id']}", {"max_concurrent_chats": 3}).status_code == 200
    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait(status_is("ready"), SLOW)
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)

    lucja = Customer(stack["chat"], stack["channel"]["id"], name="Łucja Kowalska")
    lucja.say("Dzień dobry, mam pytanie o fakturę")
    first = accept_next(page)
    anon = Customer(stack["chat"], stack["channel"]["id"], name="")
    anon.say("hello?")
    page.wait("!!document.querySelector('.invite')", SLOW)
    invite = page.eval("document.querySelector('.invite h3').textContent")
    assert re.fullmatch(r"Chat from Web visitor \d{4}", invite), invite
    second = accept_next(page)

    # the rows: names, initials, previews, times, the channel's mark
    page.wait(f"{item(first)}.querySelector('.name').textContent === 'Łucja Kowalska'", SLOW)
    assert page.eval(f"{item(first)}.querySelector('.avatar').textContent") == "ŁK"
    assert page.eval(f"{item(first)}.querySelector('.src-icon').getAttribute('aria-label')") == "Web chat"
    assert page.eval(f"{item(first)}.querySelector('.snippet').textContent") == "Dzień dobry, mam pytanie o fakturę"
    assert re.fullmatch(r"\d{1,2}:\d{2}( [AP]M)?", page.eval(f"{item(first)}.querySelector('time').textContent"))
    visitor = page.eval(f"{item(second)}.querySelector('.name').textContent")
    assert re.fullmatch(r"Web visitor \d{4}", visitor), visitor
    assert page.eval(f"{item(second)}.querySelector('.avatar').textContent") == "WV"
    names = page.eval("[...document.querySelectorAll('.chat-item .name, .invite h3, #conv-title, [data-field=Name]')]"
                      ".map(e => e.textContent)")
    assert names and not any("wcs_" in n or "chn_" in n or "cht_" in n for n in names), names
    page.wait(f"document.getElementById('conv-title').textContent === {visitor!r}", SLOW)  # it opened on Accept

    # the visitor writes twice while the agent reads Łucja's chat: a count of 2
    page.click_element(item(first))
    page.wait("document.getElementById('conv-title').textContent === 'Łucja Kowalska'", SLOW)
    anon.say("are you there?")
    anon.say("my order is 1234")
    page.wait(f"{item(second)}.dataset.unread === '2'", SLOW)
    assert page.eval(f"{item(second)}.querySelector('.badge').textContent") == "2"
    assert page.eval(f"{item(second)}.querySelector('.snippet').textContent") == "my order is 1234"
    wanda = Api(stack["gw"]).login("wanda", "password-wanda")
    listed = {c["id"]: c for c in wanda.get("/api/v1/chats?view=active").json()["items"]}
    assert listed[second]["unread"] == 2 and listed[second]["last_text"] == "my order is 1234"
    assert listed[first]["unread"] == 0
    # a message in the chat that is open counts as read (the server is told)
    lucja.say("Numer FV/2026/117")
    page.wait("[...document.querySelectorAll('.msg.customer')].some(e => e.textContent.includes('FV/2026/117'))", SLOW)
    assert page.eval(f"{item(first)}.dataset.unread") == "0"
    wait_until(lambda: {c["id"]: c for c in wanda.get("/api/v1/chats?view=active").json()["items"]}[first]["unread"]
               == 0, SLOW)
    # opening the visitor's chat reads it
    page.click_element(item(second))
    page.wait(f"{item(second)}.dataset.unread === '0' && !{item(second)}.querySelector('.badge')", SLOW)
    wait_until(lambda: {c["id"]: c for c in wanda.get("/api/v1/chats?view=active").json()["items"]}[second]["unread"]
               == 0, SLOW)

    # a very long name stays inside its card
    Customer(stack["chat"], stack["channel"]["id"], name="Bartholomew-" + "x" * 80 + " Montgomery").say("hi")
    third = accept_next(page)
    for chat_id in (first, second, third):
        fits = page.eval(f"""(() => {{ const b = {item(chat_id)}, p = document.querySelector('.chats-panel');
            const r = b.getBoundingClientRect(), q = p.getBoundingClientRect();
            return b.scrollWidth <= b.clientWidth + 1 && r.right <= q.right + 0.5; }})()""")
        assert fits, chat_id
    page.assert_accessible("desk with three chats")

    # the open conversation survives a refresh
    page.click_element(item(second))
    page.wait(f"document.getElementById('conv-title').textContent === {visitor!r}", SLOW)
    page.eval("location.reload()")
    page.wait("document.readyState === 'complete' && !!window.__cc", SLOW)
    page.wait(f"!!document.getElementById('conv-title') && document.getElementById('conv-title').textContent === {visitor!r}",
              SLOW)
    page.wait(f"{item(second)}.getAttribute('aria-current') === 'true'", SLOW)
    page.wait("[...document.querySelectorAll('.msg.customer')].some(e => e.textContent.includes('my order is 1234'))",
              SLOW)
    no_errors(page)


def test_closed_chats_show_when_and_the_result_and_history_searches(stack, page):
    admin = stack["admin"]
    solved = make(admin, "/api/v1/results", {"name": "Solved"})
    make(admin, "/api/v1/results", {"name": "Escalated"})
    wanda = Api(stack["gw"]).login("wanda", "password-wanda")
    assert wanda.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200

    def handle(name, text, result=None):
        Customer(stack["chat"], stack["channel"]["id"], name=name).say(text)
        offer = wait_until(lambda: (wanda.get("/api/v1/me/offers").json()["items"] or [None])[0], SLOW)
        cid = offer["chat_id"]
        assert wanda.post(f"/api/v1/chats/{cid}/accept", {}).status_code == 200
        if result:
            assert wanda.patch(f"/api/v1/chats/{cid}", {"result_id": result}).status_code == 200
        assert wanda.post(f"/api/v1/chats/{cid}/end", {}).status_code == 200
        assert wanda.put("/api/v1/me/status", {"state": "waiting"}).status_code == 200  # wrap-up ended
        return cid

    a = handle("Anna Nowak", "Where is my invoice?", solved["id"])
    b = handle("Piotr Zieliński", "The router blinks red")

    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    page.click("Closed", exact=False)
    page.wait(f"!!{item(a)} && !!{item(b)}", SLOW)
    assert page.eval(f"{item(a)}.classList.contains('closed')")
    closed_a = page.eval(f"{item(a)}.querySelector('.item-closed').textContent")
    assert closed_a.startswith("Closed ") and closed_a.endswith(" · Solved"), closed_a
    assert page.eval(f"{item(b)}.querySelector('.item-closed').textContent").endswith(" · no result")
    assert page.eval(f"{item(a)}.querySelector('.snippet').textContent") == "Where is my invoice?"
    # an agent has no history
    assert not page.eval("[...document.querySelectorAll('#nav a')].some(a => a.textContent === 'History')")
    assert wanda.get("/api/v1/chats?view=history").status_code == 403
    page.eval("location.hash = '#/history'")
    page.wait("location.hash === '#/desk'")
    page.click("Sign out")

    # the supervisor searches the history
    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("location.hash === '#/supervisor'")
    page.click("History")
    page.wait("location.hash === '#/history'")
    rows = "[...document.querySelectorAll('#history-body tr[data-chat]')].map(r => r.dataset.chat)"
    page.wait(f"{rows}.length === 2", SLOW)
    assert page.eval(rows) == [b, a]  # newest first
    page.assert_accessible("history")

    def search(**fields):
        page.click("Clear")
        page.wait(f"{rows}.length === 2 && !document.querySelector('.history-form [type=submit]').disabled", SLOW)
        for label, value in fields.items():
            page.fill(label.replace("_", " "), value)
        page.click("Search")

    search(Message_text="INVOICE")
    page.wait(f"JSON.stringify({rows}) === JSON.stringify([{a!r}])", SLOW)
    search(Customer="zieliń")
    page.wait(f"JSON.stringify({rows}) === JSON.stringify([{b!r}])", SLOW)
    search(Result="Solved")
    page.wait(f"JSON.stringify({rows}) === JSON.stringify([{a!r}])", SLOW)
    search(Result="Escalated")
    page.wait("document.getElementById('history-count').textContent === 'No chats match.'", SLOW)
    search(Agent="Wanda Agent", Queue="Web")
    page.wait(f"{rows}.length === 2", SLOW)
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    page.eval(f"""(() => {{ const i = __cc.control('From'); i.value = {tomorrow!r};
                 i.dispatchEvent(new Event('input', {{bubbles: true}})); }})()""")
    page.click("Search")
    page.wait("document.getElementById('history-count').textContent === 'No chats match.'", SLOW)
    page.click("Clear")
    page.wait(f"{rows}.length === 2", SLOW)
    row_a = f"document.querySelector('#history-body tr[data-chat=\"{a}\"]')"
    text = page.eval(f"{row_a}.innerText")
    assert "Anna Nowak" in text and "Solved" in text and "Wanda Agent" in text and "Web" in text
    page.click("Open the chat with Anna Nowak")
    page.wait(f"location.hash === '#/chat/{a}' && !!document.querySelector('.record .profile-list')", SLOW)
    page.wait("document.getElementById('conv-title').textContent === 'Anna Nowak'", SLOW)
    no_errors(page)

    # the API: bad filters are 400, the admin finds the same
    admin_hist = admin.get("/api/v1/chats", view="history", text="router").json()["items"]
    assert [c["id"] for c in admin_hist] == [b]
    assert admin.get("/api/v1/chats", view="history", since="yesterday").status_code == 400


def test_history_for_the_admin_is_accessible(stack, page):
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash === '#/admin/users'")
    page.click("History")
    page.wait("document.getElementById('history-count').textContent === 'No chats match.'", SLOW)
    page.assert_accessible("history, empty")
    no_errors(page)
