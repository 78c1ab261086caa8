"""The desk's CRM block and the admin's CRM pages in a real browser (headless Chromium,
tests/system/browser.py), against the stand-in Creatio: an agent identifies a chat's
customer (search, Link) and creates a case from the chat, the links pointing into the
CRM; an administrator edits the CRM settings (a secret stays write-only) and sees the
sync status page. No console error, failed load or CSP violation is allowed."""
import pytest

import creatio_standin as cs
from browser import Browser
from crm_helpers import crm_env, rows
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
    yield p
    p.close()


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


def test_agent_identifies_the_customer_and_creates_a_case_from_the_chat(stack, standin, page):
    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait(status_is("ready"), SLOW)
    page.click("Callcenter")
    page.wait(status_is("callcenter", "waiting"), SLOW)
    Customer(stack["chat"], stack["channel"]["id"], name="Olena K.").say("My router is broken")
    page.wait("!!document.querySelector('.invite')", SLOW)
    page.click("Accept")
    page.wait("!!document.querySelector('.crm-panel')", SLOW)
    chat_id = page.eval("document.querySelector('#chat-list .chat-item').dataset.chat")
    page.fill("Search contacts", "kovalenko")
    page.click("Search")
    page.wait("!!__cc.button('Link Olena Kovalenko')", SLOW)
    page.click("Link Olena Kovalenko")
    page.wait("!!document.querySelector('[data-crm=contact_id] a.crm-link')", SLOW)
    href = page.eval("document.querySelector('[data-crm=contact_id] a').href")
    assert href.endswith("ContactPageV2/edit/" + cs.CONTACT_1)
    page.fill("Subject", "Router broken")
    page.click("Create case")
    page.wait("!!document.querySelector('[data-crm=case_id] a.crm-link')", SLOW)
    case_id = stack["admin"].get(f"/api/v1/chats/{chat_id}").json()["links"]["case_id"]
    case = rows(standin, "Case", "Id", case_id)[0]
    assert case["Subject"] == "Router broken" and case["ContactId"] == cs.CONTACT_1
    assert "My router is broken" in case["Symptoms"]
    assert page.eval("document.querySelector('[data-crm=case_id] a').href").endswith("CasePageV2/edit/" + case_id)
    no_errors(page)


def test_admin_edits_the_crm_settings_and_sees_the_sync_status(stack, page):
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash.startsWith('#/admin')", SLOW)
    page.click("CRM settings")
    page.wait("!!__cc.control('Record links') && __cc.control('CRM type').value === 'creatio'", SLOW)
    assert page.eval("__cc.control('Password').value") == ""
    assert "Set" in page.eval("__cc.control('Password').placeholder")
    page.fill("Record links", "https://crm.example.org/{object}/{id}")
    page.fill("Client secret", "s3cret-value")
    page.click("Save")
    page.wait("document.getElementById('toast').textContent === 'CRM settings saved.'", SLOW)
    s = stack["admin"].get("/api/v1/crm/settings").json()
    assert s["ui_url"] == "https://crm.example.org/{object}/{id}" and s["has_client_secret"] is True
    assert page.eval("__cc.control('Client secret').value") == ""
    page.click("CRM sync")
    page.wait("!!document.querySelector('[data-field=\"Backlog\"]')", SLOW)
    assert page.eval("document.querySelector('[data-field=CRM]').textContent") == "creatio"
    assert "No failures." in page.eval("document.querySelector('.crm-failures').innerText")
    no_errors(page)
