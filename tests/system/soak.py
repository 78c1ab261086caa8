"""The chaos soak (issues 16 and 19; docs/soak.md): real services, real
nats-server and redis-server, traffic from every chat provider, web chat and
the PBX, agents accepting, declining and letting offers time out, while each
service, Redis (busy, idle and loading) and NATS are killed with kill -9 (and
chat-gateway once stopped) and restarted in turn. Invariants are checked while
it runs and at the end; the report counts what happened and every violation.

    python3 tests/system/soak.py [--seconds N] [--report PATH] [--seed N]

CC_BIN_DIR / CC_UNIT_DIR name the binaries (make soak: the sanitizer build).
Exit status 0 only when there was no violation."""
import argparse
import collections
import datetime
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import creatio_standin as cs  # noqa: E402
import harness  # noqa: E402

_HARNESS_FREE_PORT = harness.free_port
from crm_helpers import crm_env  # noqa: E402
from harness import PBX_TOKEN, SAN_ENV, UNIT_DIR, Api, Cluster, start_stack  # noqa: E402
from providers import PROVIDERS, StandIn, fixture, sign  # noqa: E402

# --- the documented bounds (docs/soak.md) --------------------------------------------------
RECOVERY_S = 5.0      # after a restarted piece is ready, everything is back within this
INVITE_S = 3          # the team's chat_invite_timeout_s and call_offer_timeout_s
WRAP_S = 1            # the team's wrap_up_time_s
MISSED_S = 1          # the team's no_answer_delay_s
SLACK_S = 1.0         # "its timeout + 1 s"
CAPACITY = 2          # the chat queue's max_concurrent_chats
AGENTS = 6
CONVERSATIONS = 2     # per provider
WEB_CUSTOMERS = 3
PBX_LINES = 2
SAMPLE_S = 0.5
DRAIN_S = 90.0


def low_port():
    """A free port below the kernel's ephemeral range: a service's own
    outgoing connections can never take it while the service is down
    (harness's picker, which also keeps pytest-xdist workers apart)."""
    return _HARNESS_FREE_PORT()


def ms(rfc3339):
    if not rfc3339:
        return None
    return datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Book:
    """What happened: counters, HTTP answers, fault windows and violations."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = collections.Counter()
        self.http = collections.defaultdict(collections.Counter)
        self.violations = []
        self.notes = []  # the first 503s outside fault windows
        self.windows = []  # [name, start, end or None]
        self.kills = collections.Counter()
        self.gate = threading.Event()  # shut: every driver waits (the idle Redis round)
        self.gate.set()
        self.strict_until = 0.0  # before it, any 503 is a violation (first requests after Redis)

    def add(self, key, n=1):
        with self.lock:
            self.count[key] += n

    def answer(self, what, code):
        with self.lock:
            self.http[what][code] += 1

    def note(self, text):
        with self.lock:
            if len(self.notes) < 10:
                self.notes.append(f"{time.strftime('%H:%M:%S')} {text}")

    def violation(self, text):
        with self.lock:
            self.violations.append(f"{time.strftime('%H:%M:%S')} {text}")
        print("VIOLATION:", text, flush=True)

    def fault_begin(self, name):
        with self.lock:
            self.windows.append([name, time.time(), None])
            return len(self.windows) - 1

    def fault_end(self, idx):
        with self.lock:
            self.windows[idx][2] = time.time() + RECOVERY_S

    def clean(self, t0, t1):
        """Seconds in [t0, t1] outside every fault window (a window lasts
        from the fault until RECOVERY_S after the piece is ready again)."""
        with self.lock:
            spans = sorted((max(s, t0), min(e if e else t1, t1)) for _, s, e in self.windows)
        busy, cur = 0.0, t0
        for s, e in spans:
            s = max(s, cur)
            if e > s:
                busy += e - s
                cur = e
        return (t1 - t0) - busy

    def in_fault(self, t):
        with self.lock:
            return any(s <= t <= (e or float("inf")) for _, s, e in self.windows)


class Http:
    """One thread's HTTP client: every answer is tallied; 500 and other 5xx
    than 503 are violations (issue 19: never 500, 503 with Retry-After)."""

    def __init__(self, book, what, token=None):
        self.book, self.what, self.s = book, what, requests.Session()
        self.headers = {"Authorization": "Bearer " + token} if token else {}

    def __call__(self, method, url, timeout=8, headers=None, **kw):
        self.book.gate.wait(60)
        t0 = time.time()
        try:
            r = self.s.request(method, url, timeout=timeout,
                               headers={**self.headers, **(headers or {})}, **kw)
        except requests.RequestException:
            self.book.answer(self.what, "no answer")
            return None
        self.book.answer(self.what, r.status_code)
        if r.status_code >= 500 and r.status_code != 503:
            self.book.violation(f"{self.what}: {method} {url.split('?')[0]} answered "
                                f"{r.status_code} {r.text[:200]}")
        if r.status_code == 503 and not r.headers.get("Retry-After"):
            self.book.violation(f"{self.what}: 503 without Retry-After on {url.split('?')[0]}")
        if r.status_code == 503 and not (self.book.in_fault(t0) or
                                         self.book.in_fault(time.time())):
            self.book.add("503 outside fault windows")
            self.book.note(f"{self.what}: {method} {url.split('?')[0]}: {r.text[:120]}")
        if r.status_code == 503 and t0 < self.book.strict_until:
            self.book.violation(f"{self.what}: 503 on a first request after Redis came back "
                                f"(idle pooled connections): {method} {url.split('?')[0]} "
                                f"{r.text[:200]}")
        return r


def retry(call, ok, stop_at, pause=0.2):
    """call() until its answer's status is in ok (None and 5xx/429 are
    retried, as providers, PBXs and the desk do); the last answer."""
    while True:
        r = call()
        if r is not None and r.status_code in ok:
            return r
        if r is not None and r.status_code < 500 and r.status_code != 429:
            return r
        if time.time() > stop_at:
            return r
        time.sleep(pause)


# --- the world ------------------------------------------------------------------------------

def make(admin, path, body):
    r = admin.post(path, body)
    if r.status_code != 201:
        raise RuntimeError(f"{path}: {r.status_code} {r.text}")
    return r.json()


def wait(fn, timeout, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def build_world(cluster):
    """The configuration, the stand-ins and every service on `cluster`."""
    # every write fsynced: the soak is about the services, not about the
    # second of writes Redis' default fsync may lose on kill -9
    cluster.redis.cli("CONFIG", "SET", "appendfsync", "always")
    standin, crm = StandIn(), cs.Standin().start()
    standin.server.handle_error = lambda *a: None  # a service killed mid-request: no traceback
    admin = start_stack(cluster)
    cluster.start("skill-router")
    cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    cluster.start("call-router")
    cluster.start("crm-sync", env=crm_env(crm))
    team = make(admin, "/api/v1/teams", {"name": "Soak", "chat_invite_timeout_s": INVITE_S,
                                         "call_offer_timeout_s": INVITE_S,
                                         "wrap_up_time_s": WRAP_S, "no_answer_delay_s": MISSED_S,
                                         "max_no_answer": 0})
    chat_skill = make(admin, "/api/v1/skills", {"name": "Soak chat"})
    call_skill = make(admin, "/api/v1/skills", {"name": "Soak voice"})
    chat_q = make(admin, "/api/v1/queues", {"name": "Soak chat", "channel": "chat",
                                            "skill_id": chat_skill["id"],
                                            "max_concurrent_chats": CAPACITY})
    call_q = make(admin, "/api/v1/queues", {"name": "Soak line", "channel": "call",
                                            "skill_id": call_skill["id"]})
    channels = {}
    for ptype, (_, _, cred) in PROVIDERS.items():
        channels[ptype] = make(admin, "/api/v1/channels", {
            "type": ptype, "name": f"Soak {ptype}", "queue_id": chat_q["id"],
            "api_base_url": standin.base, "credentials": cred})["id"]
    channels["webchat"] = make(admin, "/api/v1/channels", {
        "type": "webchat", "name": "Soak site", "queue_id": chat_q["id"], "credentials": {}})["id"]
    agents = {}
    for i in range(AGENTS):
        login = f"soak{i}"
        u = make(admin, "/api/v1/users", {"login": login, "password": "password-" + login,
                                          "role": "agent", "sip_account": f"{login}@pbx.test",
                                          "agent": {"enabled": True, "team_id": team["id"]}})
        for s in (chat_skill, call_skill):
            r = admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 10 + i})
            assert r.status_code in (200, 201), r.text
        api = Api(admin.base).login(login, "password-" + login)
        r = api.put("/api/v1/me/status", {"status": "callcenter"})
        assert r.status_code == 200, r.text
        agents[u["id"]] = api.token
    return {"cluster": cluster, "admin": admin, "standin": standin, "crm": crm,
            "channels": channels, "chat_queue": chat_q["id"], "call_queue": call_q["id"],
            "agents": agents}


def probe_routing(world, book):
    """Until skill-router routes from both queues: one web chat and one call
    offered (then ended), so that the traffic starts on a working system."""
    cust = WebCustomer(world, book, 999)
    cust.send_next(time.time() + 30)
    pbx = Http(book, "setup")
    base = world["cluster"].services["call-router"].base + "/pbx/v1"
    h = {"Authorization": f"Bearer {PBX_TOKEN}"}
    pbx("POST", f"{base}/calls", json={"call_id": "soak-probe", "queue_id": world["call_queue"],
                                       "from": "+48600000000", "to": "1000"}, headers=h)
    r = retry(lambda: pbx("GET", f"{base}/calls/soak-probe/route", params={"wait_s": 5},
                          headers=h, timeout=15), (200,), time.time() + 30)
    assert r is not None and r.status_code == 200, "skill-router never offered the probe call"
    pbx("POST", f"{base}/calls/soak-probe/events", json={"type": "abandoned"}, headers=h)
    return cust


# --- customers ------------------------------------------------------------------------------

def provider_message(ptype, conv, n, text):
    """A text webhook of provider ptype from conversation conv, message n:
    the fixture with its ids and text replaced. Returns (body, customer id)."""
    j = json.loads(fixture(ptype, "text"))
    now = int(time.time())
    if ptype == "telegram":
        cid = 5550000 + conv
        m = j["message"]
        j["update_id"] = conv * 100000 + n
        m.update({"message_id": n + 1, "date": now, "text": text})
        m["from"]["id"] = m["chat"]["id"] = cid
        return j, str(cid)
    if ptype == "viber":
        cid = f"soakviber{conv:03d}="
        j.update({"timestamp": now * 1000, "message_token": 7000000000 + conv * 100000 + n})
        j["sender"]["id"] = cid
        j["message"]["text"] = text
        return j, cid
    if ptype == "infobip_whatsapp":
        res = j["results"][0]
        cid = f"346100{conv:05d}"
        res.update({"from": cid, "messageId": f"soak-ib-{conv}-{n}"})
        res["message"]["text"] = text
        return j, cid
    if ptype == "whatsapp_cloud":
        v = j["entry"][0]["changes"][0]["value"]
        cid = f"163100{conv:05d}"
        v["contacts"][0]["wa_id"] = cid
        v["messages"][0].update({"from": cid, "id": f"wamid.soak{conv}x{n}",
                                 "timestamp": str(now), "text": {"body": text}})
        return j, cid
    ev = j["entry"][0]["messaging"][0]
    cid = f"21430000{conv:05d}"
    ev["sender"]["id"] = cid
    ev["timestamp"] = now * 1000
    ev["message"] = {"mid": f"m_soak_{conv}_{n}", "text": text}
    return j, cid


class Conversation(threading.Thread):
    """One customer of a provider: messages one after another, each sent
    again until it is answered 2xx, as the providers retry webhooks."""

    def __init__(self, world, book, ptype, conv, stop):
        super().__init__(daemon=True, name=f"{ptype}-{conv}")
        self.world, self.book, self.ptype, self.conv, self.stop = world, book, ptype, conv, stop
        self.http = Http(book, f"webhook {ptype}")
        self.acked, self.unacked, self.customer = [], None, None
        self.source = ptype
        self.url = (world["cluster"].services["chat-gateway"].base +
                    f"/webhooks/{PROVIDERS[ptype][0]}/{world['channels'][ptype]}")

    def send_next(self, give_up_at):
        n = len(self.acked)
        text = f"{self.ptype} c{self.conv} m{n} żółć 😀"
        j, self.customer = provider_message(self.ptype, self.conv, n, text)
        body = json.dumps(j).encode()
        headers = {"Content-Type": "application/json", **sign(self.ptype, body)}
        r = retry(lambda: self.http("POST", self.url, data=body, headers=headers),
                  (200, 201, 202, 204), give_up_at)
        if r is not None and 200 <= r.status_code < 300:
            self.acked.append(text)
            self.book.add("messages acknowledged")
            return True
        if r is not None and r.status_code < 500 and r.status_code != 429:
            self.book.violation(f"{self.ptype}: webhook refused {r.status_code} {r.text[:200]}")
        self.unacked = text
        return False

    def run(self):
        rnd = random.Random(hash(self.name))
        while not self.stop.is_set():
            if not self.send_next(time.time() + 60):
                return
            self.stop.wait(rnd.uniform(0.4, 1.4))


class WebCustomer(Conversation):
    """A web-chat customer: a session (opened again until 201), messages
    with a client_id, resent with the same client_id until 2xx."""

    def __init__(self, world, book, conv, stop=None):
        threading.Thread.__init__(self, daemon=True, name=f"webchat-{conv}")
        self.world, self.book, self.conv, self.stop = world, book, conv, stop
        self.http = Http(book, "webchat")
        self.acked, self.unacked, self.session = [], None, None
        self.ptype, self.source = "webchat", "webchat"
        self.customer = f"soakweb{conv:03d}"
        self.base = world["cluster"].services["chat-gateway"].base + "/webchat/v1"

    def open_session(self, give_up_at):
        r = retry(lambda: self.http("POST", f"{self.base}/{self.world['channels']['webchat']}"
                                    "/sessions", json={"name": self.customer}),
                  (201,), give_up_at)
        if r is None or r.status_code != 201:
            return False
        self.session = r.json()
        return True

    def send_next(self, give_up_at):
        if not self.session and not self.open_session(give_up_at):
            self.book.violation(f"{self.customer}: no web-chat session")
            return False
        n = len(self.acked)
        text = f"web c{self.conv} m{n} ¿qué tal? 👋"
        url = f"{self.base}/sessions/{self.session['session_id']}/messages"
        h = {"X-Webchat-Token": self.session["token"]}
        r = retry(lambda: self.http("POST", url, headers=h,
                                    json={"text": text, "client_id": f"m{n}"}),
                  (200, 201), give_up_at)
        if r is not None and r.status_code in (200, 201):
            self.acked.append(text)
            self.book.add("messages acknowledged")
            return True
        if r is not None and r.status_code < 500 and r.status_code != 429:
            self.book.violation(f"{self.customer}: message refused {r.status_code} {r.text[:200]}")
        self.unacked = text
        return False


# --- agents ---------------------------------------------------------------------------------

class Agent(threading.Thread):
    """An agent's desk: accepts, declines or ignores (lets time out) each
    chat offered, replies once, ends after a while; End and accept retried
    on 503 as the desk does. In drain mode it accepts everything and ends
    at once."""

    def __init__(self, world, book, aid, token, stop, drain, accepted):
        super().__init__(daemon=True, name=f"agent-{aid}")
        self.world, self.book, self.aid, self.stop, self.drain = world, book, aid, stop, drain
        self.http = Http(book, "desk", token)
        self.base = world["admin"].base + "/api/v1"
        self.held = {}  # chat id -> when to end it
        self.decided = set()
        self.ended = []
        self.accepted = accepted  # shared: chat id -> [agent ids whose accept was 200]
        self.rnd = random.Random(aid)

    def offers(self):
        now = time.time()  # the answer is at least this new
        r = self.http("GET", f"{self.base}/me/offers")
        if r is None or r.status_code != 200:
            return []
        items = r.json()["items"]
        for o in items:
            exp = ms(o.get("expires_at"))
            if exp and self.book.clean(exp, now) > SLACK_S:
                self.book.violation(f"agent {self.aid} still offered {o['interaction_id']} "
                                    f"{now - exp:.1f} s after it expired")
        return [o for o in items if o.get("kind") == "chat"]

    def decide(self, o):
        key = (o["chat_id"], o.get("offered_at"))
        if key in self.decided:
            return
        self.decided.add(key)
        roll = 0.0 if self.drain.is_set() else self.rnd.random()
        cid = o["chat_id"]
        if roll < 0.70:
            r = retry(lambda: self.http("POST", f"{self.base}/chats/{cid}/accept"), (200,),
                      time.time() + 2)
            if r is not None and r.status_code == 200:
                self.book.add("chats accepted")
                with self.book.lock:
                    self.accepted[cid].append(self.aid)
                hold = 0.0 if self.drain.is_set() else self.rnd.uniform(1.0, 5.0)
                self.held[cid] = time.time() + hold
                self.http("POST", f"{self.base}/chats/{cid}/messages",
                          json={"text": f"Reply from {self.aid} 👍"})
        elif roll < 0.85:
            r = self.http("POST", f"{self.base}/chats/{cid}/decline")
            if r is not None and r.status_code == 200:
                self.book.add("chats declined")
        else:
            self.book.add("chat offers let time out")

    def end_due(self):
        now = time.time()
        for cid, due in list(self.held.items()):
            if now < due and not self.drain.is_set():
                continue
            r = retry(lambda: self.http("POST", f"{self.base}/chats/{cid}/end"), (200,),
                      time.time() + 3)
            if r is not None and r.status_code == 200:
                del self.held[cid]
                self.ended.append(cid)
                self.book.add("chats ended")
            elif r is not None and r.status_code in (404, 409):
                # an End answered 200 whose answer was lost is seen as done
                got = self.http("GET", f"{self.base}/chats/{cid}")
                if got is not None and got.status_code == 200 and \
                        got.json().get("state") == "completed":
                    del self.held[cid]
                    self.ended.append(cid)
                    self.book.add("chats ended")

    def adopt(self):
        """Chats in this agent's open list that it holds without an accept
        answered 200 (the answer was lost in a fault; the desk shows them in
        the list): handled like the others."""
        r = self.http("GET", f"{self.base}/chats", params={"view": "active"})
        if r is None or r.status_code != 200:
            return
        for c in r.json()["items"]:
            if c.get("agent_id") == self.aid and c.get("state") != "completed" and \
                    c["id"] not in self.held and c["id"] not in self.ended:
                self.held[c["id"]] = time.time() + (0.0 if self.drain.is_set() else 1.0)
                self.book.add("chats held after a lost accept answer")

    def keep_in_callcenter(self):
        r = self.http("GET", f"{self.base}/me/status")
        if r is not None and r.status_code == 200 and r.json().get("status") != "callcenter":
            self.book.violation(f"agent {self.aid} left callcenter: {r.json()}")

    def run(self):
        n = 0
        while not self.stop.is_set():
            for o in self.offers():
                self.decide(o)
            self.end_due()
            n += 1
            if n % 7 == 0:
                self.adopt()
            if n % 50 == 0:
                self.keep_in_callcenter()
            self.stop.wait(0.15)


# --- the PBX --------------------------------------------------------------------------------

class PbxLine(threading.Thread):
    """A PBX line: one queue call after another through call-router's API;
    the agent's phone answers, does not answer, is busy or rings until the
    offer times out; some callers abandon. Every request is retried the way
    a PBX retries (the API is idempotent)."""

    def __init__(self, world, book, line, stop):
        super().__init__(daemon=True, name=f"pbx-{line}")
        self.world, self.book, self.line, self.stop = world, book, line, stop
        self.http = Http(book, "pbx")
        self.base = world["cluster"].services["call-router"].base + "/pbx/v1"
        self.h = {"Authorization": f"Bearer {PBX_TOKEN}"}
        self.calls = {}  # call id -> {"ix", "outcome", "agent", "rings": [(agent, offer)]}
        self.rnd = random.Random(line)

    def req(self, method, path, ok, seconds=30, **kw):
        return retry(lambda: self.http(method, self.base + path, headers=self.h, **kw), ok,
                     time.time() + seconds)

    def event(self, call_id, body):
        r = self.req("POST", f"/calls/{call_id}/events", (200,), json=body)
        if r is None or r.status_code != 200:
            self.book.violation(f"pbx {call_id}: event {body} not taken: "
                                f"{r.status_code if r is not None else 'no answer'}")
            return None
        return r.json()

    def one_call(self, k):
        call_id = f"soak-{self.line}-{k}"
        r = self.req("POST", "/calls", (200, 201), json={
            "call_id": call_id, "queue_id": self.world["call_queue"], "from": f"+4860010{k:04d}",
            "to": "1000"})
        if r is None or r.status_code not in (200, 201):
            self.book.violation(f"pbx {call_id}: not created")
            return
        rec = self.calls[call_id] = {"ix": r.json()["interaction_id"], "outcome": None,
                                     "agent": None, "rings": []}
        self.book.add("calls")
        abandon_after = time.time() + self.rnd.uniform(1, 4) if self.rnd.random() < 0.1 else None
        while True:
            if abandon_after and time.time() > abandon_after:
                self.event(call_id, {"type": "abandoned"})
                rec["outcome"] = "abandoned"
                self.book.add("calls abandoned")
                return
            r = self.req("GET", f"/calls/{call_id}/route", (200, 204, 409),
                         params={"wait_s": 1}, timeout=12)
            if r is None or r.status_code == 204:
                continue
            if r.status_code == 409:
                rec["outcome"] = "ended by the engine"
                return
            if r.status_code != 200:
                self.book.violation(f"pbx {call_id}: route answered {r.status_code}")
                return
            o = r.json()
            rec["rings"].append((o["agent_id"], o["offer_id"]))
            roll = self.rnd.random() if not self.stop.is_set() else 0.0
            if roll < 0.7:
                got = self.event(call_id, {"type": "answered", "offer_id": o["offer_id"]})
                if got is None or got["ignored"]:
                    continue  # the offer timed out meanwhile: ask again
                rec["agent"] = o["agent_id"]
                self.book.add("calls answered")
                time.sleep(self.rnd.uniform(0.5, 3.0))
                self.event(call_id, {"type": "hangup", "by": "caller"})
                rec["outcome"] = "answered"
                return
            if roll < 0.85:
                kind = "no_answer" if roll < 0.78 else "busy"
                self.event(call_id, {"type": kind, "offer_id": o["offer_id"]})
                self.book.add(f"calls {kind}")
            else:  # rings out: the engine's offer timer
                self.book.add("call offers let time out")
                time.sleep(INVITE_S + 0.5)

    def run(self):
        k = 0
        while not self.stop.is_set():
            self.one_call(k)
            k += 1
            self.stop.wait(self.rnd.uniform(0.2, 1.5))


# --- watching -------------------------------------------------------------------------------

class Watch:
    """Every agent status event (cc.presence.changed.>), for the timer check.
    Events published while NATS is down are lost; the check skips gaps."""

    def __init__(self, cluster):
        env = dict(os.environ, CC_TEST_NATS_URL=cluster.nats.url, **SAN_ENV)
        self.log = open(os.path.join(cluster.workdir, "it_changes.log"), "ab")
        self.p = subprocess.Popen([os.path.join(UNIT_DIR, "it_changes"), "status"], env=env,
                                  stdout=subprocess.PIPE, stderr=self.log, text=True)
        first = self.p.stdout.readline()
        assert json.loads(first) == {"ready": True}, first
        self.lines = []
        self.t = threading.Thread(target=self.read, daemon=True)
        self.t.start()

    def read(self):
        for line in self.p.stdout:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                pass

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(20)
        self.t.join(5)
        self.log.close()
        return self.lines


class Sampler(threading.Thread):
    """Every SAMPLE_S: the agents' records, the open chats and calls. An
    agent over capacity is a violation at once; offering, wrap-up or missed
    beyond its timer + 1 s, busy with nothing open, or counts that differ
    from its open interactions are violations once they last longer than
    that outside fault windows."""

    def __init__(self, world, book, stop):
        super().__init__(daemon=True, name="sampler")
        self.world, self.book, self.stop = world, book, stop
        self.http = Http(book, "monitor", world["admin"].token)
        self.base = world["admin"].base + "/api/v1"
        self.since = {}  # (agent, condition) -> first seen
        self.reported = set()
        self.samples = 0

    def get(self, path, **params):
        r = self.http("GET", self.base + path, params=params)
        return r.json()["items"] if r is not None and r.status_code == 200 else None

    def lasting(self, key, bad, now, bound, text):
        if not bad:
            self.since.pop(key, None)
            return
        first = self.since.setdefault(key, now)
        if self.book.clean(first, now) > bound and key not in self.reported:
            self.reported.add(key)
            self.book.violation(f"{text} for {now - first:.1f} s")

    def check(self, agents, chats, calls, now):
        held = collections.Counter(c["agent_id"] for c in chats if c.get("agent_id"))
        talking = collections.Counter(c["agent_id"] for c in calls
                                      if c.get("agent_id") and c.get("state") == "connected")
        for a in agents:
            aid = a["agent_id"]
            if aid not in self.world["agents"]:
                continue
            nchats, ncalls, offers = (a.get("active_chats") or 0, a.get("active_calls") or 0,
                                      a.get("offers") or 0)
            if nchats + offers > CAPACITY or ncalls > 1 or (ncalls and nchats):
                self.book.violation(f"agent {aid} over capacity: {a}")
            st, since = a.get("state"), ms(a.get("state_since")) or now
            bound = {"offering": INVITE_S, "post_processing": WRAP_S, "missed": MISSED_S}
            if st in bound:
                self.lasting((aid, "state"), self.book.clean(since, now) > bound[st] + SLACK_S,
                             now, 0, f"agent {aid} left {st} beyond its timer + 1 s")
            self.lasting((aid, "phantom"), st == "busy" and not nchats and not ncalls, now,
                         SLACK_S, f"agent {aid} busy with nothing active")
            self.lasting((aid, "counts"), (nchats, ncalls) != (held[aid], talking[aid]), now,
                         SLACK_S + 1,
                         f"agent {aid} counts {nchats} chats {ncalls} calls but holds "
                         f"{held[aid]} chats {talking[aid]} calls")

    def run(self):
        while not self.stop.is_set():
            agents = self.get("/monitor/agents")
            chats = self.get("/chats", view="active")
            calls = self.get("/calls", view="active", limit=100)
            agents2 = self.get("/monitor/agents")
            if agents is not None and chats is not None and calls is not None and agents2:
                # counts are compared only where both reads around the lists agree
                stable = {a["agent_id"]: a for a in agents2}
                same = [a for a in agents if stable.get(a["agent_id"], {}).get("version") ==
                        a.get("version")]
                self.check(same, chats, calls, time.time())
                self.samples += 1
            self.stop.wait(SAMPLE_S)


# --- chaos ----------------------------------------------------------------------------------

ROUNDS = ["agent-registry", "skill-router", "chat-gateway", "call-router", "crm-sync",
          "api-gateway", "redis-server", "nats-server", "redis-server idle",
          "redis-server loading", "chat-gateway stopped"]


class Chaos(threading.Thread):
    """Fault rounds one after another, `gap` seconds apart, each fault
    window lasting until RECOVERY_S after everything is ready again."""

    def __init__(self, world, book, gap):
        super().__init__(daemon=True, name="chaos")
        self.world, self.book, self.gap = world, book, gap
        self.stop = threading.Event()
        self.done = []
        self.junk = False

    def ping(self):
        try:
            return self.world["cluster"].redis.cli("PING")
        except subprocess.CalledProcessError as e:
            return e.stdout or ""

    def all_ready(self, timeout=60):
        for name, svc in self.world["cluster"].services.items():
            svc.wait_ready(timeout)

    def restart_redis(self, down_s, extra=()):
        redis = self.world["cluster"].redis
        redis.kill9()
        time.sleep(down_s)
        argv = list(redis.argv)
        redis.argv += list(extra)
        try:
            redis.start()
        finally:
            redis.argv = argv

    def fault(self, name):
        c = self.world["cluster"]
        if name == "redis-server":
            self.restart_redis(1.0)
        elif name == "redis-server idle":
            self.book.gate.clear()  # no traffic: the pooled connections sit idle
            time.sleep(1.5)
            self.restart_redis(0.5)
            wait(lambda: self.ping() == "PONG", 30)
            time.sleep(0.5)
            self.book.strict_until = time.time() + 2.0
            self.book.gate.set()
        elif name == "redis-server loading":
            if not self.junk:  # enough data that loading it takes seconds
                c.redis.cli("EVAL", "for i=1,60000 do redis.call('SET','junk:'..i,'x') end "
                            "return 1", "0")
                self.junk = True
            c.redis.cli("BGREWRITEAOF")
            wait(lambda: "aof_rewrite_in_progress:0" in c.redis.cli("INFO", "persistence"), 20)
            self.restart_redis(0.5, ["--key-load-delay", "40",
                                     "--loading-process-events-interval-bytes", "1024"])
            time.sleep(0.3)
            if "LOADING" in self.ping():
                self.book.add("Redis LOADING seen")
        elif name == "nats-server":
            c.nats.kill9()
            time.sleep(1.0)
            c.nats.start()
        elif name == "chat-gateway stopped":
            code = c.services["chat-gateway"].stop()
            if code != 0:
                self.book.violation(f"chat-gateway exited {code} on SIGTERM")
            time.sleep(3.0)
            c.services["chat-gateway"].start()
        else:
            svc = c.services[name]
            svc.kill9()
            time.sleep(0.5)
            svc.start()
        if name.startswith("redis"):
            if not wait(lambda: self.ping() == "PONG", 60):
                raise RuntimeError("Redis did not come back")
        self.all_ready()

    def run(self):
        try:
            i = 0
            while not self.stop.wait(self.gap):
                name = ROUNDS[i % len(ROUNDS)]
                idx = self.book.fault_begin(name)
                t0 = time.time()
                self.fault(name)
                self.book.fault_end(idx)
                self.book.kills[name] += 1
                self.done.append((name, round(time.time() - t0, 1)))
                print(f"soak: {name} back after {time.time() - t0:.1f} s", flush=True)
                i += 1
        except Exception as e:  # noqa: BLE001 - reported as a violation
            self.book.gate.set()
            self.book.violation(f"chaos round failed: {e!r}")
        finally:
            self.stop.set()


# --- final checks ---------------------------------------------------------------------------

def all_pages(http, url, **params):
    items, cursor = [], None
    while True:
        p = dict(params, limit=100, **({"cursor": cursor} if cursor else {}))
        r = retry(lambda: http("GET", url, params=p), (200,), time.time() + 30)
        if r is None or r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code if r is not None else 'no answer'}")
        body = r.json()
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor or not body["items"]:
            return items


def check_messages(world, book, customers, http):
    """Every acknowledged message stored once, in order, in its customer's
    chats (oldest chat first); an unacknowledged last one may be there."""
    base = world["admin"].base + "/api/v1"
    ids = []
    for cust in customers:
        chats = all_pages(http, f"{base}/chats", view="history", customer=cust.customer,
                          source=cust.source)
        chats.sort(key=lambda c: c["created_at"])
        ids += [c["id"] for c in chats]
        texts = []
        for c in chats:
            r = retry(lambda: http("GET", f"{base}/chats/{c['id']}/messages"), (200,),
                      time.time() + 30)
            texts += [m["text"] for m in r.json()["items"] if m["direction"] == "in"]
        want = list(cust.acked)
        got = texts[:-1] if cust.unacked and texts and texts[-1] == cust.unacked else texts
        if got != want:
            missing = [t for t in want if t not in got]
            dup = [t for t, n in collections.Counter(got).items() if n > 1]
            book.violation(f"{cust.customer} ({cust.source}): {len(want)} acknowledged, "
                           f"{len(got)} stored; missing {missing[:3]}, duplicated {dup[:3]}, "
                           f"in order: {not missing and sorted(got, key=want.index) == got}")
        book.add("messages stored", len(texts))
    return ids


def replay_trace(ix_id, steps, book):
    """No interaction offered to two agents at once: between an `offered`
    and the next one, the offer was answered (accepted, declined, timed
    out, withdrawn, requeued, abandoned)."""
    ringing = set()
    for s in steps:
        kind, agent = s["step"], s.get("agent_id")
        if kind == "offered":
            if ringing and agent not in ringing:
                book.violation(f"{ix_id} offered to {agent} while ringing for {sorted(ringing)}: "
                               f"{[x['step'] for x in steps]}")
            ringing.add(agent)
            book.add("offers")
        elif kind in ("accepted", "declined", "timed_out", "withdrawn"):
            ringing.discard(agent)
        elif kind in ("requeued", "abandoned", "ended", "expired"):
            ringing.clear()


def check_traces(world, book, ids, ended, http):
    base = world["admin"].base + "/api/v1"
    for ix_id in ids:
        r = retry(lambda: http("GET", f"{base}/interactions/{ix_id}/trace"), (200,),
                  time.time() + 30)
        if r is None or r.status_code != 200:
            book.violation(f"{ix_id}: no trace ({r.status_code if r is not None else '-'})")
            continue
        steps = r.json()["items"]
        replay_trace(ix_id, steps, book)
        names = [s["step"] for s in steps]
        if ix_id in ended and "ended" not in names:
            book.violation(f"chat {ix_id} ended without its ended step: {names}")
        if names.count("ended") > 1:
            book.violation(f"{ix_id} ended twice: {names}")


def check_timers(events, book):
    """Every timer fired once and on time: consecutive versions of an agent
    in post_processing or missed go to waiting by the timer within its time
    + 1 s (outside fault windows); no timer event from a state that has no
    timer. Pairs broken by events lost while NATS was down are skipped."""
    by_agent = collections.defaultdict(dict)
    for e in events:
        if e.get("agent_id") and e.get("version"):
            by_agent[e["agent_id"]][int(e["version"])] = e
    timed = {"post_processing": WRAP_S, "missed": MISSED_S}
    for aid, evs in by_agent.items():
        for v, e in evs.items():
            prev = evs.get(v - 1)
            if prev is None:
                continue
            if e.get("changed_by") == "timer" and e.get("reason") in ("wrap_up_ended",
                                                                     "missed_ended"):
                book.add("timers fired")
                if prev.get("state") not in timed:
                    book.violation(f"agent {aid}: timer {e.get('reason')} fired in "
                                   f"{prev.get('state')} (v{v})")
            if prev.get("state") in timed:
                t0, t1 = ms(prev.get("state_since")), ms(e.get("state_since"))
                if e.get("changed_by") == "timer":
                    late = book.clean(t0, t1) - timed[prev["state"]]
                    if late > SLACK_S or t1 - t0 < timed[prev["state"]] - 0.05:
                        book.violation(f"agent {aid}: {prev['state']} timer after "
                                       f"{t1 - t0:.2f} s (v{v})")


def final_state(world, book, http):
    """After the drain: nothing open, nothing offered, every agent waiting
    with no chat, call or offer."""
    base = world["admin"].base + "/api/v1"

    def idle():
        agents = http("GET", f"{base}/monitor/agents")
        chats = http("GET", f"{base}/chats", params={"view": "active"})
        calls = http("GET", f"{base}/calls", params={"view": "active", "limit": 100})
        if any(r is None or r.status_code != 200 for r in (agents, chats, calls)):
            return None
        mine = [a for a in agents.json()["items"] if a["agent_id"] in world["agents"]]
        ok = not chats.json()["items"] and not calls.json()["items"] and all(
            a.get("state") == "waiting" and not a.get("active_chats") and
            not a.get("active_calls") and not a.get("offers") for a in mine)
        return ok or (mine, chats.json()["items"], calls.json()["items"])
    got = wait(lambda: idle() is True, WRAP_S + MISSED_S + SLACK_S + 5)
    if got is not True:
        book.violation(f"not idle after the drain: {idle()}")


# --- the run --------------------------------------------------------------------------------

def report_text(book, seconds, extra):
    c = book.count
    kills = sum(book.kills.values())
    lines = [
        f"Run: {time.strftime('%Y-%m-%d %H:%M:%S')} UTC, {seconds} s of chaos "
        f"(`SOAK_S={seconds}`), seed {extra['seed']}, {extra['wall']:.0f} s in all.",
        "",
        "| figure | count |", "|---|---|",
        f"| messages acknowledged (2xx) by chat-gateway | {c['messages acknowledged']} |",
        f"| messages stored (each acknowledged one once, in order) | {c['messages stored']} |",
        f"| chats | {extra['chats']} |",
        f"| offers (chats and calls, from the routing traces) | {c['offers']} |",
        f"| chats accepted / declined / let time out / ended | {c['chats accepted']} / "
        f"{c['chats declined']} / {c['chat offers let time out']} / {c['chats ended']} |",
        f"| calls / answered / no answer / busy / rung out / abandoned | {c['calls']} / "
        f"{c['calls answered']} / {c['calls no_answer']} / {c['calls busy']} / "
        f"{c['call offers let time out']} / {c['calls abandoned']} |",
        f"| state timers seen firing (wrap-up, missed) | {c['timers fired']} |",
        f"| kills and restarts survived | {kills} (Redis answered LOADING in "
        f"{c['Redis LOADING seen']} of them) |",
        f"| agent samples checked | {extra['samples']} |",
        f"| 503 answers outside the fault windows (retried; not a violation) | "
        f"{c['503 outside fault windows']} |",
        f"| **violations** | **{len(book.violations)}** |",
        "", "Faults, in order (seconds until the piece answered again):", "",
        ", ".join(f"{n} ({s} s)" for n, s in extra["rounds"]) or "none", "",
        "HTTP answers seen by the drivers (503s fall in the fault windows and are retried):", "",
        "| client | answers |", "|---|---|",
    ]
    for what, codes in sorted(book.http.items()):
        lines.append(f"| {what} | " + ", ".join(f"{k}: {v}" for k, v in
                                                 sorted(codes.items(), key=str)) + " |")
    if book.notes:
        lines += ["", "503s outside the fault windows (the first 10):", ""]
        lines += [f"- {n}" for n in book.notes]
    if book.violations:
        lines += ["", "Violations:", ""] + [f"- {v}" for v in book.violations[:50]]
    return "\n".join(lines) + "\n"


def write_report(path, text):
    """Replaces the report section of docs/soak.md (after its marker)."""
    marker = "<!-- latest soak report -->"
    try:
        with open(path, encoding="utf-8") as f:
            doc = f.read()
    except OSError:
        doc = ""
    head = doc.split(marker)[0] if marker in doc else doc
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + marker + "\n\n" + text)


def run(seconds, seed=1, report=None):
    """Runs the soak; returns (book, report text)."""
    free_port, harness.free_port = harness.free_port, low_port
    try:
        return soak(seconds, seed, report)
    finally:
        harness.free_port = free_port


def soak(seconds, seed, report):
    random.seed(seed)
    t_start, book = time.time(), Book()
    workdir = tempfile.mkdtemp(prefix="cc-soak-")
    cluster = Cluster(workdir)
    try:
        world = build_world(cluster)
        run_ = Run(world, book)
        run_.chaos_phase(seconds)
        run_.drain()
        run_.check()
        run_.close()
        cluster = None
    finally:
        if cluster:  # something failed on the way: no process left behind
            cluster.close()
    text = report_text(book, seconds, {
        "seed": seed, "wall": time.time() - t_start, "chats": len(run_.chat_ids),
        "samples": run_.sampler.samples, "rounds": run_.chaos.done})
    print(text, flush=True)
    if report:
        write_report(report, text)
    if book.violations:
        print(f"soak: logs kept in {workdir}", flush=True)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return book, text


class Run:
    """One soak over a built world: the drivers, the chaos, the drain and
    the final checks."""

    def __init__(self, world, book):
        self.world, self.book = world, book
        self.stop_traffic, self.stop_agents, self.stop_sampler, self.drain_now = (
            threading.Event() for _ in range(4))
        self.accepted = collections.defaultdict(list)
        self.watch = Watch(world["cluster"])
        self.probe = probe_routing(world, book)
        self.customers = [Conversation(world, book, p, i, self.stop_traffic) for p in PROVIDERS
                          for i in range(CONVERSATIONS)]
        self.customers += [WebCustomer(world, book, i, self.stop_traffic)
                           for i in range(WEB_CUSTOMERS)]
        self.lines = [PbxLine(world, book, i, self.stop_traffic) for i in range(PBX_LINES)]
        self.agents = [Agent(world, book, aid, tok, self.stop_agents, self.drain_now,
                             self.accepted) for aid, tok in world["agents"].items()]
        self.sampler = Sampler(world, book, self.stop_sampler)
        # a round every RECOVERY_S + 1 s, every round at least once however short the run
        self.chaos = Chaos(world, book, RECOVERY_S + 1)
        self.http = Http(book, "checks", world["admin"].token)
        self.base = world["admin"].base + "/api/v1"
        self.chat_ids = []

    def chaos_phase(self, seconds):
        for t in [*self.agents, self.sampler, *self.customers, *self.lines, self.chaos]:
            t.start()
        end_at = time.time() + seconds
        while not self.chaos.stop.is_set() and (time.time() < end_at or
                                                len(self.chaos.done) < len(ROUNDS)):
            time.sleep(0.2)
        self.chaos.stop.set()
        self.chaos.join(180)

    def drained(self):
        r = self.http("GET", f"{self.base}/chats", params={"view": "active"})
        q = self.http("GET", f"{self.base}/monitor/queues")
        return (r is not None and r.status_code == 200 and not r.json()["items"] and
                q is not None and q.status_code == 200 and
                not any(x.get("waiting") for x in q.json()["items"]) and
                not any(a.held for a in self.agents))

    def drain(self):
        """No new traffic; the last messages and calls finish, the agents
        take and end everything; then nothing may be left."""
        print("soak: chaos over; draining", flush=True)
        self.stop_traffic.set()
        for t in [*self.customers, *self.lines]:
            t.join(90)
        self.drain_now.set()
        if not wait(self.drained, DRAIN_S, 0.5):
            self.book.violation("the drain did not finish: chats still open or waiting")
        self.stop_sampler.set()
        self.sampler.join(30)
        final_state(self.world, self.book, self.http)
        self.stop_agents.set()
        for t in self.agents:
            t.join(30)

    def check(self):
        time.sleep(0.5)
        check_timers(self.watch.stop(), self.book)
        self.chat_ids = check_messages(self.world, self.book, [*self.customers, self.probe],
                                       self.http)
        for cid, who in self.accepted.items():
            if len(set(who)) > 1:
                self.book.violation(f"chat {cid} accepted by {who}")
        ended = {cid for a in self.agents for cid in a.ended}
        ids = set(self.chat_ids) | {c["ix"] for ln in self.lines for c in ln.calls.values()}
        check_traces(self.world, self.book, ids, ended, self.http)
        for ln in self.lines:
            for call_id, c in ln.calls.items():
                self.check_call(call_id, c)

    def check_call(self, call_id, c):
        """The call's record is ended with the outcome the PBX caused."""
        rec = retry(lambda: self.http("GET", f"{self.base}/calls/{c['ix']}"), (200,),
                    time.time() + 30)
        if rec is None or rec.status_code != 200:
            self.book.violation(f"call {call_id}: no record")
            return
        rec = rec.json()
        want = {"answered": "answered", "abandoned": "abandoned"}.get(c["outcome"])
        if rec.get("state") != "ended" or (want and rec.get("outcome") != want) or \
                (want == "answered" and rec.get("agent_id") != c["agent"]):
            self.book.violation(f"call {call_id}: driver saw {c}, record {rec}")

    def close(self):
        """Every service still alive (none died on its own) and exits 0 on SIGTERM."""
        cluster = self.world["cluster"]
        for name, svc in cluster.services.items():
            if not svc.alive():
                self.book.violation(f"{name} died on its own: {svc.log()[-1500:]}")
        for f in cluster.close():
            self.book.violation(f[:2000])
        self.world["standin"].close()
        self.world["crm"].stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_S", "180")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", "1")))
    ap.add_argument("--report", help="Markdown file whose report section is replaced")
    args = ap.parse_args()
    book, _ = run(args.seconds, args.seed, args.report)
    sys.exit(1 if book.violations else 0)


if __name__ == "__main__":
    main()
