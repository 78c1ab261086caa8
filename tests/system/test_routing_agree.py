"""After a run of more than 10,000 routing decisions by two skill-router
replicas (chats accepted, declined and left to time out at random), every
replica's view of every agent (cc.router.view.agents) is the record
agent-registry holds (cc.presence.list): the same version, status, state,
offers, chats and calls. The router changes agents with the same machine
and compare-and-set as the registry and publishes what it wrote, so nothing
is left for the two to disagree about."""
import json
import os
import queue
import subprocess
import time

from harness import SAN_ENV, UNIT_DIR, Api, key, start_stack
from natslite import Nats, pb_decode, pb_encode
from test_registry_objects import make, skill, team, user
from test_routing import Bus

AGENTS = int(os.environ.get("CC_AGREE_AGENTS", "100"))
CHATS = int(os.environ.get("CC_AGREE_CHATS", "7500"))
DECISIONS = int(os.environ.get("CC_AGREE_DECISIONS", "10000"))

CALLER = {1: ("user_id", "str", None), 2: ("role", "str", None)}
QUERY = {1: ("caller", "msg", CALLER), 2: ("agent_id", "str", None)}
STATUS = {1: ("agent_id", "str", None), 2: ("status", "str", None), 3: ("state", "str", None),
          8: ("active_calls", "int", None), 9: ("active_chats", "int", None),
          10: ("offers", "int", None), 12: ("version", "int", None)}
LIST = {1: ("items[]", "msg", STATUS)}
FIELDS = ("status", "state", "active_calls", "active_chats", "offers", "version")


def views(nats, replicas):
    """Every replica's answer to cc.router.view.agents: [{agent: record}]."""
    got = queue.Queue()
    inbox = "_INBOX.agree"
    sid = nats.subscribe(inbox, lambda s, r, h, d: got.put(d))
    nats.publish("cc.router.view.agents", pb_encode({"caller": {"role": "admin"}}, QUERY),
                 reply=inbox)
    out = []
    try:
        for _ in range(replicas):
            data = got.get(timeout=10)
            items = pb_decode(data, LIST).get("items", [])
            out.append({i["agent_id"]: i for i in items})
    finally:
        nats.unsubscribe(sid)
    return out


def registry(nats):
    _, data = nats.request("cc.presence.list",
                           pb_encode({"caller": {"user_id": "test", "role": "admin"}}, QUERY),
                           timeout=30)
    return {i["agent_id"]: i for i in pb_decode(data, LIST).get("items", [])}


def differences(view, held, ids):
    out = []
    for a in ids:
        v, h = view.get(a), held.get(a)
        if v is None or h is None:
            out.append((a, "missing", v, h))
            continue
        for f in FIELDS:
            if v.get(f, 0 if f != "state" else None) != h.get(f, 0 if f != "state" else None):
                out.append((a, f, v.get(f), h.get(f)))
    return out


def test_router_and_registry_agree_on_every_agent_after_10000_decisions(cluster):
    admin = start_stack(cluster, registry_env={"CC_REGISTRY_WORKERS": "8"})
    cluster.start("skill-router")
    cluster.start("skill-router", key="skill-router-2")
    t = team(admin, "Agree", chat_invite_timeout_s=1, no_answer_delay_s=0)
    s = skill(admin, "Agree")
    q = make(admin, "/api/v1/queues", {"name": "Agree", "channel": "chat", "skill_id": s["id"],
                                       "max_concurrent_chats": 2})
    ids = []
    for i in range(AGENTS):
        u = user(admin, f"g{i}", agent={"enabled": True, "team_id": t["id"]})
        admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 1 + i % 100})
        Api(admin.base).login(f"g{i}", f"password-g{i}").put("/api/v1/me/status",
                                                              {"status": "callcenter"})
        ids.append(u["id"])
    env = dict(os.environ, CC_TEST_NATS_URL=cluster.nats.url, LOAD_QUEUE=q["id"],
               LOAD_COUNT=str(CHATS), LOAD_ROOM="2", LOAD_SECONDS="900", **SAN_ENV)
    load = subprocess.run([os.path.join(UNIT_DIR, "it_load")], env=env, capture_output=True,
                          text=True, timeout=1000)
    summary = json.loads(load.stdout)
    if summary["violations"]:  # the routing trace of the first, for the failure message
        ix_id = summary["first_violation"].split(": ")[-1]
        bus = Bus(cluster)
        summary["trace"] = bus("cc.router.trace", "OfferAction", "Trace",
                               {"interaction_id": ix_id}, ok=None)
    assert load.returncode == 0 and summary["violations"] == 0, json.dumps(summary)
    assert summary["ended"] == CHATS, summary
    assert summary["offers"] >= DECISIONS, summary  # each offer is one routing decision
    nats = Nats(cluster.nats.port)
    try:
        deadline, diff, busy = time.time() + 15, None, None
        while time.time() < deadline:  # the last events (and offer timeouts) are on their way
            held = registry(nats)
            diff = [d for view in views(nats, 2) for d in differences(view, held, ids)]
            # and every agent is free again: nothing left ringing or held
            busy = [held[a] for a in ids
                    if held[a].get("offers", 0) != 0 or held[a].get("active_chats", 0) != 0]
            if not diff and not busy:
                break
            time.sleep(0.5)
        assert not diff, (len(diff), diff[:5], [len(v) for v in views(nats, 2)], len(held))
        if busy:  # what each still holds, for the failure message
            bus = Bus(cluster)
            for b in busy[:3]:
                aoff = cluster.redis.cli("SMEMBERS", key("aoff:") + b["agent_id"]).split()
                b["aoff"] = aoff
                b["timers"] = [m for m in cluster.redis.cli("ZRANGE", key("timers:offer"), "0",
                                                            "-1").split()
                               if m.startswith(b["agent_id"])]
                b["traces"] = {i: [(t["step"], t.get("agent_id"), t["at"][14:]) for t in
                                   bus("cc.router.trace", "OfferAction", "Trace",
                                       {"interaction_id": i}, ok=None).get("items", [])
                                   if t["step"] != "skipped"] for i in aoff}
        assert not busy, json.dumps(busy[:3])
    finally:
        nats.close()
