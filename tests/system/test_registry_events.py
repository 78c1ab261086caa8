"""Every configuration change is published on NATS (cc.registry.changed.<kind>)
so that other services can keep their caches fresh."""
import json
import os
import signal
import subprocess
import time

from harness import SAN_ENV, UNIT_DIR, start_stack
from test_registry_objects import make, skill, user


def test_every_configuration_change_publishes_an_event(cluster):
    admin = start_stack(cluster)
    env = dict(os.environ, CC_TEST_NATS_URL=cluster.nats.url, **SAN_ENV)
    watch = subprocess.Popen([os.path.join(UNIT_DIR, "it_changes")], env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(watch.stdout.readline()) == {"ready": True}
        time.sleep(0.2)  # the subscription reaches the server
        s = skill(admin, "Evt")
        admin.patch(f"/api/v1/skills/{s['id']}", {"description": "d"})
        u = user(admin, "evt")
        admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 5})
        admin.post(f"/api/v1/users/{u['id']}/archive")
        admin.put("/api/v1/settings/permissions", {})
        admin.delete(f"/api/v1/agents/{u['id']}/skills/{s['id']}")
        admin.delete(f"/api/v1/skills/{s['id']}")
        admin.post("/api/v1/skills", {"name": ""})  # refused: no event
        time.sleep(0.5)
    finally:
        watch.send_signal(signal.SIGTERM)
        out, _ = watch.communicate(timeout=10)
    assert watch.returncode == 0
    events = [json.loads(l) for l in out.splitlines()]
    admin_id = admin.get("/api/v1/me").json()["id"]
    got = [(e["kind"], e["id"], e["op"]) for e in events]
    assert got == [
        ("skills", s["id"], "created"), ("skills", s["id"], "updated"),
        ("users", u["id"], "created"), ("agent_skills", u["id"], "updated"),
        ("users", u["id"], "archived"), ("settings", "permissions", "updated"),
        ("agent_skills", u["id"], "updated"), ("skills", s["id"], "deleted")]
    assert all(e["by"] == admin_id and e["at"].endswith("Z") for e in events)
