"""Redis restarts and loads under a working contact center (issue 19).

A Redis restart (kill -9, then start) while agents accept and end web chats
leaves no agent busy with a chat that no longer exists: every agent's chat
count equals its open chats and every chat ended has its `ended` trace step.
After a restart with idle pooled connections the first requests succeed.
While Redis is down and while it loads its data (LOADING), every service
answers 503 with Retry-After, never 500, and the first request after it is
back succeeds. Redis fsyncs every write here (appendfsync always): these
tests are about the services, not about the second Redis' default fsync may
lose."""
import concurrent.futures
import signal
import threading
import time

import pytest
import requests

from harness import PBX_TOKEN, Api, start_stack, wait_port
from test_chat_webchat import Customer
from test_registry_objects import make, skill, team, user
from test_routing import Bus, wait_until

AGENTS = 3
RETRYABLE = (0, 503)


@pytest.fixture
def center(cluster):
    cluster.redis.cli("CONFIG", "SET", "appendfsync", "always")
    admin = start_stack(cluster)
    cluster.start("skill-router")
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    t = team(admin, "Faults", chat_invite_timeout_s=30, wrap_up_time_s=0)
    s = skill(admin, "Web")
    q = make(admin, "/api/v1/queues", {"name": "Web", "channel": "chat", "skill_id": s["id"],
                                       "max_concurrent_chats": 2})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Site", "queue_id": q["id"],
                                         "credentials": {}})
    agents = {}
    for i in range(AGENTS):
        u = user(admin, f"rf{i}", agent={"enabled": True, "team_id": t["id"]})
        admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 10})
        a = Api(admin.base).login(f"rf{i}", f"password-rf{i}")
        assert a.put("/api/v1/me/status", {"status": "callcenter"}).status_code == 200
        agents[u["id"]] = a
    return {"admin": admin, "agents": agents, "chat": chat, "channel": ch["id"],
            "cluster": cluster}


def restart_redis(cluster, down_s=1.0):
    cluster.redis.kill9()
    time.sleep(down_s)
    cluster.redis.start()
    wait_until(lambda: ping(cluster.redis) == "PONG", timeout=20)


def ping(redis):
    try:
        return redis.cli("PING")
    except Exception:  # noqa: BLE001 - not up yet
        return None


def status(call):
    """The HTTP status of a request, 0 when it could not be sent."""
    try:
        return call().status_code
    except requests.RequestException:
        return 0


def retried(call, seconds=20):
    """Runs `call` until it is not 503 (or unreachable); its last answer."""
    deadline = time.time() + seconds
    while True:
        try:
            r = call()
            if r.status_code not in RETRYABLE or time.time() > deadline:
                return r
        except requests.RequestException:
            if time.time() > deadline:
                raise
        time.sleep(0.2)


class Desk(threading.Thread):
    """One agent: accepts what is offered, ends what it holds (retrying a
    503 as the desk does); records the 5xx other than 503 and the chats it
    ended."""

    def __init__(self, agent, stop):
        super().__init__(daemon=True)
        self.agent, self.stop, self.ended, self.errors = agent, stop, [], []

    def step(self):
        offers = self.agent.get("/api/v1/me/offers")
        for o in offers.json()["items"] if offers.status_code == 200 else []:
            self.check(self.agent.post(f"/api/v1/chats/{o['chat_id']}/accept"))
        held = self.agent.get("/api/v1/chats", view="active")
        for c in held.json()["items"] if held.status_code == 200 else []:
            r = retried(lambda: self.agent.post(f"/api/v1/chats/{c['id']}/end"))
            self.check(r)
            if r.status_code == 200:
                self.ended.append(c["id"])

    def check(self, r):
        if r.status_code >= 500 and r.status_code != 503:
            self.errors.append((r.status_code, r.text))

    def run(self):
        while not self.stop.is_set():
            try:
                self.step()
            except requests.RequestException:
                pass
            time.sleep(0.05)


def customers(c, stop, opened):
    """New web-chat customers, one every 0.2 s, each with one message."""
    while not stop.is_set():
        try:
            cust = Customer(c["chat"].base, c["channel"])
            r = retried(lambda: cust.call("POST", "/messages", json={"text": "hej",
                                                                   "client_id": "m1"}))
            if r.status_code == 201:
                opened.append(cust)
        except (AssertionError, requests.RequestException):
            pass
        time.sleep(0.2)


def check_counts(c, desks):
    """Every agent's chat count is its open chats (none after the drain),
    and every chat ended has its ended step."""
    admin = c["admin"]
    for aid, agent in c["agents"].items():
        s = admin.get(f"/api/v1/agents/{aid}/status").json()
        open_chats = [x for x in admin.get("/api/v1/chats", view="active").json()["items"]
                      if x.get("agent_id") == aid]
        assert (s["active_chats"], s["offers"]) == (len(open_chats), 0), (aid, s, open_chats)
    ended = [cid for d in desks for cid in d.ended]
    assert ended, "no chat was ended"
    for cid in ended:
        steps = [x["step"] for x in admin.get(f"/api/v1/interactions/{cid}/trace").json()["items"]]
        assert "ended" in steps, (cid, steps)
        assert admin.get(f"/api/v1/chats/{cid}").json()["state"] == "completed"


def drain(c, desks, stop_customers, feeder):
    """No new customers; the agents work until nothing is open or offered."""
    stop_customers.set()
    feeder.join(30)
    admin = c["admin"]

    def idle():
        open_chats = admin.get("/api/v1/chats", view="active")
        stats = [admin.get(f"/api/v1/agents/{a}/status").json() for a in c["agents"]]
        return (open_chats.status_code == 200 and not open_chats.json()["items"] and
                all(s["offers"] == 0 for s in stats))
    try:
        wait_until(idle, timeout=30)
    finally:
        for d in desks:
            d.stop.set()
        for d in desks:
            d.join(10)


def test_redis_restart_while_chats_are_ended_and_offered(center):
    c = center
    stop_desks, stop_customers, opened = threading.Event(), threading.Event(), []
    desks = [Desk(a, stop_desks) for a in c["agents"].values()]
    feeder = threading.Thread(target=customers, args=(c, stop_customers, opened), daemon=True)
    for t in [*desks, feeder]:
        t.start()
    wait_until(lambda: sum(len(d.ended) for d in desks) >= 3, timeout=20)
    restart_redis(c["cluster"])
    time.sleep(3)
    drain(c, desks, stop_customers, feeder)
    assert not [e for d in desks for e in d.errors]
    check_counts(c, desks)


def hold_chats(c, n):
    """n customers' chats offered and accepted; returns {chat_id: agent}."""
    for i in range(n):
        Customer(c["chat"].base, c["channel"]).say(f"hello {i}")
    held = {}

    def accepted():
        for a in c["agents"].values():
            for o in a.get("/api/v1/me/offers").json()["items"]:
                if a.post(f"/api/v1/chats/{o['chat_id']}/accept").status_code == 200:
                    held[o["chat_id"]] = a
        return len(held) == n
    wait_until(accepted, timeout=20)
    return held


def test_redis_restart_with_idle_pooled_connections(center):
    """Connections pooled before the restart are dead; the first requests
    after it (many at once, so that every pooled connection is used) all
    succeed, and ending the chats releases their agents."""
    c = center
    held = hold_chats(c, 4)
    admin = c["admin"]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:  # every pooled connection in use
        list(pool.map(lambda _: admin.get("/api/v1/monitor/agents"), range(32)))
        restart_redis(c["cluster"], down_s=0.5)
        time.sleep(0.5)  # idle: nothing used the pool since the restart
        firsts = list(pool.map(lambda f: status(f), [
            *(lambda: admin.get("/api/v1/monitor/agents") for _ in range(16)),
            *(lambda: admin.get("/api/v1/chats", view="active") for _ in range(16)),
            *(lambda a=a: a.get("/api/v1/me/status") for a in c["agents"].values()),
            *(lambda cid=cid, a=a: a.post(f"/api/v1/chats/{cid}/end") for cid, a in held.items()),
        ]))
    assert set(firsts) == {200}, firsts
    for aid in c["agents"]:
        s = admin.get(f"/api/v1/agents/{aid}/status").json()
        assert (s["active_chats"], s["offers"]) == (0, 0), s
    for cid in held:
        steps = [x["step"] for x in admin.get(f"/api/v1/interactions/{cid}/trace").json()["items"]]
        assert steps[-1] == "ended", steps


# --- 503 while Redis is down or loading ---------------------------------------------------

def probes(c, pbx_base, queue_id):
    """One request per service that needs Redis: name -> callable."""
    admin, agent = c["admin"], next(iter(c["agents"].values()))
    cust = Customer(c["chat"].base, c["channel"])
    pbx = {"Authorization": f"Bearer {PBX_TOKEN}"}
    return {
        "agent-registry (status)": lambda: agent.get("/api/v1/me/status"),
        "agent-registry (objects)": lambda: admin.get("/api/v1/users"),
        "skill-router": lambda: admin.get("/api/v1/monitor/queues"),
        "chat-gateway (staff)": lambda: admin.get("/api/v1/chats", view="active"),
        "chat-gateway (web chat)": lambda: cust.call("GET", "/messages"),
        "chat-gateway (web chat send)": lambda: cust.call(
            "POST", "/messages", json={"text": "x", "client_id": "probe"}),
        "call-router (staff)": lambda: admin.get("/api/v1/calls", view="active"),
        "call-router (pbx)": lambda: requests.post(
            f"{pbx_base}/pbx/v1/calls", headers=pbx, timeout=10,
            json={"call_id": "probe-1", "queue_id": queue_id, "from": "+48600", "to": "1000"}),
        "api-gateway (sign-in)": lambda: requests.post(
            admin.base + "/api/v1/auth/login", timeout=10,
            json={"login": "rf0", "password": "password-rf0"}),
    }


def bus_probes(c, aid):
    """Requests on NATS straight to the services behind api-gateway (whose
    own session check would answer first): name -> callable giving
    (status, None, text) like an HTTP probe."""
    bus = Bus(c["cluster"])
    codes = {"unavailable": 503, "internal": 500, "not_found": 404}

    def ask(subject, req, rep, body):
        def probe():
            got = bus(subject, req, rep, body, ok=None)
            code = got.get("error", {}).get("code")
            return (codes.get(code, 400) if code else 200), "bus", str(got)[:200]
        return probe
    caller = {"user_id": aid, "role": "admin"}
    return {
        "agent-registry (bus)": ask("cc.presence.get", "AgentQuery", "AgentStatus",
                                    {"caller": caller, "agent_id": aid}),
        "skill-router (bus)": ask("cc.router.get", "OfferAction", "Interaction",
                                  {"interaction_id": "probe-ix"}),
        "call-router (bus)": ask("cc.call.get", "CallRequest", "Call",
                                 {"caller": caller, "id": "probe-call"}),
    }


def answers(probe):
    try:
        r = probe()
        if isinstance(r, tuple):
            return r
        return r.status_code, r.headers.get("Retry-After"), r.text[:200]
    except requests.RequestException as e:
        return 0, None, str(e)


def all_unavailable(ps, what):
    got = {name: answers(p) for name, p in ps.items()}
    bad = {k: v for k, v in got.items() if v[0] != 503 or not v[1]}
    assert not bad, f"while Redis is {what}: {bad}"


def test_every_service_answers_503_while_redis_is_down_or_loading(center):
    c = center
    cluster, redis = c["cluster"], c["cluster"].redis
    router = cluster.start("call-router")
    calls = make(c["admin"], "/api/v1/queues", {"name": "Phone", "channel": "call",
                                                "skill_id": skill(c["admin"], "Phone")["id"]})
    ps = {**probes(c, router.base, calls["id"]), **bus_probes(c, next(iter(c["agents"])))}
    # enough data that loading it takes seconds (each key delayed 50 us)
    redis.cli("EVAL", "for i=1,60000 do redis.call('SET','junk:'..i,'x') end return 1", "0")
    redis.cli("BGREWRITEAOF")
    wait_until(lambda: "aof_rewrite_in_progress:0" in redis.cli("INFO", "persistence") and
               "aof_rewrite_scheduled:0" in redis.cli("INFO", "persistence"), timeout=20)
    redis.kill9()
    all_unavailable(ps, "down")
    argv = list(redis.argv)
    redis.argv += ["--key-load-delay", "50", "--loading-process-events-interval-bytes", "1024"]
    try:
        redis.start()
    finally:
        redis.argv = argv
    wait_port(redis.port)
    assert "LOADING" in (ping(redis) or ""), "Redis was not loading"
    all_unavailable(ps, "loading")
    assert "LOADING" in (ping(redis) or ""), "Redis finished loading before the probes ended"
    wait_until(lambda: ping(redis) == "PONG", timeout=60)
    got = {name: answers(p) for name, p in ps.items()}  # the first request after it is back
    bad = {k: v for k, v in got.items() if not 200 <= v[0] < 300 and
           not (v[1] == "bus" and v[0] == 404)}  # an unknown id on the bus: a true answer
    assert not bad, f"after Redis came back: {bad}"


def test_an_accept_whose_answer_is_lost_is_finished(center):
    """skill-router connects the agent while the chat-gateway that asked it
    dies before recording it (the answer is lost): the restarted gateway
    finishes the accept, so the agent sees the chat it holds and can end it,
    and its chat count comes back to zero."""
    cluster, admin = center["cluster"], center["admin"]
    router, chat = cluster.services["skill-router"], cluster.services["chat-gateway"]
    Customer(chat.base, center["channel"], name="Lost Answer").say("Hello?")

    def offered():
        for aid, a in center["agents"].items():
            items = a.get("/api/v1/me/offers").json()["items"]
            if items:
                return aid, a, items[0]["chat_id"]
        return None

    aid, agent, cid = wait_until(offered, timeout=20)
    router.p.send_signal(signal.SIGSTOP)  # the accept waits in skill-router's socket
    try:
        sent = threading.Thread(target=status, args=(
            lambda: agent.post(f"/api/v1/chats/{cid}/accept"),), daemon=True)
        sent.start()
        time.sleep(1.0)
        chat.kill9()
    finally:
        router.p.send_signal(signal.SIGCONT)
    sent.join(15)

    def steps():
        r = admin.get(f"/api/v1/interactions/{cid}/trace")
        return [s["step"] for s in r.json()["items"]] if r.status_code == 200 else []

    wait_until(lambda: "accepted" in steps(), timeout=10)  # the router took it
    chat.start()
    chat.wait_ready()
    held = wait_until(lambda: next((c for c in agent.get("/api/v1/chats", view="active").json()[
        "items"] if c["id"] == cid and c.get("agent_id") == aid), None), timeout=10)
    assert held["state"] != "completed"
    assert retried(lambda: agent.post(f"/api/v1/chats/{cid}/end")).status_code == 200
    assert wait_until(lambda: admin.get(f"/api/v1/agents/{aid}/status").json().get(
        "active_chats") in (0, None), timeout=10)
    assert "finished after its answer was lost" in chat.log()
