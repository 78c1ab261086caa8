"""Shared pieces of crm-sync's system tests: the stand-in Creatio, crm-sync
configured for it, records published to RECORDS the way chat-gateway and
call-router publish them (tests/integration/it_records_publish), and bus
requests (it_request)."""
import json
import os
import subprocess
import time

import creatio_standin as cs
from harness import UNIT_DIR


def crm_env(st, **extra):
    env = {"CC_CRM_TYPE": "creatio", "CC_CRM_URL": st.url, "CC_CRM_ODATA_PREFIX": "/0/odata",
           "CC_CRM_USER": "Supervisor", "CC_CRM_PASSWORD": "Supervisor",
           "CC_CRM_UI_URL": "https://crm.example.com/0/Nui/ViewModule.aspx#CardModuleV2/{object}PageV2/edit/{id}",
           "CC_CRM_TIMEOUT_MS": "3000"}
    env.update(extra)
    return env


def publish(cluster, records):
    """Stores each record (dict) in RECORDS; returns once JetStream has them all."""
    lines = "".join(json.dumps(r) + "\n" for r in records)
    out = subprocess.run([os.path.join(UNIT_DIR, "it_records_publish")], input=lines.encode(),
                         capture_output=True, timeout=60,
                         env={**os.environ, "CC_TEST_NATS_URL": cluster.nats.url})
    assert out.returncode == 0, out.stderr.decode()
    assert int(out.stdout) == len(records)


def request(cluster, subject, req_type, rep_type, body):
    out = subprocess.run([os.path.join(UNIT_DIR, "it_request"), subject, req_type, rep_type,
                          json.dumps(body)], capture_output=True, timeout=30,
                         env={**os.environ, "CC_TEST_NATS_URL": cluster.nats.url})
    return json.loads(out.stdout)


def chat(cid, version, state="new", **fields):
    c = {"id": cid, "channel_id": "ch1", "source": "telegram", "queue_id": "q1",
         "queue_name": "Support L1", "state": state, "name": "Olena", "from": "559912",
         "to": "Support bot", "created_at": "2024-05-02T09:14:00.000Z"}
    if state != "new":
        c["start_time"] = "2024-05-02T09:15:00.000Z"
    if state == "completed":
        c["end_time"] = "2024-05-02T09:31:10.000Z"
        c["result_details"] = "Password reset"
    c.update(fields)
    return {"kind": "chat", "id": cid, "version": version,
            "changed_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "chat": c}


def call(cid, version, state="waiting", **fields):
    c = {"id": cid, "call_id": "sip-" + cid, "direction": "inbound", "from": "+380501234567",
         "to": "+380443334455", "queue_id": "q2", "state": state,
         "enqueued_at": "2024-05-02T10:00:00.000Z"}
    if state == "ended":
        c.update({"answered_at": "2024-05-02T10:00:20.000Z", "ended_at": "2024-05-02T10:05:20.000Z",
                  "talk_s": 300.0, "outcome": "answered", "hangup_by": "caller"})
    c.update(fields)
    return {"kind": "call", "id": cid, "version": version,
            "changed_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "call": c}


def rows(st, set_name, field=None, value=None):
    """The stand-in's rows of a set (those whose field equals value)."""
    with st.lock:
        got = [dict(r) for r in st.store.rows.get(set_name, {}).values()]
    return [r for r in got if field is None or r.get(field) == value]


def wait_for(pred, timeout=20.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
