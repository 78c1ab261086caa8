"""Every page of the web desktop checked by axe-core (tools/axe, installed by
`make deps`) in headless Chromium: the sign-in page, the agent desk (empty,
with a chat invitation, with a chat open, the Closed list), a chat's record
page, the chat history, the supervisor view, the Reports page and every
administration page with its editor open. No serious or critical violation
is allowed, nor any console error, failed load or CSP violation (axe is
evaluated over the DevTools connection: the page's policy is not relaxed)."""
import pytest

from browser import Page

import creatio_standin as cs
from browser import Browser
from crm_helpers import crm_env
from harness import ADMIN_PASSWORD
from test_chat_webchat import Customer
from test_desktop import SLOW, make_stack, no_errors, sign_in, status_is


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def page(browser):
    p = browser.page()
    p.found = []  # every violation of the test's pages, reported together at its end
    yield p
    p.close()


def check(page: Page, where):
    page.found += [f"{where}: {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
                   for v in page.axe()]


def none_found(page):
    assert not page.found, "accessibility:\n" + "\n".join(page.found)


@pytest.fixture
def standin():
    st = cs.Standin(page_size=50).start()
    yield st
    st.stop()


@pytest.fixture
def stack(cluster, standin):
    s = make_stack(cluster)
    cluster.start("crm-sync", env=crm_env(standin))
    return s


def test_axe_finds_a_violation_when_there_is_one(stack, page):
    """The check can fail: an unlabelled field and an image without text are reported."""
    page.goto(stack["gw"] + "/")
    page.wait("!!__cc.control('Login')")
    page.eval("""(() => { const i = document.createElement('input'); document.querySelector('main').append(i);
                          const g = document.createElement('img'); g.src = 'favicon.svg';
                          document.querySelector('main').append(g); })()""")
    ids = {v["id"] for v in page.axe()}
    assert {"label", "image-alt"} <= ids, ids


def test_agent_pages_are_accessible(stack, page):
    page.goto(stack["gw"] + "/")
    page.wait("location.hash === '#/signin' && !!__cc.control('Login')")
    check(page, "sign-in")
    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait(status_is("ready"), SLOW)
    check(page, "desk, Ready")
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    cust = Customer(stack["chat"], stack["channel"]["id"], name="Łucja Kowalska")
    cust.say("Dzień dobry, mam pytanie o fakturę")
    page.wait("!!document.querySelector('.invite')", SLOW)
    check(page, "desk with an invitation")
    page.click("Accept")
    page.wait("!!document.querySelector('.msg.customer')", SLOW)
    page.click("Emoji")
    check(page, "desk with a chat open, emoji picker shown")
    page.click("Emoji")
    chat_id = page.eval("document.querySelector('#chat-list .chat-item').dataset.chat")
    page.eval(f"location.hash = '#/chat/{chat_id}'")
    page.wait("!!document.querySelector('.record .profile-list')", SLOW)
    check(page, "chat record page")
    page.click("← Desk")
    page.wait("location.hash === '#/desk'")
    page.click_css("#chat-list .chat-item")
    page.click("End chat", timeout=SLOW)
    page.wait("document.getElementById('confirm').open")
    check(page, "End chat confirmation")
    page.click("Yes")
    page.wait(status_is("callcenter", "post_processing"), SLOW)
    page.click("Closed", exact=False)
    page.wait(f"!!document.querySelector('#chat-list .chat-item[data-chat=\"{chat_id}\"]')", SLOW)
    check(page, "desk, Closed chats, wrap-up")
    no_errors(page)
    none_found(page)


def test_supervisor_and_reports_pages_are_accessible(stack, page):
    Customer(stack["chat"], stack["channel"]["id"], name="Olga").say("Halo?")
    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("location.hash === '#/supervisor'")
    page.wait(f"!!document.querySelector('tr[data-queue=\"{stack['queue']['id']}\"]')", SLOW)
    page.wait("!!document.querySelector('#open-chats-body tr[data-chat]')", SLOW)
    page.click("Trace of Olga", timeout=SLOW)
    page.wait("!!document.querySelector('#trace tr[data-step]')", SLOW)
    check(page, "supervisor")
    page.eval("location.hash = '#/history'")
    page.wait("document.querySelectorAll('#history-body tr[data-chat]').length === 1", SLOW)
    check(page, "history")
    page.eval("location.hash = '#/reports'")
    page.wait("!!document.querySelector('.reports table')", SLOW)
    check(page, "reports")
    no_errors(page)
    none_found(page)


def test_administration_pages_are_accessible(stack, page):
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash === '#/admin/users'")
    sections = page.eval("[...document.querySelectorAll('.admin-nav a')].map(a => a.getAttribute('href'))")
    assert len(sections) >= 12, sections
    for href in sections:
        page.eval(f"location.hash = {href!r}")
        page.wait(f"!!document.querySelector('.admin-nav a[aria-current=page][href=\"{href}\"]')", SLOW)
        page.wait("!!document.querySelector('.admin-body h1, .admin-body h2')", SLOW)
        new = page.eval("(() => { const b = [...document.querySelectorAll('.admin-body button')]"
                        ".find(b => b.textContent.startsWith('New ')); return b ? b.textContent : null; })()")
        if new:  # the object pages: the list and an empty editor
            page.wait(f"!__cc.button({new!r}).disabled", SLOW)
            page.click(new)
            page.wait("!!document.querySelector('.editor form')", SLOW)
        else:
            page.eval("new Promise((r) => setTimeout(r, 500))")  # the page's reads
        check(page, href)
    no_errors(page)
    none_found(page)
