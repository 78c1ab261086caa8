"""Supervision and callbacks end to end through the reference PBX
(deploy/kamailio, cc-commands.cfg): call-router's commands are fetched by
Kamailio's command pump and carried out with SIPp phones.

- listen / barge: the supervisor's phone (a SIPp UAS registered under the
  supervisor's sip_account) is called with no SDP, and the agent's phone gets
  an INVITE with RFC 3911 `Join` naming its dialog with the caller and the
  supervisor's offer, `a=recvonly` for listen and `a=sendrecv` for barge; the
  supervisor's ACK carries the agent's answer. Mode switches and stop hang up
  the old legs, the caller's hang-up ends the supervision. whisper is
  reported failed (no media server); a supervisor without a registered phone
  too; wrong role, wrong queue, no call and an ended call are refused.
- callbacks: see test_a_callback_rings_the_agent_then_the_customer.

One system and one Kamailio for the module (the fixture of test_calls_sip)."""
import re
import time

from harness import Api
from test_calls_sip import World, system  # noqa: F401  (module fixture)
from test_registry_objects import user
from test_routing import wait_until

MEDIA_SERVER = "whisper needs a media server (see docs/calls.md)"


def header(msg, name):
    m = re.search(rf"^{name}:\s*(.*)$", msg, flags=re.M | re.I)
    return m.group(1).strip() if m else None


def tag(value):
    m = re.search(r";tag=([^;>\s]+)", value or "")
    return m.group(1) if m else None


def body(msg):
    return msg.split("\n\n", 1)[1] if "\n\n" in msg else ""


def by_call(msgs, cid):
    return [m for m in msgs if header(m, "Call-ID") == cid]


def audit(api, ix):
    r = api.get(f"/api/v1/calls/{ix}/supervisions")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def wait_audit(api, ix, mode, state, timeout=15):
    """The newest supervision of the call once it is (mode, state)."""
    got = []

    def check():
        got[:] = audit(api, ix)
        return got and (got[0]["mode"], got[0]["state"]) == (mode, state)

    try:
        wait_until(check, timeout)
    except AssertionError:
        raise AssertionError(f"supervision not {mode}/{state}: {got[:2]}") from None
    return got[0]


class Joins:
    """What the agent's and the supervisor's phones saw of the Joins."""

    def __init__(self, agent_phone, sup_phone, call_id):
        self.agent, self.sup, self.call_id = agent_phone, sup_phone, call_id

    def dialog_tags(self):
        """(caller's tag, agent's tag) of the supervised call at the agent."""
        (inv, *_) = by_call(self.agent.traced("received", "INVITE "), self.call_id)
        (ok, *_) = by_call(self.agent.traced("sent", "SIP/2.0 200"), self.call_id)
        return tag(header(inv, "From")), tag(header(ok, "To"))

    def join_invites(self):
        return [m for m in self.agent.traced("received", "INVITE ") if header(m, "Join")]

    def sup_call_ids(self):
        return self.sup.invites()


def check_join(j, n, direction, answer_direction):
    """The n-th join: the agent's INVITE names its dialog and carries the
    supervisor's offer with `direction`; the supervisor's ACK the answer."""
    wait_until(lambda: len(j.join_invites()) > n and len(j.sup_call_ids()) > n, timeout=10)
    inv = j.join_invites()[n]
    caller_tag, agent_tag = j.dialog_tags()
    assert header(inv, "Join") == f"{j.call_id};to-tag={agent_tag};from-tag={caller_tag}"
    offer = body(inv)
    assert "o=supervisor" in offer and f"a={direction}" in offer, offer
    assert len(re.findall(r"^a=(sendrecv|sendonly|recvonly|inactive)", offer, re.M)) == 1
    sup_cid = j.sup_call_ids()[n]
    (sup_inv, *_) = by_call(j.sup.traced("received", "INVITE "), sup_cid)
    assert "m=audio" not in body(sup_inv)  # 3PCC: the supervisor's 200 makes the offer
    wait_until(lambda: by_call(j.sup.traced("received", "ACK "), sup_cid), timeout=10)
    ack = by_call(j.sup.traced("received", "ACK "), sup_cid)[0]
    assert "o=agent" in body(ack) and f"a={answer_direction}" in body(ack), ack
    return sup_cid, header(inv, "Call-ID")


def test_listen_and_barge_join_the_supervisors_phone_to_the_agents_call(system):  # noqa: F811
    w = World(system)
    try:
        boss = user(w.admin, f"boss{w.n}", role="supervisor", sip_account=f"boss{w.n}")
        mute = user(w.admin, f"mute{w.n}", role="supervisor", sip_account=f"mute{w.n}")
        other = user(w.admin, f"other{w.n}", role="supervisor", sip_account=f"other{w.n}")
        r = w.admin.patch(f"/api/v1/queues/{w.queue}", {"supervisor_ids": [boss["id"], mute["id"]]})
        assert r.status_code == 200, r.text
        api_boss = Api(w.admin.base).login(f"boss{w.n}", f"password-boss{w.n}")
        api_mute = Api(w.admin.base).login(f"mute{w.n}", f"password-mute{w.n}")  # no phone
        api_other = Api(w.admin.base).login(f"other{w.n}", f"password-other{w.n}")
        sup_phone = w.sip.phone(f"boss{w.n}", "supervisor", ring_ms=100)
        w.phones.append(sup_phone)
        a = w.agent("ada", phone="join")
        c = w.call(hold_ms=9000).start()
        ix = w.wait_record(c.call_id(), state="connected")["id"]
        j = Joins(a["phone"], sup_phone, c.call_id())

        # refused through the API before anything reaches the PBX
        assert a["api"].post(f"/api/v1/calls/{ix}/supervise", {"mode": "listen"}).status_code == 403
        assert api_other.post(f"/api/v1/calls/{ix}/supervise", {"mode": "listen"}).status_code == 403
        assert api_boss.post("/api/v1/calls/call_nope/supervise",
                             {"mode": "listen"}).status_code == 404

        # listen: the supervisor hears, is not heard
        t0 = time.time()
        assert api_boss.post(f"/api/v1/calls/{ix}/supervise", {"mode": "listen"}).status_code == 200
        sup = wait_audit(api_boss, ix, "listen", "active")
        assert sup["supervisor_id"] == boss["id"] and sup["agent_id"] == a["id"]
        listen_sup, listen_join = check_join(j, 0, "recvonly", "sendonly")
        assert time.time() - t0 < 5

        # stop: both legs hung up
        assert api_boss.delete(f"/api/v1/calls/{ix}/supervise").status_code == 200
        wait_audit(api_boss, ix, "stop", "ended")
        wait_until(lambda: listen_sup in sup_phone.received("BYE")
                   and listen_join in a["phone"].received("BYE"), timeout=10)
        assert c.call_id() not in a["phone"].received("BYE")  # the call goes on

        # barge: a three-way call; then a switch to whisper the PBX cannot do
        assert api_boss.post(f"/api/v1/calls/{ix}/supervise", {"mode": "barge"}).status_code == 200
        wait_audit(api_boss, ix, "barge", "active")
        barge_sup, barge_join = check_join(j, 1, "sendrecv", "sendrecv")
        assert api_boss.post(f"/api/v1/calls/{ix}/supervise", {"mode": "whisper"}).status_code == 200
        s = wait_audit(api_boss, ix, "whisper", "failed")
        assert s["reason"] == MEDIA_SERVER
        assert barge_sup not in sup_phone.received("BYE")  # barge goes on

        # a supervisor whose phone is not registered
        assert api_mute.post(f"/api/v1/calls/{ix}/supervise", {"mode": "listen"}).status_code == 200
        s = wait_audit(api_mute, ix, "listen", "failed")
        assert s["reason"] == "supervisor phone not registered"

        # the caller hangs up: the supervision's legs end with the call
        assert c.wait(30) == 0, c.sipp.log()[-2000:]
        wait_until(lambda: barge_sup in sup_phone.received("BYE")
                   and barge_join in a["phone"].received("BYE"), timeout=10)
        rec = w.wait_record(c.call_id(), state="ended")
        assert rec["outcome"] == "answered" and rec["agent_id"] == a["id"]
        r = api_boss.post(f"/api/v1/calls/{ix}/supervise", {"mode": "listen"})
        assert r.status_code == 409, r.text  # no longer connected
        assert len(sup_phone.invites()) == 2 and len(j.join_invites()) == 2
        w.wait_state(a, "waiting")
    finally:
        w.close()


def test_a_callback_rings_the_agent_then_the_customer(system):  # noqa: F811
    """A caller abandons after the queue's callback_after_s: the callback is
    offered to an agent, Kamailio rings the agent's phone with the callback's
    own Call-ID, then calls the customer through the gateway with the agent's
    offer; the agent hangs up: the callback ends answered, the agent waits."""
    w = World(system)
    try:
        r = w.admin.patch(f"/api/v1/queues/{w.queue}", {"callback_after_s": 1})
        assert r.status_code == 200, r.text
        gw = w.system["gateway"]
        before = len(gw.invites())
        a = w.agent("cb", status="ready", phone="hangup", ring_ms=1500)  # no queue calls yet
        c = w.call("caller_cancel_waiting.xml", caller="+48601601601", hold_ms=1500)
        assert c.run(30) == 0, c.sipp.log()[-2000:]
        origin = w.wait_record(c.call_id(), state="ended")
        assert origin["outcome"] == "abandoned"

        def callback():
            items = w.admin.get("/api/v1/calls", view="active", limit=100).json()["items"]
            return [x for x in items if x.get("callback_of") == origin["id"]]

        (cb,) = wait_until(callback, timeout=10)
        assert cb["to"] == "+48601601601" and cb["from"] == w.number
        assert a["api"].put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
        # the agent's phone rings with the callback's Call-ID
        wait_until(lambda: a["phone"].invites() == [cb["call_id"]], timeout=10)
        (inv,) = a["phone"].traced("received", "INVITE ")
        assert "+48601601601" not in header(inv, "From") and w.number in header(inv, "From")
        assert "m=audio" not in body(inv)  # the agent's 200 makes the offer
        w.wait_record(cb["call_id"], state="connected")
        # the customer is called through the gateway with that offer
        wait_until(lambda: len(gw.invites()) > before, timeout=10)
        cust_cid = gw.invites()[before]
        assert cust_cid == "cbc." + cb["call_id"]
        (cinv,) = by_call(gw.traced("received", "INVITE "), cust_cid)
        assert cinv.startswith("INVITE sip:+48601601601@")
        assert "o=agent" in body(cinv) and w.number in header(cinv, "From")
        # the agent's ACK carries the customer's answer
        wait_until(lambda: by_call(a["phone"].traced("received", "ACK "), cb["call_id"]),
                   timeout=10)
        ack = by_call(a["phone"].traced("received", "ACK "), cb["call_id"])[0]
        assert "m=audio" in body(ack) and "o=agent" in body(ack)  # the gateway's SIPp answer
        # the agent hangs up: the customer gets a BYE, the record ends
        wait_until(lambda: cust_cid in gw.received("BYE"), timeout=10)
        rec = w.wait_record(cb["call_id"], state="ended")
        assert rec["outcome"] == "answered" and rec["hangup_by"] == "agent"
        assert rec["agent_id"] == a["id"] and rec["direction"] == "callback"
        w.wait_state(a, "waiting")
    finally:
        w.close()
