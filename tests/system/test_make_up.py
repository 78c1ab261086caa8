"""`make up` brings the whole system to ready quickly; `make down` leaves no
process behind (the scripts behind them, on free ports and a temp data dir)."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import requests

import sip
from harness import ROOT, SAN_ENV, free_port

PORT_VARS = ["CC_NATS_PORT", "CC_REDIS_PORT", "CC_API_PORT", "CC_CHAT_PORT", "CC_CALL_PORT",
             "CC_REGISTRY_PORT", "CC_ROUTER_PORT", "CC_CRM_PORT"]


def test_up_starts_everything_ready_within_15s_and_down_stops_all():
    run_dir = tempfile.mkdtemp(prefix="cc-up-")
    env = dict(os.environ, CC_RUN_DIR=run_dir, **SAN_ENV)
    env.pop("CC_BOOTSTRAP_ADMIN_PASSWORD", None)
    for var in PORT_VARS:
        env[var] = str(free_port())
    env["CC_SIP_PORT"] = str(sip.free_sip_port())
    t0 = time.time()
    up = subprocess.run(["bash", "tools/up.sh"], cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=60)
    elapsed = time.time() - t0
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert elapsed < 15, elapsed
        assert "first admin login:         admin / " in up.stdout
        password = open(os.path.join(run_dir, "admin-password")).read()
        assert len(password) >= 20 and password in up.stdout
        for var in PORT_VARS[2:]:
            r = requests.get(f"http://127.0.0.1:{env[var]}/readyz", timeout=2)
            assert r.status_code == 200, var
        # Redis and NATS want the generated credentials; everything is on loopback
        redis_port, nats_port = env["CC_REDIS_PORT"], env["CC_NATS_PORT"]
        anon = subprocess.run(["redis-cli", "-p", redis_port, "set", "k", "v"],
                              capture_output=True, text=True)
        assert "NOAUTH" in anon.stdout + anon.stderr
        redis_pw = open(os.path.join(run_dir, "redis-password")).read()
        assert len(redis_pw) >= 24
        authed = subprocess.run(["redis-cli", "-p", redis_port, "--user", "cc", "--pass",
                                 redis_pw, "--no-auth-warning", "ping"],
                                capture_output=True, text=True)
        assert authed.stdout.strip() == "PONG"
        assert nats_rejects_anonymous(int(nats_port))
        for name in ("redis-password", "nats-password", "redis.conf", "nats.conf"):
            assert os.stat(os.path.join(run_dir, name)).st_mode & 0o077 == 0, name
        for var in PORT_VARS:
            assert listen_addresses(int(env[var])) == {"127.0.0.1"}, var
        pids = [int(open(os.path.join(run_dir, "pids", f)).read())
                for f in os.listdir(os.path.join(run_dir, "pids"))]
        # the reference PBX when kamailio is installed (make deps)
        kamailio = shutil.which("kamailio") is not None
        assert len(pids) == 8 + kamailio, pids
        if kamailio:
            assert sip.udp_bound(int(env["CC_SIP_PORT"]))
            assert f"sip:127.0.0.1:{env['CC_SIP_PORT']}" in up.stdout
    finally:
        down = subprocess.run(["bash", "tools/down.sh"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "killing" not in down.stdout  # every process stopped on SIGTERM
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}"), pid
    assert os.listdir(os.path.join(run_dir, "pids")) == []


def nats_rejects_anonymous(port):
    """NATS answers a CONNECT without credentials with an authorization error."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        f = s.makefile("rb")
        info = f.readline()
        s.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
        answer = f.readline()
    return b'"auth_required":true' in info and b"Authorization Violation" in answer


def listen_addresses(port):
    """The local addresses of the TCP sockets listening on `port`."""
    out = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, p = local.split(":")
                if state == "0A" and int(p, 16) == port:
                    out.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]) if len(addr) == 8
                            else addr)
    return out


def test_reset_wipes_the_run_dir_make_up_used():
    """CC_RUN_DIR elsewhere: `make reset` wipes that directory, not .run/."""
    run_dir = tempfile.mkdtemp(prefix="cc-reset-")
    os.makedirs(os.path.join(run_dir, "pids"))
    open(os.path.join(run_dir, "redis.aof"), "w").write("data")
    dot_run = os.path.join(ROOT, ".run")
    had_dot_run = os.path.isdir(dot_run)
    env = dict(os.environ, CC_RUN_DIR=run_dir)
    r = subprocess.run(["make", "-s", "reset"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not os.path.exists(run_dir)
    assert os.path.isdir(dot_run) == had_dot_run
    r = subprocess.run(["make", "-s", "reset"], cwd=ROOT, env=dict(os.environ, CC_RUN_DIR=ROOT),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "will not wipe" in r.stdout + r.stderr
    assert os.path.isdir(os.path.join(ROOT, "common"))


def test_up_with_replica_counts_each_on_its_own_port_and_scales_in_by_draining():
    """ROUTERS=3 CHATGWS=2 REGISTRIES=2: each replica ready on the service's
    port + (k-1) * CC_REPLICA_PORT_STEP; `make up` again with ROUTERS=1 stops
    the two extra routers with SIGTERM (they drain and exit on their own)."""
    run_dir = tempfile.mkdtemp(prefix="cc-up-replicas-")
    env = dict(os.environ, CC_RUN_DIR=run_dir, ROUTERS="3", CHATGWS="2", REGISTRIES="2",
               CC_REPLICA_PORT_STEP="7", **SAN_ENV)
    env.pop("CC_BOOTSTRAP_ADMIN_PASSWORD", None)
    for var in PORT_VARS:
        env[var] = str(free_port())
    env["CC_SIP_PORT"] = str(sip.free_sip_port())
    step = 7
    want = {"skill-router": ("CC_ROUTER_PORT", 3), "chat-gateway": ("CC_CHAT_PORT", 2),
            "agent-registry": ("CC_REGISTRY_PORT", 2)}
    try:
        up = subprocess.run(["bash", "tools/up.sh"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=90)
        assert up.returncode == 0, up.stdout + up.stderr
        for svc, (var, n) in want.items():
            for k in range(1, n + 1):
                port = int(env[var]) + (k - 1) * step
                name = svc if k == 1 else f"{svc}-{k}"
                assert f"{name} " in up.stdout and f":{port} " in up.stdout, up.stdout
                assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).ok, name
        pid_of = {f[:-4]: int(open(os.path.join(run_dir, "pids", f)).read())
                  for f in os.listdir(os.path.join(run_dir, "pids"))}
        assert {"skill-router-2", "skill-router-3", "chat-gateway-2", "agent-registry-2"} <= \
            set(pid_of)
        scale_in = subprocess.run(["bash", "tools/up.sh"], cwd=ROOT,
                                  env=dict(env, ROUTERS="1"), capture_output=True, text=True,
                                  timeout=90)
        assert scale_in.returncode == 0, scale_in.stdout + scale_in.stderr
        for name in ("skill-router-2", "skill-router-3"):
            assert f"{name} drained and stopped (scale-in)" in scale_in.stdout, scale_in.stdout
            assert not os.path.exists(f"/proc/{pid_of[name]}")
            assert not os.path.exists(os.path.join(run_dir, "pids", f"{name}.pid"))
        assert "killing" not in scale_in.stdout
        log = open(os.path.join(run_dir, "logs", "skill-router-2.log")).read()
        assert "shutting down" in log and "ERROR: AddressSanitizer" not in log
    finally:
        down = subprocess.run(["bash", "tools/down.sh"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "killing" not in down.stdout
    for pid in pid_of.values():
        assert not os.path.exists(f"/proc/{pid}"), pid
    assert os.listdir(os.path.join(run_dir, "pids")) == []
