"""Redis and NATS with credentials (issue 16, Infrastructure): services reach
a Redis ACL user or a requirepass Redis and a NATS server with user/password
or TLS, say clearly when the credentials are refused, and refuse to start
with placeholder secrets (change-me-...) unless CC_DEV_SECRETS=1."""
import os
import subprocess
import time

import pytest

from harness import Proc, Service, free_port, wait_port

PW = "Zq3v8Rr1pX0aLk2mW9sT"


class Srv:
    """Just enough of harness.Nats/Redis for Service: a url."""

    def __init__(self, url):
        self.url = url


def redis_proc(workdir, *auth):
    port = free_port()
    data = os.path.join(workdir, f"redis-{port}")
    os.makedirs(data)
    p = Proc(f"redis-{port}", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--dir", data, "--save", "", "--daemonize", "no", *auth],
             workdir).start()
    wait_port(port)
    return p, port


def nats_proc(workdir, *args):
    port = free_port()
    p = Proc(f"nats-{port}", ["nats-server", "-a", "127.0.0.1", "-p", str(port), "-js", "-sd",
                              os.path.join(workdir, f"nats-{port}"), *args], workdir).start()
    wait_port(port)
    return p, port


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        if isinstance(p, Service) and p.alive() and not getattr(p, "stuck", False):
            assert p.stop() == 0, p.log()[-3000:]
        else:
            p.kill9()


def not_ready_for(svc, seconds, may_exit=False):
    """The service stays up (or exits, when it may) but never answers ready
    for `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if may_exit and not svc.alive():
            assert svc.p.returncode != 0
            return
        assert svc.alive(), svc.log()
        assert not svc.ready()
        time.sleep(0.2)


def test_services_use_a_redis_acl_user_and_nats_user_password(tmp_path, procs):
    wd = str(tmp_path)
    redis, rport = redis_proc(wd, "--user", "default", "off", "--user", "cc", "on", f">{PW}",
                              "~*", "&*", "+@all")
    nats, nport = nats_proc(wd, "--user", "cc", "--pass", PW)
    procs += [redis, nats]
    # without credentials both refuse (the point of the change)
    out = subprocess.run(["redis-cli", "-p", str(rport), "ping"], capture_output=True, text=True)
    assert "NOAUTH" in out.stdout + out.stderr
    svc = Service("skill-router", wd, Srv(f"nats://cc:{PW}@127.0.0.1:{nport}"),
                  Srv(f"redis://cc:{PW}@127.0.0.1:{rport}")).start()
    procs.append(svc)
    svc.wait_ready()
    # a wrong Redis password: up, never ready, and the log says why (a
    # service that still waits for its start-up data is killed at the end)
    bad = Service("agent-registry", wd, Srv(f"nats://cc:{PW}@127.0.0.1:{nport}"),
                  Srv(f"redis://cc:wrong-password-123@127.0.0.1:{rport}")).start()
    bad.stuck = True
    procs.append(bad)
    not_ready_for(bad, 2)
    assert "AUTH refused: WRONGPASS" in bad.log()
    # a wrong NATS password: never connected (the server closes the
    # connection; the service may exit on it)
    bad_nats = Service("api-gateway", wd, Srv(f"nats://cc:nope-nope-nope@127.0.0.1:{nport}"),
                       Srv(f"redis://cc:{PW}@127.0.0.1:{rport}")).start()
    bad_nats.stuck = True
    procs.append(bad_nats)
    not_ready_for(bad_nats, 2, may_exit=True)


def test_services_use_redis_requirepass_and_a_nats_token(tmp_path, procs):
    wd = str(tmp_path)
    redis, rport = redis_proc(wd, "--requirepass", PW)
    nats, nport = nats_proc(wd, "--auth", PW)
    procs += [redis, nats]
    svc = Service("agent-registry", wd, Srv(f"nats://{PW}@127.0.0.1:{nport}"),
                  Srv(f"redis://:{PW}@127.0.0.1:{rport}"),
                  {"CC_BOOTSTRAP_ADMIN_PASSWORD": "a-real-admin-password"}).start()
    procs.append(svc)
    svc.wait_ready()


def test_nats_over_tls_verified_against_the_given_ca(tmp_path, procs):
    wd = str(tmp_path)
    ca_key, ca = tmp_path / "ca.key", tmp_path / "ca.pem"
    key, csr, cert = tmp_path / "srv.key", tmp_path / "srv.csr", tmp_path / "srv.pem"
    ext = tmp_path / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=cc-test-ca", "-keyout", str(ca_key), "-out", str(ca))
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(key), "-out", str(csr))
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert))
    redis, rport = redis_proc(wd)
    nats, nport = nats_proc(wd, "--tls", "--tlscert", str(cert), "--tlskey", str(key),
                            "--user", "cc", "--pass", PW)
    procs += [redis, nats]
    url = f"tls://cc:{PW}@127.0.0.1:{nport}"
    svc = Service("skill-router", wd, Srv(url), Srv(f"redis://127.0.0.1:{rport}"),
                  {"CC_NATS_TLS_CA": str(ca)}).start()
    procs.append(svc)
    svc.wait_ready()
    # the same server is not trusted without the CA: the handshake fails, the
    # connection is closed, the service never gets ready
    untrusted = Service("api-gateway", wd, Srv(url), Srv(f"redis://127.0.0.1:{rport}")).start()
    untrusted.stuck = True
    procs.append(untrusted)
    not_ready_for(untrusted, 3, may_exit=True)


def test_rediss_is_refused_with_the_reason(tmp_path):
    svc = Service("skill-router", str(tmp_path), Srv("nats://127.0.0.1:1"),
                  Srv("rediss://127.0.0.1:6380")).start()
    assert svc.p.wait(20) != 0
    assert "rediss://" in svc.log() and "TLS" in svc.log()


PLACEHOLDERS = [
    ("agent-registry", {"CC_BOOTSTRAP_ADMIN_PASSWORD": "change-me-admin"},
     "CC_BOOTSTRAP_ADMIN_PASSWORD"),
    ("call-router", {"CC_PBX_TOKEN": "change-me-pbx-token"}, "CC_PBX_TOKEN"),
    ("crm-sync", {"CC_CRM_WEBHOOK_SECRET": "CHANGE-ME-webhook"}, "CC_CRM_WEBHOOK_SECRET"),
    ("crm-sync", {"CC_CRM_PROVISIONING_TOKEN": "replace-me"}, "CC_CRM_PROVISIONING_TOKEN"),
    ("skill-router", {"CC_REDIS_URL": "redis://:change-me-redis@127.0.0.1:{redis}"},
     "CC_REDIS_URL"),
    ("api-gateway", {"CC_NATS_URL": "nats://cc:change-me-nats@127.0.0.1:{nats}"},
     "CC_NATS_URL"),
]


@pytest.mark.parametrize("name,env,var", PLACEHOLDERS, ids=[p[2] for p in PLACEHOLDERS])
def test_placeholder_secrets_are_refused_unless_development(cluster, name, env, var):
    ports = {"redis": cluster.redis.port, "nats": cluster.nats.port}
    env = {k: v.format(**ports) for k, v in env.items()}
    svc = Service(name, cluster.workdir, cluster.nats, cluster.redis, env).start()
    assert svc.p.wait(20) != 0
    assert var in svc.log() and "CC_DEV_SECRETS" in svc.log()
    if "URL" in var:
        return  # the servers here take no credentials: a dev start would not get ready
    dev = Service(name, cluster.workdir, cluster.nats, cluster.redis,
                  {**env, "CC_DEV_SECRETS": "1"}).start()
    try:
        dev.wait_ready()
        assert var in dev.log()  # warned
    finally:
        assert dev.stop() == 0, dev.log()[-3000:]


def test_streams_get_three_copies_on_a_three_node_jetstream_cluster(tmp_path, procs):
    """CC_NATS_STREAM_REPLICAS=3 (the Kubernetes config for the 3-node NATS
    cluster of deploy/helm/nats-values.yaml): chat-gateway's streams are R3.
    The services are given one node's URL (the Kubernetes Service is one
    name for all three)."""
    import natslite
    from harness import ADMIN_PASSWORD, FAST_HASH
    wd = str(tmp_path)
    ports = [(free_port(), free_port()) for _ in range(3)]
    routes = ",".join(f"nats://127.0.0.1:{c}" for _, c in ports)
    for i, (p, c) in enumerate(ports):
        n = Proc(f"nats-{i}", ["nats-server", "-a", "127.0.0.1", "-p", str(p), "-js", "-sd",
                               os.path.join(wd, f"js{i}"), "-n", f"n{i}", "--cluster_name", "cc",
                               "--cluster", f"nats://127.0.0.1:{c}", "--routes", routes],
                 wd).start()
        procs.append(n)
    for p, _ in ports:
        wait_port(p)
    redis, rport = redis_proc(wd)
    procs.append(redis)
    urls = Srv(f"nats://127.0.0.1:{ports[1][0]}")
    env = {"CC_NATS_STREAM_REPLICAS": "3"}
    deadline = time.time() + 30
    while True:  # until the cluster has a meta leader and makes an R3 stream
        nc = natslite.Nats(ports[0][0])
        try:
            info = nc.js_api("STREAM.CREATE.probe", {"name": "probe", "subjects": ["probe"],
                                                      "num_replicas": 3}, timeout=2)
        except natslite.NatsError as e:
            info = {"error": str(e)}
        nc.close()
        if "error" not in info:
            break
        assert time.time() < deadline, info
        time.sleep(0.5)
    reg = Service("agent-registry", wd, urls, Srv(f"redis://127.0.0.1:{rport}"),
                  {**env, "CC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD, **FAST_HASH}).start()
    procs.append(reg)
    reg.wait_ready(30)
    gw = Service("chat-gateway", wd, urls, Srv(f"redis://127.0.0.1:{rport}"), env).start()
    procs.append(gw)
    gw.wait_ready(30)
    nc = natslite.Nats(ports[2][0])
    try:
        for stream in ("CHAT_IN", "CHAT_OUT"):
            info = nc.js_api(f"STREAM.INFO.{stream}")
            assert info["config"]["num_replicas"] == 3, info
            assert len(info["cluster"].get("replicas", [])) == 2, info["cluster"]
    finally:
        nc.close()
