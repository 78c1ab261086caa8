"""Sign-in throttling per (login, client address): five wrong passwords from
one address make that address wait (1 s, 2 s, 4 s ... growing), with 429 and
Retry-After; the account stays usable from another address; every delay
imposed is logged and counted in agent-registry's /metrics."""
import http.client
import json
import time

import pytest
import requests

from harness import ADMIN_PASSWORD, start_stack


@pytest.fixture
def stack(cluster):
    admin = start_stack(cluster)
    return {"admin": admin, "cluster": cluster}


def login(base, password, source="127.0.0.1", name="admin"):
    """POST /api/v1/auth/login from the local address `source` (127.0.0.0/8)."""
    host, port = base.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    c.request("POST", "/api/v1/auth/login", json.dumps({"login": name, "password": password}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    out = (r.status, r.getheader("Retry-After"), json.loads(r.read() or b"null"))
    c.close()
    return out


def metric(cluster, name):
    text = requests.get(cluster.services["agent-registry"].url("/metrics"), timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in /metrics")


def test_wrong_passwords_slow_down_one_address_not_the_account(stack):
    base, cluster = stack["admin"].base, stack["cluster"]
    for _ in range(4):
        assert login(base, "wrong-password")[0] == 401
    assert metric(cluster, "cc_registry_login_lockouts_total") == 0
    assert login(base, "wrong-password")[0] == 401  # the fifth: that address now waits 1 s
    status, retry, body = login(base, ADMIN_PASSWORD)
    assert status == 429 and retry == "1", (status, retry, body)
    assert body["error"]["code"] == "rate_limited" and "try again" in body["error"]["message"]
    # the admin signs in at once from another address
    status, _, body = login(base, ADMIN_PASSWORD, source="127.0.0.2")
    assert status == 200 and body["token"]
    # the delays grow: 1 s, then 2 s, then 4 s
    time.sleep(1.1)
    assert login(base, "wrong-password")[0] == 401
    assert login(base, ADMIN_PASSWORD)[1] == "2"
    # attempts while waiting are refused without lengthening the wait
    t0 = time.time()
    while time.time() - t0 < 1.5:
        assert login(base, "wrong-password")[0] == 429
        time.sleep(0.1)
    time.sleep(0.7)
    assert login(base, "wrong-password")[0] == 401
    status, retry, _ = login(base, ADMIN_PASSWORD)
    assert status == 429 and retry == "4"
    assert metric(cluster, "cc_registry_login_lockouts_total") == 3
    assert metric(cluster, "cc_registry_login_throttled_total") >= 10
    log = open(cluster.services["agent-registry"].log_path, encoding="utf-8", errors="replace").read()
    assert "sign-in throttled" in log and "127.0.0.1" in log
    assert "wrong-password" not in log and ADMIN_PASSWORD not in log


def test_a_successful_sign_in_forgets_the_failures(stack):
    base = stack["admin"].base
    for _ in range(4):
        assert login(base, "wrong-password")[0] == 401
    assert login(base, ADMIN_PASSWORD)[0] == 200
    for _ in range(4):  # four more are free again
        assert login(base, "wrong-password")[0] == 401
    assert login(base, ADMIN_PASSWORD)[0] == 200
