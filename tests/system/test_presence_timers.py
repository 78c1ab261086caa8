"""State timers live in Redis: they fire once, on time, with any number of
agent-registry replicas, and after a replica is killed and restarted."""
import datetime
import json
import os
import signal
import subprocess
import time

from harness import ADMIN_PASSWORD, FAST_HASH, SAN_ENV, UNIT_DIR, Api, start_stack
from test_presence import Router
from test_registry_objects import team, user

AGENTS = 20
WRAP_S = 2


def ms(rfc3339):
    return datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000


class Watch:
    """Collects agent status events (cc.presence.changed.>)."""

    def __init__(self, cluster):
        env = dict(os.environ, CC_TEST_NATS_URL=cluster.nats.url, **SAN_ENV)
        self.p = subprocess.Popen([os.path.join(UNIT_DIR, "it_changes"), "status"], env=env,
                                  stdout=subprocess.PIPE, text=True)
        assert json.loads(self.p.stdout.readline()) == {"ready": True}
        time.sleep(0.2)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        out, _ = self.p.communicate(timeout=10)
        return [json.loads(l) for l in out.splitlines()]


def agents_in_wrap_up(cluster, admin):
    """AGENTS agents, each ending a chat now: all in post_processing."""
    t = team(admin, "T", wrap_up_time_s=WRAP_S)
    route, ids = Router(cluster), []
    for i in range(AGENTS):
        u = user(admin, f"a{i}", agent={"enabled": True, "team_id": t["id"]})
        api = Api(admin.base).login(f"a{i}", f"password-a{i}")
        api.put("/api/v1/me/status", {"status": "callcenter"})
        route(u["id"], "offer", "chat")
        route(u["id"], "accept", "chat")
        ids.append(u["id"])
    for aid in ids:
        assert route(aid, "end", "chat")["state"] == "post_processing"
    return ids


def wrap_up_ends(events, ids):
    ended = [e for e in events if e.get("reason") == "wrap_up_ended"]
    counts = {aid: sum(e["agent_id"] == aid for e in ended) for aid in ids}
    return ended, counts


def test_two_replicas_fire_each_timer_exactly_once_and_on_time(cluster):
    admin = start_stack(cluster)
    cluster.start("agent-registry", key="agent-registry-2",
                  env={"CC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD, **FAST_HASH})
    watch = Watch(cluster)
    ids = agents_in_wrap_up(cluster, admin)
    time.sleep(WRAP_S + 2)
    events = watch.stop()
    ended, counts = wrap_up_ends(events, ids)
    assert counts == {aid: 1 for aid in ids}
    started = {e["agent_id"]: ms(e["state_since"]) for e in events
               if e.get("state") == "post_processing"}
    late = [ms(e["state_since"]) - (started[e["agent_id"]] + WRAP_S * 1000) for e in ended]
    assert all(0 <= x <= 1000 for x in late), late


def test_timers_pending_while_the_registry_is_killed_fire_once_after_restart(cluster):
    admin = start_stack(cluster)
    watch = Watch(cluster)
    ids = agents_in_wrap_up(cluster, admin)
    registry = cluster.services["agent-registry"]
    registry.kill9()
    time.sleep(WRAP_S + 1)  # every timer comes due while no replica runs
    registry.start().wait_ready()
    back = time.time() * 1000
    time.sleep(2)
    events = watch.stop()
    ended, counts = wrap_up_ends(events, ids)
    assert counts == {aid: 1 for aid in ids}
    late = [ms(e["state_since"]) - back for e in ended]
    assert all(x <= 1000 for x in late), late
    for aid in ids:
        assert admin.get(f"/api/v1/agents/{aid}/status").json()["state"] == "waiting"
