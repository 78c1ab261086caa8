"""Historical reports (SPEC 7b): a scripted stretch of a day with calls
(answered quickly and slowly, abandoned, missed), pauses, an agent archived
and one deleted, then the queue and agent reports compared with a recount
made here from the raw material: the call records and every status event of
the supervisor's event stream. Also: the organisation's time zone with its
23- and 25-hour days, CSV equal to JSON, scope and bad input, and every
record counted once however often it is delivered."""
import csv
import io
import json
import os
import subprocess
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from harness import SAN_ENV, UNIT_DIR, Api, start_stack
from test_calls_pbx import Pbx
from test_registry_objects import make, skill, team, user
from test_routing import agent, state, wait_until
from test_status_api import Stream
from test_chat_webchat import Customer

TZ = "Europe/Warsaw"


def ms(t):
    return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)


class Events(threading.Thread):
    """Every status event of /monitor/events, kept in arrival order."""

    def __init__(self, admin):
        super().__init__(daemon=True)
        self.stream = Stream(admin.base, "/api/v1/monitor/events", admin.token, timeout=30)
        self.items, self.stop = [], False
        self.start()

    def run(self):
        while not self.stop:
            f = self.stream.frame()
            if f is None:
                return
            if f.get("event") == "status":
                self.items.append(json.loads(f["data"]))


def recount_time_in(events, agent_id):
    """Seconds per state of the closed stretches, from the agent's events by version."""
    mine = sorted({e["version"]: e for e in events if e["agent_id"] == agent_id}.values(),
                  key=lambda e: e["version"])
    out = defaultdict(float)
    for a, b in zip(mine, mine[1:]):
        if a["status"] == "offline":
            continue
        name = a.get("state") or a["status"] if a["status"] == "callcenter" else a["status"]
        out[name] += (ms(b["state_since"]) - ms(a["state_since"])) / 1000.0
    return out


@pytest.fixture
def w(cluster):
    admin = start_stack(cluster)
    cluster.start("skill-router")
    cr = cluster.start("call-router")
    chatgw = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    assert admin.put("/api/v1/settings/permissions",
                     {"organisation": {"time_zone": TZ}}).status_code == 200
    t = team(admin, "Day", call_offer_timeout_s=10, no_answer_delay_s=0, wrap_up_time_s=0)
    s = skill(admin, "Phones")
    q = make(admin, "/api/v1/queues", {"name": "Sales line", "channel": "call",
                                       "skill_id": s["id"], "service_level_s": 2})
    other = make(admin, "/api/v1/queues", {"name": "Other line", "channel": "call",
                                           "skill_id": s["id"]})
    chats = make(admin, "/api/v1/queues", {"name": "Web chat", "channel": "chat",
                                           "skill_id": s["id"], "service_level_s": 2})
    site = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Site",
                                            "queue_id": chats["id"], "credentials": {}})
    world = {"admin": admin, "team": t, "skill": s, "queue": q["id"], "other": other["id"],
             "pbx": Pbx(cr), "cluster": cluster, "chats": chats["id"], "site": site["id"],
             "chatgw": chatgw}
    # skill-router knows both queues once it takes a call in the later one (not counted below)
    wait_until(lambda: world["pbx"].create("probe", other["id"]).status_code == 201, timeout=20)
    world["pbx"].event("probe", "abandoned")
    return world


def report(api, kind, **params):
    r = api.get(f"/api/v1/reports/{kind}", **params)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_scripted_stretch_of_a_day_matches_a_recount(w):
    admin, pbx, q = w["admin"], w["pbx"], w["queue"]
    events = Events(admin)
    coffee = make(admin, "/api/v1/pause-causes", {"name": "Coffee", "limit_minutes_per_day": 1,
                                                   "allow_agent": True})
    a, api_a = agent(w, "rita", sip_account="rita@pbx")
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    started = datetime.now(timezone.utc) - timedelta(minutes=1)
    calls = []
    # 1: answered at once, talked 0.4 s, the agent hangs up
    pbx.create("d1", q)
    calls.append(pbx.create("d1", q).json()["interaction_id"])
    o = pbx.offer("d1")
    pbx.event("d1", "answered", o["offer_id"])
    # 2: arrives while rita talks, waits 2.5 s (beyond the 2 s service level)
    pbx.create("d2", q)
    calls.append(pbx.create("d2", q).json()["interaction_id"])
    time.sleep(0.4)
    pbx.event("d1", "hangup", by="agent")
    o = pbx.offer("d2")
    pbx.event("d2", "no_answer", o["offer_id"])  # rita misses it once
    o = pbx.offer("d2")  # no missed delay in this team: offered to her again
    time.sleep(2.2)
    pbx.event("d2", "answered", o["offer_id"])
    time.sleep(0.3)
    pbx.event("d2", "hangup", by="caller")
    # a web chat: rita accepts it after 1.2 s, ends it 0.5 s later
    customer = Customer(w["chatgw"].base, w["site"], name="Ola")
    customer.say("Dzień dobry")
    chat_id = wait_until(lambda: next((o["chat_id"] for o in api_a.get("/api/v1/me/offers")
                                       .json()["items"]), None), timeout=10)
    time.sleep(1.2)
    assert api_a.post(f"/api/v1/chats/{chat_id}/accept", {}).status_code == 200
    time.sleep(0.5)
    assert api_a.post(f"/api/v1/chats/{chat_id}/end", {}).status_code == 200
    wait_until(lambda: state(w, a)["state"] == "waiting")
    # 3: abandoned while nobody is free (rita pauses for coffee)
    wait_until(lambda: state(w, a)["state"] == "waiting")
    api_a.put("/api/v1/me/status", {"state": "pause", "pause_cause_id": coffee["id"]})
    pbx.create("d3", q)
    calls.append(pbx.create("d3", q).json()["interaction_id"])
    time.sleep(1.2)
    pbx.event("d3", "abandoned")
    api_a.put("/api/v1/me/status", {"state": "waiting"})
    # a second agent works one call, then is archived; a third is deleted
    b, api_b = agent(w, "sam", sip_account="sam@pbx")
    api_a.put("/api/v1/me/status", {"status": "dnd"})
    api_b.put("/api/v1/me/status", {"status": "callcenter"})
    pbx.create("d4", q)
    calls.append(pbx.create("d4", q).json()["interaction_id"])
    o = pbx.offer("d4")
    assert o["agent_id"] == b
    pbx.event("d4", "answered", o["offer_id"])
    time.sleep(0.2)
    pbx.event("d4", "hangup", by="caller")
    wait_until(lambda: state(w, b)["state"] == "waiting")
    assert admin.post(f"/api/v1/users/{b}/archive").status_code == 200
    c, api_c = agent(w, "tom", sip_account="tom@pbx")
    api_c.put("/api/v1/me/status", {"status": "dnd"})
    time.sleep(0.3)
    api_c.put("/api/v1/me/status", {"status": "ready"})
    assert admin.delete(f"/api/v1/users/{c}").status_code == 204
    api_a.put("/api/v1/me/status", {"status": "ready"})  # closes rita's dnd stretch
    ended = datetime.now(timezone.utc) + timedelta(minutes=1)

    # the recount, from the call and chat records
    chat = admin.get(f"/api/v1/chats/{chat_id}").json()
    recs = [admin.get(f"/api/v1/calls/{i}").json() for i in calls]
    answered = [r for r in recs if r["answered_at"]]
    waits = [(ms(r["answered_at"]) - ms(r["enqueued_at"])) / 1000 for r in answered]
    talks = [(ms(r["ended_at"]) - ms(r["answered_at"])) / 1000 for r in answered]
    longest = max(waits + [(ms(r["ended_at"]) - ms(r["enqueued_at"])) / 1000
                           for r in recs if not r["answered_at"]])
    span = {"from": started.isoformat().replace("+00:00", "Z"),
            "to": ended.isoformat().replace("+00:00", "Z")}

    def totals():
        rows = report(admin, "queues", interval="15m", queue_id=q, **span)["items"]
        return rows, sum(r["offered"] for r in rows)

    rows, _ = wait_until(lambda: (lambda t: t if t[1] == 4 else None)(totals()), timeout=15)
    tot = {k: sum(r[k] for r in rows) for k in ("offered", "answered", "abandoned",
                                                 "answered_within", "timed_out")}
    assert tot == {"offered": 4, "answered": 3, "abandoned": 1, "timed_out": 0,
                   "answered_within": sum(1 for x in waits if x <= 2)}
    assert tot["answered_within"] == 2
    busiest = [r for r in rows if r["answered"]]
    asa = sum(r["asa_s"] * r["answered"] for r in busiest) / 3
    aht = sum(r["aht_s"] * r["answered"] for r in busiest) / 3
    assert asa == pytest.approx(sum(waits) / 3, abs=0.002)
    assert aht == pytest.approx(sum(talks) / 3, abs=0.002)
    assert max(r["longest_wait_s"] for r in rows) == pytest.approx(longest, abs=0.002)
    assert {r["queue_name"] for r in rows} == {"Sales line"}
    assert all(r["service_level_s"] == 2 for r in rows)
    # the chat queue: one chat, answered after its wait, handled until it ended
    chat_wait = (ms(chat["start_time"]) - ms(chat["created_at"])) / 1000
    chat_talk = (ms(chat["end_time"]) - ms(chat["start_time"])) / 1000
    crows = wait_until(lambda: (lambda rs: rs if sum(r["answered"] for r in rs) == 1 else None)(
        report(admin, "queues", interval="day", queue_id=w["chats"], **span)["items"]))
    busy_chat = [r for r in crows if r["offered"]]
    assert len(busy_chat) == 1 and busy_chat[0]["offered"] == 1
    assert busy_chat[0]["answered_within"] == (1 if chat_wait <= 2 else 0)
    assert busy_chat[0]["asa_s"] == pytest.approx(chat_wait, abs=0.002)
    assert busy_chat[0]["aht_s"] == pytest.approx(chat_talk, abs=0.002)
    # hours and the whole day hold the same figures
    for interval in ("hour", "day"):
        got = report(admin, "queues", interval=interval, queue_id=q, **span)["items"]
        assert sum(r["offered"] for r in got) == 4 and sum(r["answered"] for r in got) == 3
    # the agents, against the raw status events
    time.sleep(0.5)
    events.stop = True
    agents = {r["agent_id"]: r for r in report(admin, "agents", **span)["items"]}
    assert agents[a]["handled"] == 3 and agents[a]["missed"] == 1 and agents[b]["handled"] == 1
    assert agents[a]["aht_s"] == pytest.approx((sum(talks[:2]) + chat_talk) / 3, abs=0.002)
    assert agents[b]["archived"] is True and agents[b]["name"] not in ("", "deleted user")
    assert agents[c]["deleted"] is True and agents[c]["name"] == "deleted user"
    for who in (a, b):
        got = {t["name"]: t["seconds"] for t in agents[who]["time_in"] if t["seconds"]}
        want = {k: v for k, v in recount_time_in(events.items, who).items() if v}
        assert got.keys() == want.keys(), (got, want)
        for k in want:
            assert got[k] == pytest.approx(want[k], abs=0.002), k
    pause = agents[a]["pauses"][0]
    assert pause["pause_cause_id"] == coffee["id"] and pause["name"] == "Coffee"
    assert pause["limit_s"] == 60 and pause["seconds"] >= 1.2 and pause["over_limit"] is False
    assert agents[a]["day"] == datetime.now(ZoneInfo(TZ)).strftime("%Y-%m-%d")


def test_csv_holds_the_json_figures(w):
    admin, pbx, q = w["admin"], w["pbx"], w["queue"]
    a, api_a = agent(w, "uma", sip_account="uma@pbx")
    api_a.put("/api/v1/me/status", {"status": "callcenter"})
    pbx.create("c1", q)
    o = pbx.offer("c1")
    pbx.event("c1", "answered", o["offer_id"])
    pbx.event("c1", "hangup", by="caller")
    wait_until(lambda: sum(r["answered"] for r in report(admin, "queues", interval="hour")["items"]))
    for kind, params in (("queues", {"interval": "hour"}), ("agents", {})):
        js = report(admin, kind, **params)
        r = admin.call("GET", f"/api/v1/reports/{kind}", headers={"Accept": "text/csv"}, **params)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert len(rows) == len(js["items"])
        for got, want in zip(rows, js["items"]):
            for k, v in want.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    assert float(got[k]) == pytest.approx(v, abs=1e-6), k
                elif isinstance(v, str):
                    assert got[k] == v, k
            for t in want.get("time_in", []):
                assert float(got[t["name"] + "_s"]) == pytest.approx(t["seconds"], abs=1e-6)


def test_days_follow_the_organisations_time_zone(w):
    admin, q = w["admin"], w["queue"]
    spring = report(admin, "queues", interval="hour", queue_id=q, **{"from": "2026-03-29",
                                                                     "to": "2026-03-29"})
    assert len(spring["items"]) == 23 and spring["time_zone"] == TZ
    assert spring["items"][0]["start"] == "2026-03-28T23:00:00.000Z"
    assert spring["items"][0]["local_start"] == "2026-03-29T00:00:00+01:00"
    assert spring["items"][2]["local_start"] == "2026-03-29T03:00:00+02:00"
    autumn = report(admin, "queues", interval="hour", queue_id=q, **{"from": "2026-10-25",
                                                                     "to": "2026-10-25"})
    assert len(autumn["items"]) == 25
    locals_ = [r["local_start"] for r in autumn["items"]]
    assert "2026-10-25T02:00:00+02:00" in locals_ and "2026-10-25T02:00:00+01:00" in locals_
    day = report(admin, "queues", interval="day", queue_id=q, **{"from": "2026-10-25",
                                                                 "to": "2026-10-26"})["items"]
    assert [(r["start"], r["end"]) for r in day] == [
        ("2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z"),
        ("2026-10-25T23:00:00.000Z", "2026-10-26T23:00:00.000Z")]
    quarters = report(admin, "queues", interval="15m", queue_id=q,
                      **{"from": "2026-03-29", "to": "2026-03-29"})["items"]
    assert len(quarters) == 23 * 4
    r = admin.put("/api/v1/settings/permissions", {"organisation": {"time_zone": "Mars/Olympus"}})
    assert r.status_code == 400 and "time_zone" in r.json()["error"]["message"]
    r = admin.put("/api/v1/settings/permissions", {"organisation": {"time_zone": "../../etc/passwd"}})
    assert r.status_code == 400


def test_scope_and_bad_requests(w):
    admin = w["admin"]
    boss = user(admin, "boss", role="supervisor")
    admin.patch(f"/api/v1/queues/{w['queue']}", {"supervisor_ids": [boss["id"]]})
    sup = Api(admin.base).login("boss", "password-boss")
    names = {r["queue_name"] for r in report(sup, "queues", interval="day")["items"]}
    assert names == {"Sales line"}
    everyone = {r["queue_name"] for r in report(admin, "queues", interval="day")["items"]}
    assert everyone == {"Sales line", "Other line", "Web chat"}
    _, api_agent = agent(w, "vic")
    assert api_agent.get("/api/v1/reports/queues").status_code == 403
    assert api_agent.get("/api/v1/reports/agents").status_code == 403
    for params in ({"interval": "week"}, {"from": "yesterday", "to": "2026-01-01"},
                   {"from": "2026-01-01"}, {"from": "2026-02-01", "to": "2026-01-01"},
                   {"from": "2024-01-01", "to": "2026-01-01"},
                   {"interval": "15m", "from": "2026-01-01", "to": "2026-03-01"}):
        r = admin.get("/api/v1/reports/queues", **params)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", params


def test_each_record_counts_once_however_often_it_arrives(w):
    admin, q = w["admin"], w["queue"]
    now = datetime.now(timezone.utc)
    lines = []
    for i in range(300):
        enq = now - timedelta(seconds=60 + i)
        rec = {"kind": "call", "id": f"call_bulk{i}", "version": 3,
               "call": {"id": f"call_bulk{i}", "direction": "inbound", "queue_id": q,
                        "agent_id": "agent-x", "state": "ended",
                        "enqueued_at": enq.isoformat().replace("+00:00", "Z"),
                        "answered_at": (enq + timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
                        "ended_at": (enq + timedelta(seconds=31)).isoformat().replace("+00:00", "Z"),
                        "outcome": "answered"}}
        lines.append(json.dumps(rec))
        rec2 = dict(rec, version=4)  # a later version of the same call: counted once
        lines.append(json.dumps(rec2))
    env = dict(os.environ, CC_TEST_NATS_URL=w["cluster"].nats.url, **SAN_ENV)
    for _ in range(2):  # and the whole batch delivered twice
        out = subprocess.run([os.path.join(UNIT_DIR, "it_records_publish")], input="\n".join(lines),
                             env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
    span = {"from": (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "to": (now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")}

    def answered():
        return sum(r["answered"] for r in report(admin, "queues", interval="day", queue_id=q,
                                                 **span)["items"])

    wait_until(lambda: answered() >= 300, timeout=60)
    time.sleep(1)
    rows = report(admin, "queues", interval="day", queue_id=q, **span)["items"]
    assert sum(r["offered"] for r in rows) == 300 and answered() == 300
    assert sum(r["answered_within"] for r in rows) == 300
    assert sum(r["aht_s"] * r["answered"] for r in rows) / 300 == pytest.approx(30, abs=0.01)
