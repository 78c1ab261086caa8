"""crm-sync's generic adapter (CC_CRM_TYPE=webhook): records and identification as JSON
POSTed to a configured URL, signed with HMAC-SHA256 over "<timestamp>.<body>"; a failing
receiver gets the record again later, never twice once it answered 2xx."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crm_helpers import chat, publish, request, wait_for

SECRET = "whsec-test-1"


class Receiver:
    def __init__(self):
        self.got, self.fail_next = [], 0
        rec = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ts, sig = self.headers["X-CC-Timestamp"], self.headers["X-CC-Signature"]
                want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
                ev = json.loads(body)
                rec.got.append({"ev": ev, "valid": hmac.compare_digest(sig, want),
                                "age": abs(time.time() - int(ts))})
                if rec.fail_next > 0:
                    rec.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                out = b"{}"
                if ev["event"] == "identify":
                    out = json.dumps({"items": [{"id": "42", "name": "Olena"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/crm-events"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.srv.shutdown()


def env(receiver):
    return {"CC_CRM_TYPE": "webhook", "CC_CRM_WEBHOOK_URL": receiver.url,
            "CC_CRM_WEBHOOK_SECRET": SECRET}


def test_records_are_signed_and_delivered_once_after_failures(cluster, receiver):
    receiver.fail_next = 2
    cluster.start("crm-sync", env=env(receiver))
    publish(cluster, [chat("cht_w1", 1)])
    ok = wait_for(lambda: [g for g in receiver.got if g["ev"]["event"] == "record"][2:], timeout=20)
    assert ok
    time.sleep(1)
    recs = [g for g in receiver.got if g["ev"]["event"] == "record"]
    assert len(recs) == 3  # two refused (503), then once
    assert all(g["valid"] and g["age"] < 60 for g in recs)
    assert recs[-1]["ev"]["record"]["id"] == "cht_w1" and recs[-1]["ev"]["record"]["chat"]["state"] == "new"


def test_identification_asks_the_receiver(cluster, receiver):
    cluster.start("crm-sync", env=env(receiver))
    got = request(cluster, "cc.crm.identify", "ContactQuery", "ContactList",
                  {"channel": "phone", "phone": "+380501234567"})
    assert got["items"][0]["id"] == "42"
    ident = [g for g in receiver.got if g["ev"]["event"] == "identify"]
    assert ident[0]["valid"] and ident[0]["ev"]["query"]["phone"] == "+380501234567"
