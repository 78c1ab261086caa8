"""The desk's Reports page (reports.js) in headless Chromium (browser.py):
calls are made the way a PBX makes them (call-router's /pbx/v1 over plain
HTTP: two answered and hung up, one abandoned), then the supervisor's page
must show the queue and agent figures of the JSON API — every row, the
totals and the charts' points — and its CSV buttons must save the API's
CSV. An agent has no Reports entry (and the API refuses them); an
administrator sets the organisation's time zone without losing the
permission switches. No page may log a console error, throw, or fail to
load anything."""
import csv
import io
import json
import math
import os
import time
from datetime import datetime

import pytest

from browser import Browser
from harness import ADMIN_PASSWORD, Api
from test_desktop import make_stack, no_errors, sign_in
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
    return make_stack(cluster)


@pytest.fixture
def page(browser):
    p = browser.page()
    yield p
    p.close()


# --- the page's number formats, written again here -------------------------------------------

def clock(seconds):
    seconds = max(0, math.floor(seconds))
    hh, mm, ss = seconds // 3600, seconds % 3600 // 60, seconds % 60
    return f"{hh}:{mm:02d}:{ss:02d}" if hh else f"{mm:02d}:{ss:02d}"


def secs(s):
    if not s:
        return "0.0 s"
    return f"{s:.1f} s" if s < 60 else clock(math.floor(s + 0.5))


def percent(within, offered):
    return f"{math.floor(100 * within / offered + 0.5)} %" if offered else "—"


def ms(t):
    return datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()


def total(rows):
    """The figures of several rows as the page adds them up."""
    t = {k: sum(r[k] for r in rows) for k in ("offered", "answered", "abandoned", "timed_out",
                                               "answered_within", "callbacks")}
    ans = t["answered"]
    t["asa_s"] = sum(r["asa_s"] * r["answered"] for r in rows) / ans if ans else 0
    t["aht_s"] = sum(r["aht_s"] * r["answered"] for r in rows) / ans if ans else 0
    t["longest_wait_s"] = max([0] + [r["longest_wait_s"] for r in rows])
    return t


def shown(r):
    """The queue table's cells for a row of the JSON answer."""
    return {"offered": str(r["offered"]), "answered": str(r["answered"]),
            "abandoned": str(r["abandoned"]), "timed_out": str(r["timed_out"]),
            "service_level": percent(r["answered_within"], r["offered"]), "asa": secs(r["asa_s"]),
            "aht": secs(r["aht_s"]), "longest_wait": secs(r["longest_wait_s"]),
            "callbacks": str(r["callbacks"])}


def cells(page, tr):
    return page.eval(f"(() => {{ const tr = {tr}; if (!tr) return null;"
                     " return Object.fromEntries([...tr.querySelectorAll('td[data-k]')]"
                     ".map((td) => [td.dataset.k, td.textContent])); })()")


# --- a world with calls -------------------------------------------------------------------------

def make_calls(stack):
    """Wanda answers two Hotline calls (the second after a wait) and a
    third is abandoned; returns the call records once ended."""
    pbx, admin, hotline = stack["pbx"], stack["admin"], stack["hotline"]["id"]
    wanda = Api(stack["gw"]).login("wanda", "password-wanda")
    assert wanda.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
    ids = []
    for n, (wait, talk) in enumerate(((0, 0.4), (1.2, 0.8)), 1):
        ids.append(pbx.call(f"rep-{n}@pbx", hotline, CALLER))
        time.sleep(wait)
        pbx.answered(f"rep-{n}@pbx")
        time.sleep(talk)
        pbx.event(f"rep-{n}@pbx", "hangup", by="caller")
        # the team's wrap-up would keep her busy: ended by hand
        wait_until(lambda: wanda.get("/api/v1/me/status").json().get("state") == "post_processing", SLOW)
        assert wanda.put("/api/v1/me/status", {"state": "waiting"}).status_code == 200
    assert wanda.put("/api/v1/me/status", {"status": "dnd"}).status_code == 200
    ids.append(pbx.call("rep-3@pbx", hotline, "+48600100300"))
    time.sleep(0.5)
    pbx.event("rep-3@pbx", "abandoned")
    assert wanda.put("/api/v1/me/status", {"status": "ready"}).status_code == 200  # closes the dnd stretch
    recs = [admin.get(f"/api/v1/calls/{i}").json() for i in ids]
    assert [bool(r["answered_at"]) for r in recs] == [True, True, False]
    return recs


def counted(api, hotline, recs):
    """The queue report once every stage of the calls is counted."""
    talks = [ms(r["ended_at"]) - ms(r["answered_at"]) for r in recs if r["answered_at"]]

    def ready():
        rows = [r for r in api.get("/api/v1/reports/queues", interval="hour").json()["items"]
                if r["queue_id"] == hotline]
        t = total(rows)
        done = (t["offered"], t["answered"], t["abandoned"]) == (3, 2, 1) and \
            abs(t["aht_s"] - sum(talks) / 2) < 0.01
        return rows if done else None
    return wait_until(ready, SLOW)


def test_supervisor_sees_the_apis_figures_and_downloads_them_as_csv(stack, page, tmp_path):
    admin, hotline = stack["admin"], stack["hotline"]["id"]
    sam = Api(stack["gw"]).login("sam", "password-sam")
    recs = make_calls(stack)
    counted(sam, hotline, recs)

    sign_in(page, stack["gw"], "sam", "password-sam")
    page.wait("location.hash === '#/supervisor'")
    page.click("Reports")
    page.wait("location.hash === '#/reports' && !!document.querySelector('#queue-report tr.total')", SLOW)
    js = sam.get("/api/v1/reports/queues", interval="hour").json()
    assert page.eval("document.getElementById('rep-tz').dataset.tz") == js["time_zone"] == "UTC"
    assert "Times in UTC" in page.eval("document.getElementById('rep-tz').textContent")
    today = js["items"][0]["local_start"][:10]
    assert page.eval("[document.getElementById('rep-from').value, document.getElementById('rep-to').value]") \
        == [today, today]

    # every interval with calls, each queue's total and the grand total
    queues = {}
    for r in js["items"]:
        queues.setdefault(r["queue_id"], []).append(r)
    assert set(queues) == {hotline, stack["queue"]["id"]}  # sam's two queues
    busy = [r for r in queues[hotline] if r["offered"] or r["answered"] or r["abandoned"]]
    assert busy and sum(r["offered"] for r in busy) == 3
    shown_rows = page.eval("document.querySelectorAll('#queue-report tr[data-kind=interval]').length")
    assert shown_rows == len(busy)  # the quiet intervals are left out
    for r in busy:
        tr = f"document.querySelector('#queue-report tr[data-queue=\"{hotline}\"][data-start=\"{r['start']}\"]')"
        assert cells(page, tr) == shown(r), r
        assert page.eval(f"{tr}.querySelector('th').textContent") == "Hotline"
    for qid, rows in queues.items():
        got = cells(page, f"document.querySelector('#queue-report tr.total[data-queue=\"{qid}\"]')")
        assert got == shown(total(rows)), qid
    grand = cells(page, "document.querySelector('#queue-report tr.grand')")
    assert grand == shown(total(js["items"]))
    assert grand["offered"] == "3" and grand["abandoned"] == "1"

    # the charts: a service level point per interval with calls, the calls stacked
    sl = page.eval("[...document.querySelectorAll('#chart-sl circle')].map((c) => +c.dataset.v)")
    want = [100 * r["answered_within"] / r["offered"] for r in total_by_interval(js) if r["offered"]]
    assert sl == pytest.approx(want)
    for cls, key in (("answered", "answered"), ("abandoned", "abandoned")):
        bars = page.eval(f"[...document.querySelectorAll('#chart-calls rect.{cls}')].map((b) => +b.dataset.v)")
        assert sum(bars) == sum(r[key] for r in js["items"]), cls
    longest = page.eval("Math.max(0, ...[...document.querySelectorAll('#chart-wait rect.longest')].map((b) => +b.dataset.v))")
    assert longest == pytest.approx(max(r["longest_wait_s"] for r in js["items"]))

    # the agents per day
    agents = sam.get("/api/v1/reports/agents").json()["items"]
    mine = next(a for a in agents if a["agent_id"] == stack["agent_id"])
    assert mine["handled"] == 2
    tr = f"document.querySelector('#agent-report tr[data-agent=\"{stack['agent_id']}\"]')"
    got = cells(page, tr)
    want = {t["name"]: clock(t["seconds"]) for t in mine["time_in"]}
    want.update(handled="2", aht=secs(mine["aht_s"]), missed_offers=str(mine["missed"]))
    assert got == want
    assert page.eval(f"{tr}.querySelector('th').textContent") == "Wanda Agent"
    assert page.eval(f"{tr}.children[1].textContent") == today

    # the CSV buttons save what the API answers as CSV, the JSON's rows
    page.allow_downloads(tmp_path)
    for kind, name, params in (("queues", f"queues-{today}_{today}-hour.csv", {"interval": "hour"}),
                               ("agents", f"agents-{today}_{today}.csv", {})):
        page.click(f"Download {kind} CSV")
        path = tmp_path / name
        wait_until(lambda: path.exists() and path.stat().st_size > 0, SLOW)
        text = path.read_bytes().decode("utf-8")  # byte for byte: CRLF lines kept
        api_csv = sam.call("GET", f"/api/v1/reports/{kind}", headers={"Accept": "text/csv"},
                           **{"from": today, "to": today, **params})
        assert api_csv.status_code == 200 and text == api_csv.text
        rows = list(csv.DictReader(io.StringIO(text)))
        items = sam.get(f"/api/v1/reports/{kind}", **params).json()["items"]
        assert len(rows) == len(items) > 0
        for got, want in zip(rows, items):
            for k, v in want.items():
                if isinstance(v, bool):
                    assert got[k] == json.dumps(v), k
                elif isinstance(v, (int, float)):
                    assert float(got[k]) == pytest.approx(v, abs=1e-6), k
                elif isinstance(v, str):
                    assert got[k] == v, k
    assert sorted(os.listdir(tmp_path)) == sorted([f"queues-{today}_{today}-hour.csv", f"agents-{today}_{today}.csv"])

    # one queue, by 15 minutes: the table and the charts follow
    page.fill("Queue", "Hotline")
    page.wait("document.querySelectorAll('#queue-report tr.grand').length === 0")
    page.fill("Interval", "15 minutes")
    page.wait("document.querySelector('#queue-report').dataset.interval === '15m'", SLOW)
    q15 = sam.get("/api/v1/reports/queues", interval="15m", queue_id=hotline).json()["items"]
    assert len(q15) == 96
    for r in (r for r in q15 if r["offered"]):
        tr = f"document.querySelector('#queue-report tr[data-queue=\"{hotline}\"][data-start=\"{r['start']}\"]')"
        assert cells(page, tr) == shown(r)
    assert page.eval("document.querySelectorAll('#queue-report tr.total').length") == 1
    no_errors(page)


def total_by_interval(js):
    """The rows of every queue added up per interval, in order."""
    by = {}
    for r in js["items"]:
        by.setdefault(r["start"], []).append(r)
    return [total(rows) for _, rows in sorted(by.items())]


def test_an_agent_has_no_reports(stack, page):
    wanda = Api(stack["gw"]).login("wanda", "password-wanda")
    for kind in ("queues", "agents"):
        r = wanda.get(f"/api/v1/reports/{kind}")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    sign_in(page, stack["gw"], "wanda", "password-wanda")
    page.wait("location.hash === '#/desk'")
    page.wait("document.querySelectorAll('#nav a').length > 0")
    assert page.eval("[...document.querySelectorAll('#nav a')].map((a) => a.textContent)") == ["Desk"]
    page.eval("location.hash = '#/reports'")
    page.wait("location.hash === '#/desk'")
    assert page.eval("document.getElementById('queue-report')") is None
    no_errors(page)


def test_administrator_sets_the_time_zone_and_keeps_the_switches(stack, page):
    admin = stack["admin"]
    p = admin.get("/api/v1/settings/permissions").json()
    p["agent"]["manage_public_canned"] = True
    assert admin.put("/api/v1/settings/permissions", p).status_code == 200
    sign_in(page, stack["gw"], "admin", ADMIN_PASSWORD)
    page.wait("location.hash === '#/admin/users'")
    assert "Reports" in page.eval("[...document.querySelectorAll('#nav a')].map((a) => a.textContent)")
    page.click("Time zone")
    page.wait("document.getElementById('tz-current').dataset.tz === 'UTC'", SLOW)

    def saved(zone):
        page.wait(f"document.getElementById('toast').textContent === 'Time zone saved: {zone}.'", SLOW)
        page.wait(f"document.getElementById('tz-current').dataset.tz === '{zone}'", SLOW)
        got = admin.get("/api/v1/settings/permissions").json()
        assert got["organisation"]["time_zone"] == zone
        assert got["agent"]["manage_public_canned"] is True  # the switches stay

    page.fill("Time zone", "Europe/Warsaw")
    assert "Now in Europe/Warsaw:" in page.eval("document.getElementById('tz-now').textContent")
    page.click("Save")
    saved("Europe/Warsaw")

    # a name of the user's own: checked before it is sent
    page.fill("Time zone", "Other…")
    page.fill("Other time zone (IANA name)", "Mars/Olympus")
    page.wait("document.getElementById('tz-now').textContent === 'Mars/Olympus is not a known time zone.'")
    page.click("Save")
    page.wait("document.getElementById('toast').textContent.startsWith('Mars/Olympus is not a known time zone')")
    assert admin.get("/api/v1/settings/permissions").json()["organisation"]["time_zone"] == "Europe/Warsaw"
    page.fill("Other time zone (IANA name)", "Asia/Kathmandu")
    page.click("Save")
    saved("Asia/Kathmandu")
    # a zone outside the list comes back as Other with its name
    page.click("Permissions")
    page.click("Time zone")
    page.wait("document.getElementById('tz-current').dataset.tz === 'Asia/Kathmandu'", SLOW)
    assert page.eval("[__cc.control('Time zone').value, __cc.control('Other time zone (IANA name)').value]") \
        == ["other", "Asia/Kathmandu"]

    # saving the switches keeps the time zone
    page.click("Permissions")
    page.fill("Manage quick replies", False)
    page.click("Save")
    page.wait("document.getElementById('toast').textContent === 'Permissions saved.'", SLOW)
    got = admin.get("/api/v1/settings/permissions").json()
    assert got["agent"]["manage_public_canned"] is False
    assert got["organisation"]["time_zone"] == "Asia/Kathmandu"

    # the reports follow it: today in Kathmandu, rows at its local hours
    page.click("Reports")
    page.wait("document.getElementById('rep-tz').dataset.tz === 'Asia/Kathmandu'", SLOW)
    js = admin.get("/api/v1/reports/queues", interval="hour").json()
    assert js["items"][0]["local_start"].endswith("T00:00:00+05:45")
    assert page.eval("document.getElementById('rep-from').value") == js["items"][0]["local_start"][:10]
    no_errors(page)
