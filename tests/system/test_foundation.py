"""Every service starts, serves health and metrics, survives NATS and Redis
being killed, answers bad HTTP input with the SPEC error body, and stops
cleanly."""
import os
import socket
import subprocess
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from harness import BIN_DIR, SERVICES, wait_port


def start_all(cluster):
    for name in SERVICES:
        cluster.start(name, wait=False)
    for svc in cluster.services.values():
        svc.wait_ready()
    return list(cluster.services.values())


def wait_all(services, ready, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(s.ready() == ready for s in services):
            return
        time.sleep(0.05)
    states = {s.name: s.ready() for s in services}
    raise AssertionError(f"expected ready={ready}, got {states}")


def test_help_lists_the_configuration_variables():
    for name in SERVICES:
        out = subprocess.run([os.path.join(BIN_DIR, name), "--help"], capture_output=True,
                             text=True, timeout=10)
        assert out.returncode == 0
        for var in ("CC_NATS_URL", "CC_REDIS_URL", "CC_HTTP_ADDR", "CC_LOG_LEVEL"):
            assert var in out.stdout, (name, var)


def test_bad_configuration_is_refused_at_start(cluster):
    svc = cluster.start("crm-sync", env={"CC_LOG_LEVEL": "loud"}, wait=False)
    assert svc.p.wait(10) != 0
    svc2 = cluster.start("crm-sync", env={"CC_REDIS_URL": "http://x"}, key="crm2", wait=False)
    assert svc2.p.wait(10) != 0


def test_every_service_becomes_ready_and_stops_cleanly(cluster):
    t0 = time.time()
    services = start_all(cluster)
    assert time.time() - t0 < 15
    for svc in services:
        r = requests.get(svc.url("/healthz"), timeout=2)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
    for svc in services:
        t = time.time()
        assert svc.stop() == 0, svc.log()[-3000:]
        assert time.time() - t < 10
        assert any(l.get("msg", "").endswith("shutting down") for l in svc.log_lines())


def test_services_reconnect_after_nats_is_killed(cluster):
    services = start_all(cluster)
    cluster.nats.kill9()
    wait_all(services, ready=False)
    for svc in services:  # still alive and answering liveness while NATS is gone
        assert requests.get(svc.url("/healthz"), timeout=2).status_code == 200
        body = requests.get(svc.url("/readyz"), timeout=2).json()
        assert body["error"]["code"] == "unavailable"
    cluster.nats.start()
    wait_all(services, ready=True)


def test_services_reconnect_after_redis_is_killed(cluster):
    services = start_all(cluster)
    cluster.redis.kill9()
    wait_all(services, ready=False)
    cluster.redis.start()
    wait_all(services, ready=True)


def test_metrics_parse_as_prometheus_text(cluster):
    services = start_all(cluster)
    for svc in services:
        requests.get(svc.url("/healthz"), timeout=2)
        requests.get(svc.url("/no/such/path"), timeout=2)
        r = requests.get(svc.url("/metrics"), timeout=2)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        families = {f.name: f for f in text_string_to_metric_families(r.text)}
        assert families["cc_dependency_up"].type == "gauge"
        up = {s.labels["dep"]: s.value for s in families["cc_dependency_up"].samples}
        assert up == {"nats": 1.0, "redis": 1.0}
        reqs = families["cc_http_requests"]
        assert reqs.type == "counter"
        codes = {(s.labels["route"], s.labels["code"]) for s in reqs.samples
                 if s.name == "cc_http_requests_total"}
        assert ("/healthz", "200") in codes and ("unmatched", "404") in codes
        hist = families["cc_http_request_duration_seconds"]
        assert hist.type == "histogram"
        buckets = [s for s in hist.samples if s.name.endswith("_bucket")]
        assert buckets and buckets[-1].labels["le"] == "+Inf"


def test_unknown_paths_and_methods_get_the_spec_error_body(cluster):
    svc = cluster.start("skill-router")
    r = requests.get(svc.url("/nope"), timeout=2)
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "not found"}}
    r = requests.post(svc.url("/healthz"), data="{}", timeout=2)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_request_id_is_echoed_or_made_and_logged(cluster):
    svc = cluster.start("call-router")
    r = requests.get(svc.url("/nope"), headers={"X-Request-Id": "abc-123"}, timeout=2)
    assert r.headers["X-Request-Id"] == "abc-123"
    r = requests.get(svc.url("/nope"), headers={"X-Request-Id": "bad id\"{"}, timeout=2)
    made = r.headers["X-Request-Id"]
    assert made != "bad id\"{" and len(made) == 24
    time.sleep(0.1)
    logged = [l for l in svc.log_lines() if l.get("msg") == "http"]
    assert {"abc-123", made} <= {l["request_id"] for l in logged}
    assert all(l["status"] == 404 for l in logged)


def test_garbage_on_the_socket_does_not_hurt_the_service(cluster):
    svc = cluster.start("chat-gateway")
    for junk in (b"\x00\xff garbage\r\n\r\n", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
                 b"POST /x HTTP/1.1\r\nContent-Length: -5\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", svc.port), timeout=2) as s:
            s.sendall(junk)
            try:
                s.recv(4096)
            except OSError:
                pass
    assert requests.get(svc.url("/healthz"), timeout=2).status_code == 200
