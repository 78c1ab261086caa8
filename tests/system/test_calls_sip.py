"""Phone calls end to end: the reference PBX (deploy/kamailio, started by
tests/system/sip.py on free ports) in front of the real call-router,
skill-router, agent-registry and api-gateway; agents' SIP phones are SIPp
UAS that register to Kamailio, callers are SIPp UAC. Every case checks what
the engine made of the calls afterwards (the agent's state, missed and
wrap-up, active calls, the call record's outcome, hang-up side, agent and
attempts), not only the SIP codes.

One system and one Kamailio serve the whole module (starting them is most of
the cost); each test gets its own team, skill, queue and queue number, so
agents of other tests are never candidates."""
import itertools
import os
import shutil
import tempfile
import time

import pytest

import sip
from harness import PBX_TOKEN, Api, Cluster, start_stack
from test_registry_objects import make, user
from test_routing import Bus, wait_until

_seq = itertools.count(1)


@pytest.fixture(scope="module")
def system():
    workdir = tempfile.mkdtemp(prefix="cc-sip-")
    c = Cluster(workdir)
    world = gateway = None
    try:
        admin = start_stack(c)
        c.start("skill-router")
        cr = c.start("call-router")
        # the far end of agents' outgoing calls
        gateway = sip.Uas(workdir, "gateway", "answer", ring_ms=200).start()
        world = sip.SipWorld(workdir, cr.base + "/pbx/v1", PBX_TOKEN,
                             gateway=f"{sip.IP}:{gateway.port}")
        yield {"cluster": c, "admin": admin, "bus": Bus(c), "sip": world, "workdir": workdir,
               "gateway": gateway}
    finally:
        if gateway:
            gateway.stop()
        problems = world.close() if world else []
        failures = c.close() + problems
        if failures:
            pytest.fail("\n".join(failures))
        if os.environ.get("CC_TEST_KEEP"):
            print(f"\nkept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


class World:
    """One test's team, skill, queue and number, its agents, phones and callers."""

    def __init__(self, system, strategy=None, **team_kw):
        self.system, self.admin, self.bus = system, system["admin"], system["bus"]
        self.sip, self.n = system["sip"], next(_seq)
        settings = {"call_offer_timeout_s": 10, "no_answer_delay_s": 30, "wrap_up_time_s": 0,
                    "chat_invite_timeout_s": 10, **team_kw}
        self.team = make(self.admin, "/api/v1/teams", {"name": f"Team {self.n}", **settings})
        self.skill = make(self.admin, "/api/v1/skills", {"name": f"Voice {self.n}"})
        q = {"name": f"Line {self.n}", "channel": "call", "skill_id": self.skill["id"]}
        if strategy:
            q["strategy"] = strategy
        self.queue = make(self.admin, "/api/v1/queues", q)["id"]
        self.number = f"50{self.n:02d}"
        self.sip.kam.set_number(self.number, self.queue)
        self.phones, self.callers, self.agents = [], [], []
        # skill-router learns the queue from the registry's changes
        wait_until(lambda: self.bus("cc.router.enqueue", "Interaction", "Interaction",
                                    {"id": f"probe-{self.n}", "queue_id": self.queue,
                                     "kind": "call"}, ok=None).get("state"), timeout=30)
        self.bus.act("abandon", f"probe-{self.n}")

    def agent(self, login, status="callcenter", phone="answer", ring_ms=300):
        """An agent of this team with the skill, signed in, `status`, and
        (unless phone is None) a registered SIP phone for sip_account=login."""
        login = f"{login}{self.n}"
        u = user(self.admin, login, agent={"enabled": True, "team_id": self.team["id"]},
                 sip_account=login, agent_number=f"7{self.n:02d}{len(self.agents)}")
        self.admin.put(f"/api/v1/agents/{u['id']}/skills/{self.skill['id']}", {"capacity": 50})
        api = Api(self.admin.base).login(login, "password-" + login)
        ph = self.sip.phone(login, phone, ring_ms) if phone else None
        if status:
            assert api.put("/api/v1/me/status", {"status": status}).status_code == 200
        a = {"id": u["id"], "login": login, "api": api, "phone": ph,
             "number": f"7{self.n:02d}{len(self.agents)}"}
        self.agents.append(a)
        if ph:
            self.phones.append(ph)
        return a

    def call(self, scenario="caller.xml", service=None, **kw):
        c = self.sip.caller(service or self.number, scenario=scenario, **kw)
        self.callers.append(c)
        return c

    def state(self, a):
        return self.admin.get(f"/api/v1/agents/{a['id']}/status").json()

    def wait_state(self, a, want, timeout=10):
        got = {}

        def check():
            got.update(self.state(a))
            return got.get("state") == want

        try:
            wait_until(check, timeout)
        except AssertionError:
            raise AssertionError(f"agent {a['login']} not {want}: {got}") from None
        return got

    def record_of(self, call_id):
        """The call record of the PBX's call `call_id`, as staff see it
        (GET /api/v1/calls as an admin, active and closed)."""
        for view in ("active", "closed"):
            cursor = ""
            while True:
                r = self.admin.get("/api/v1/calls", view=view, limit=100, cursor=cursor)
                assert r.status_code == 200, r.text
                body = r.json()
                for rec in body.get("items", []):
                    if rec.get("call_id") == call_id:
                        return rec
                cursor = body.get("next_cursor") or ""
                if not cursor:
                    break
        return None

    def wait_record(self, call_id, timeout=10, **want):
        got = {}

        def check():
            rec = self.record_of(call_id) or {}
            got.clear()
            got.update(rec)
            return all(rec.get(k) == v for k, v in want.items())

        try:
            wait_until(check, timeout)
        except AssertionError:
            raise AssertionError(f"record of {call_id} is not {want}: {got}") from None
        return got

    def close(self):
        for c in self.callers:
            c.stop()
        for ph in self.phones:
            ph.stop()
        for a in self.agents:  # no candidate for later tests
            a["api"].put("/api/v1/me/status", {"status": "offline"})


@pytest.fixture
def w(system):
    world = World(system)
    yield world
    world.close()


def test_busy_agent_then_the_next_answers_and_the_caller_hangs_up(w):
    busy = w.agent("busy", phone="busy")
    time.sleep(0.05)  # the busy one has waited longest: it is offered first
    good = w.agent("good")
    c = w.call(hold_ms=800)
    assert c.run(30) == 0, c.sipp.log()[-2000:]
    assert busy["phone"].invites() == [c.call_id()]
    assert good["phone"].invites() == [c.call_id()]
    rec = w.wait_record(c.call_id(), state="ended")
    assert rec["outcome"] == "answered" and rec["hangup_by"] == "caller"
    assert rec["agent_id"] == good["id"] and rec["attempts"] == 2
    assert rec["from"] == "600100" and rec["to"] == w.number
    assert float(rec["talk_s"]) >= 0.7
    st = w.state(busy)
    assert st["state"] == "missed" and st["missed_in_row"] == 1
    st = w.wait_state(good, "waiting")
    assert st["active_calls"] == 0


def test_no_answer_puts_the_agent_in_missed_and_the_next_agent_answers(system):
    # the PBX rings ring_s (the offer's time left, whole seconds: < 3 s) and
    # reports no_answer before the engine's own offer timer fires
    w = World(system, call_offer_timeout_s=3)
    try:
        deaf = w.agent("deaf", phone="noanswer")
        time.sleep(0.05)
        good = w.agent("good")
        c = w.call(hold_ms=300)
        t0 = time.time()
        assert c.run(30) == 0, c.sipp.log()[-2000:]
        assert time.time() - t0 >= 1.5  # the first phone rang its ring_s
        assert deaf["phone"].invites() == [c.call_id()]
        assert deaf["phone"].received("CANCEL") == [c.call_id()]  # the ring time ended
        rec = w.wait_record(c.call_id(), state="ended")
        assert rec["outcome"] == "answered" and rec["agent_id"] == good["id"]
        assert rec["attempts"] == 2 and rec["hangup_by"] == "caller"
        assert float(rec["wait_s"]) >= 1.5
        st = w.state(deaf)
        assert st["state"] == "missed" and st["missed_in_row"] == 1 and st["offers"] == 0
        w.wait_state(good, "waiting")
    finally:
        w.close()


def test_caller_cancels_while_the_agent_rings(w):
    a = w.agent("ring", phone="noanswer")
    c = w.call("caller_cancel_ringing.xml", hold_ms=800)
    assert c.run(30) == 0, c.sipp.log()[-2000:]
    assert a["phone"].invites() == [c.call_id()]
    assert a["phone"].received("CANCEL") == [c.call_id()]
    rec = w.wait_record(c.call_id(), state="ended")
    assert rec["outcome"] == "abandoned" and rec["hangup_by"] == "caller"
    assert rec["attempts"] == 1 and not rec.get("answered_at")
    st = w.wait_state(a, "waiting")  # not missed: the caller left
    assert st["offers"] == 0 and st["missed_in_row"] == 0 and st["active_calls"] == 0


def test_caller_cancels_while_waiting_and_is_never_offered(w):
    a = w.agent("late", status="ready")  # signed in, not taking queue calls yet
    c = w.call("caller_cancel_waiting.xml", hold_ms=1500)
    assert c.run(30) == 0, c.sipp.log()[-2000:]
    rec = w.wait_record(c.call_id(), state="ended")
    assert rec["outcome"] == "abandoned" and rec["hangup_by"] == "caller"
    assert rec["attempts"] == 0 and float(rec["wait_s"]) >= 1.4
    assert w.bus("cc.router.get", "OfferAction", "Interaction",
                 {"interaction_id": rec["id"]})["state"] == "ended"
    a["api"].put("/api/v1/me/status", {"status": "callcenter"})
    time.sleep(1.0)
    st = w.state(a)
    assert st["state"] == "waiting" and st["offers"] == 0
    assert a["phone"].invites() == []


def test_the_agent_hangs_up_and_goes_to_wrap_up(system):
    w = World(system, wrap_up_time_s=4)
    try:
        a = w.agent("bye", phone="hangup", ring_ms=700)
        c = w.call("caller_hungup.xml")
        assert c.run(30) == 0, c.sipp.log()[-2000:]
        rec = w.wait_record(c.call_id(), state="ended")
        assert rec["outcome"] == "answered" and rec["hangup_by"] == "agent"
        assert rec["agent_id"] == a["id"] and rec["attempts"] == 1
        assert float(rec["talk_s"]) >= 0.6
        st = w.state(a)
        assert st["state"] == "post_processing" and st["active_calls"] == 0
        time.sleep(1.0)
        assert w.state(a)["state"] == "post_processing"  # wrap_up_time_s is 4
        w.wait_state(a, "waiting", timeout=8)
    finally:
        w.close()


def test_one_agent_four_callers_are_answered_in_order(w):
    a = w.agent("solo", ring_ms=100)
    callers = []
    for _ in range(4):
        callers.append(w.call(hold_ms=400).start())
        time.sleep(0.15)
    for c in callers:
        assert c.wait(40) == 0, c.sipp.log()[-2000:]
    recs = [w.wait_record(c.call_id(), state="ended") for c in callers]
    assert all(r["outcome"] == "answered" and r["agent_id"] == a["id"] and r["attempts"] == 1
               for r in recs)
    # rung (and answered) in the order the calls reached the engine
    arrived = [r["call_id"] for r in sorted(recs, key=lambda r: r["enqueued_at"])]
    assert a["phone"].invites() == arrived
    assert [r["call_id"] for r in sorted(recs, key=lambda r: r["answered_at"])] == arrived
    assert max(float(r["wait_s"]) for r in recs) >= 1.2  # they did wait together
    w.wait_state(a, "waiting")


def test_an_agent_on_a_chat_gets_no_call_until_the_chat_ends(w):
    chats = make(w.admin, "/api/v1/queues", {"name": f"Chats {w.n}", "channel": "chat",
                                            "skill_id": w.skill["id"]})["id"]
    a = w.agent("chatty")
    chat = f"chat-sip-{w.n}"
    wait_until(lambda: w.bus.enqueue(chat, chats, ok=None).get("state"), timeout=20)
    wait_until(lambda: w.bus("cc.router.get", "OfferAction", "Interaction",
                             {"interaction_id": chat})["state"] == "offered")
    w.bus.act("accept", chat, a["id"])
    c = w.call(hold_ms=300).start()
    time.sleep(2.0)
    assert a["phone"].invites() == []  # on a chat: the call waits
    rec = w.wait_record(c.call_id(), state="waiting")
    assert rec["attempts"] == 0
    assert w.state(a)["active_chats"] == 1
    w.bus.act("end", chat)
    assert c.wait(30) == 0, c.sipp.log()[-2000:]
    assert a["phone"].invites() == [c.call_id()]
    rec = w.wait_record(c.call_id(), state="ended")
    assert rec["outcome"] == "answered" and rec["agent_id"] == a["id"]
    assert float(rec["wait_s"]) >= 1.9


def test_a_direct_call_to_a_dnd_agent_is_refused_and_to_a_ready_agent_rings(w):
    a = w.agent("direct", status="dnd")
    no = w.call("caller_refused.xml", service=a["login"])
    assert no.run(20) == 0, no.sipp.log()[-2000:]
    assert no.final_code() == 486
    assert a["phone"].invites() == []
    assert w.record_of(no.call_id()) is None  # refused: nothing stored
    st = w.state(a)
    assert st["status"] == "dnd" and st["active_calls"] == 0
    a["api"].put("/api/v1/me/status", {"status": "ready"})
    yes = w.call(service=a["number"], hold_ms=1500).start()  # by the agent_number
    rec = w.wait_record(yes.call_id(), state="connected")
    assert rec["direction"] == "direct" and rec["agent_id"] == a["id"]
    assert w.state(a)["active_calls"] == 1
    assert yes.wait(30) == 0, yes.sipp.log()[-2000:]
    assert a["phone"].invites() == [yes.call_id()]
    rec = w.wait_record(yes.call_id(), state="ended")
    assert rec["outcome"] == "answered" and rec["hangup_by"] == "caller"
    assert rec["to"] == a["number"] and rec["from"] == "600100"
    st = w.state(a)
    assert st["status"] == "ready" and st["active_calls"] == 0


def test_an_outgoing_call_holds_the_agent(w):
    a = w.agent("dialer")
    gw = w.system["gateway"]
    before = len(gw.invites())
    out = w.call(service="+48700700700", caller=a["login"], hold_ms=2500).start()
    rec = w.wait_record(out.call_id(), state="connected")
    assert rec["direction"] == "outbound" and rec["agent_id"] == a["id"]
    assert rec["to"] == "+48700700700"
    st = w.state(a)
    assert st["state"] == "busy" and st["active_calls"] == 1
    queued = w.call(hold_ms=300).start()  # a queue call meanwhile waits
    time.sleep(1.0)
    assert a["phone"].invites() == []
    assert out.wait(30) == 0, out.sipp.log()[-2000:]
    assert gw.invites()[before:] == [out.call_id()]
    rec = w.wait_record(out.call_id(), state="ended")
    assert rec["outcome"] == "answered" and rec["hangup_by"] == "agent"
    assert queued.wait(30) == 0, queued.sipp.log()[-2000:]  # free again: rung now
    assert a["phone"].invites() == [queued.call_id()]
    assert w.wait_record(queued.call_id(), state="ended")["agent_id"] == a["id"]


def test_ring_all_rings_every_phone_and_the_first_answer_wins(system):
    w = World(system, strategy="ring_all")
    try:
        slow = w.agent("slow", phone="noanswer")
        fast = w.agent("fast", ring_ms=300)
        c = w.call(hold_ms=300)
        assert c.run(30) == 0, c.sipp.log()[-2000:]
        assert slow["phone"].invites() == [c.call_id()] == fast["phone"].invites()
        t_slow = slow["phone"].first_time("INVITE")
        t_fast = fast["phone"].first_time("INVITE")
        assert abs(t_slow - t_fast) < 0.25  # in parallel, not one after the other
        assert slow["phone"].received("CANCEL") == [c.call_id()]  # the answer won
        rec = w.wait_record(c.call_id(), state="ended")
        assert rec["outcome"] == "answered" and rec["agent_id"] == fast["id"]
        assert rec["attempts"] == 1
        st = w.wait_state(slow, "waiting")  # not missed: another agent answered
        assert st["missed_in_row"] == 0 and st["offers"] == 0
        w.wait_state(fast, "waiting")
    finally:
        w.close()
