"""Two skill-router replicas, hundreds of agents and a thousand chats, agents
accepting, declining and letting offers time out at random, one replica
killed with kill -9 and restarted mid-run: no chat is offered to two agents
at once, no agent holds more than its capacity, every chat ends, and no agent
is left offering.

The load and its checks are shared: test_scale.py runs them with more
replicas of every service, through a Redis failover and a NATS cluster."""
import json
import os
import subprocess
import threading
import time

from harness import SAN_ENV, UNIT_DIR, Api, start_stack
from test_registry_objects import make, skill, team, user
from test_routing import Bus


def ix_state(bus, ix_id):
    return bus("cc.router.get", "OfferAction", "Interaction", {"interaction_id": ix_id}, ok=None)

AGENTS = int(os.environ.get("CC_LOAD_AGENTS", "200"))
CHATS = int(os.environ.get("CC_LOAD_CHATS", "1000"))


def load_world(admin, agents=AGENTS):
    """A team, a skill, a chat queue (2 chats an agent) and `agents` agents
    signed in and in callcenter; (queue id, agent ids)."""
    t = team(admin, "Load", chat_invite_timeout_s=1, no_answer_delay_s=0)
    s = skill(admin, "Load")
    q = make(admin, "/api/v1/queues", {"name": "Load", "channel": "chat", "skill_id": s["id"],
                                       "max_concurrent_chats": 2})
    ids = []
    for i in range(agents):
        u = user(admin, f"l{i}", agent={"enabled": True, "team_id": t["id"]})
        admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 10 + i})
        Api(admin.base).login(f"l{i}", f"password-l{i}").put("/api/v1/me/status",
                                                              {"status": "callcenter"})
        ids.append(u["id"])
    return q["id"], ids


def start_load(nats_url, queue_id, chats=CHATS, seconds=120, open_file=None, enqueuers=1):
    """tests/integration/it_load (the agents' side and the invariant checks);
    `enqueuers` threads enqueue at once (1: one chat every 2 ms)."""
    env = dict(os.environ, CC_TEST_NATS_URL=nats_url, LOAD_QUEUE=queue_id,
               LOAD_COUNT=str(chats), LOAD_ROOM="2", LOAD_SECONDS=str(seconds),
               LOAD_ENQUEUERS=str(enqueuers), **SAN_ENV)
    if open_file:
        env["LOAD_OPEN_FILE"] = open_file
    return subprocess.Popen([os.path.join(UNIT_DIR, "it_load")], env=env,
                            stdout=subprocess.PIPE, text=True)


def finish_load(cluster, load, timeout=300):
    """Waits for the load; its summary (names what was left open, if any)."""
    out, _ = load.communicate(timeout=timeout)
    summary = json.loads(out)
    summary["returncode"] = load.returncode
    if summary["open"]:  # name what was left, for the failure message
        bus = Bus(cluster)
        summary["left"] = {i: ix_state(bus, i) for i in summary["open"].split(",")}
    return summary


def stuck_agents(admin, ids):
    """Agents of `ids` still offering or holding a chat after the load."""
    time.sleep(0.5)
    agents = admin.get("/api/v1/monitor/agents").json()["items"]
    return [a for a in agents if a["agent_id"] in ids and
            (a["offers"] or a["state"] == "offering" or a["active_chats"])]


def check_load(summary, chats=CHATS):
    """The load's invariants: nothing offered twice at once, nobody over
    capacity, every chat ended, and answers of every kind happened."""
    assert summary["returncode"] == 0 and summary["violations"] == 0, summary
    assert summary["ended"] == chats, summary
    assert summary["declined"] > 0 and summary["timed_out"] > 0, summary


def test_two_replicas_kill_one_mid_run_nothing_lost_or_offered_twice(cluster):
    admin = start_stack(cluster, registry_env={"CC_REGISTRY_WORKERS": "8"})
    cluster.start("skill-router")
    cluster.start("skill-router", key="skill-router-2")
    queue_id, ids = load_world(admin)
    load = start_load(cluster.nats.url, queue_id)

    def chaos():
        time.sleep(3)
        cluster.services["skill-router-2"].kill9()
        time.sleep(1)
        cluster.services["skill-router-2"].start().wait_ready()

    killer = threading.Thread(target=chaos)
    killer.start()
    summary = finish_load(cluster, load)
    killer.join()
    check_load(summary)
    stuck = stuck_agents(admin, ids)
    assert not stuck, stuck
