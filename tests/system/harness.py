"""Real processes for system tests: nats-server (JetStream, file storage),
redis-server (AOF) and the project's services, each on a free port in a
temporary directory, with kill -9 and restart for failure tests."""
import json
import os
import shutil
import random
import signal
import socket
import subprocess
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.path.abspath(os.environ.get("CC_BIN_DIR", os.path.join(ROOT, "build", "bin")))
UNIT_DIR = os.path.abspath(os.environ.get("CC_UNIT_DIR", os.path.join(ROOT, "build", "tests")))
SERVICES = ["agent-registry", "skill-router", "chat-gateway", "call-router", "crm-sync",
            "api-gateway"]
# Sanitizer builds: a leak or undefined behaviour makes the process exit non-zero.
SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:exitcode=23:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    "LSAN_OPTIONS": "suppressions=" + os.path.join(ROOT, "tests", "lsan.supp"),
}


# chat-gateway's web-chat limits, per minute, far above what any test sends
WEBCHAT_NO_LIMITS = {f"CC_WEBCHAT_{what}_PER_{scope}": "1000000" for what in ("SESSIONS", "MESSAGES")
                     for scope in ("ADDRESS", "CHANNEL")}

# The routing domain of the services tests start (CC_DOMAIN; "main" when
# unset) and the hash tag every Redis key of theirs carries (common/cc_keys.h):
# a test that reads Redis keys names them with key().
DOMAIN = "main"


def tag(domain=DOMAIN):
    return "{cc:%s}" % domain


def key(rest, domain=DOMAIN):
    """The Redis key `rest` (e.g. "agent:usr_1") of a deployment of `domain`."""
    return tag(domain) + ":" + rest


# call-router refuses to start without a real token; tests use this one.
PBX_TOKEN = "pbx-token-for-tests-0123456789"


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_EPHEMERAL_LOW = _ephemeral_low()
_PORT_LOW = 10000 if _EPHEMERAL_LOW > 12000 else 1025
_handed = set()
# pytest-xdist workers (gw0, gw1, ...) each take their own slice of the range,
# so two workers never hand out the same port.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
_SLICE = (_EPHEMERAL_LOW - _PORT_LOW) // max(_WORKERS, 1)
_MY_LOW = _PORT_LOW + _SLICE * (int(_WORKER[2:]) if _WORKER[2:].isdigit() else 0)


def free_port():
    """A free port below the kernel's ephemeral range: a port the kernel hands
    out for outgoing connections (a service's own to NATS or Redis) could be
    taken by one before the service listens on it. Random so that test runs
    side by side rarely meet; never the same port twice in one run."""
    for _ in range(1000):
        port = random.randrange(_MY_LOW, _MY_LOW + _SLICE)
        if port in _handed:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_port(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"port {port} not open after {timeout}s")


class Proc:
    """A child process with its log file; start/kill9/stop/restart."""

    def __init__(self, name, argv, workdir, env=None):
        self.name, self.argv, self.workdir, self.env = name, argv, workdir, env
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.p = None

    def start(self):
        log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.update(self.env or {})
        self.p = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  cwd=self.workdir)
        log.close()
        return self

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def kill9(self):
        if self.alive():
            self.p.send_signal(signal.SIGKILL)
            self.p.wait()

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code."""
        if not self.alive():
            return self.p.returncode if self.p else None
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Nats(Proc):
    def __init__(self, workdir):
        self.port = free_port()
        self.monitor_port = free_port()  # /varz: the server's message counters (make bench)
        store = os.path.join(workdir, "nats")
        super().__init__("nats-server", ["nats-server", "-js", "-sd", store, "-a", "127.0.0.1",
                                         "-p", str(self.port), "-m", str(self.monitor_port)],
                         workdir)
        self.url = f"nats://127.0.0.1:{self.port}"
        self.monitor = f"http://127.0.0.1:{self.monitor_port}"

    def start(self):
        super().start()
        wait_port(self.port)
        return self


class Redis(Proc):
    def __init__(self, workdir):
        self.port = free_port()
        data = os.path.join(workdir, "redis")
        os.makedirs(data, exist_ok=True)
        super().__init__("redis-server", [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", data,
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--daemonize", "no"], workdir)
        self.url = f"redis://127.0.0.1:{self.port}"

    def start(self):
        super().start()
        wait_port(self.port)
        return self

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                             text=True, check=True)
        return out.stdout.strip()


class Service(Proc):
    def __init__(self, name, workdir, nats, redis, env=None):
        self.port = free_port()
        full = {"CC_NATS_URL": nats.url, "CC_REDIS_URL": redis.url,
                "CC_HTTP_ADDR": f"127.0.0.1:{self.port}", "CC_LOG_LEVEL": "info", **SAN_ENV}
        if name == "call-router":
            full["CC_PBX_TOKEN"] = PBX_TOKEN
        if name == "crm-sync":  # the stand-ins listen on 127.0.0.1 (SPEC 8 refuses it otherwise)
            full["CC_CRM_ALLOW_PRIVATE"] = "1"
        if name == "chat-gateway":  # every test's customers come from 127.0.0.1: limits out of
            full.update(WEBCHAT_NO_LIMITS)  # the way (test_chat_limits.py sets its own)
        full.update(env or {})
        self.base = f"http://127.0.0.1:{self.port}"
        if full.get("CC_PUBLIC_URL") == "self":  # chat-gateway's links point at itself
            full["CC_PUBLIC_URL"] = self.base
        super().__init__(name, [os.path.join(BIN_DIR, name)], workdir, full)

    def url(self, path):
        return self.base + path

    def ready(self):
        try:
            return requests.get(self.url("/readyz"), timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ready():
                return
            if not self.alive():
                raise RuntimeError(f"{self.name} exited {self.p.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{self.log()[-3000:]}")

    def log_lines(self):
        """The JSON log lines the service wrote (sanitizer reports are not JSON)."""
        out = []
        for line in self.log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


class Cluster:
    """nats + redis + any services, all stopped (and checked) at the end.
    `domain` sets the services' CC_DOMAIN; `redis` shares another cluster's
    Redis (two deployments on one Redis), which this one then leaves running."""

    domain = DOMAIN  # the defaults of subclasses with their own __init__ (failover.py)
    own_redis = True

    def __init__(self, workdir, domain=None, redis=None):
        self.workdir = workdir
        self.domain = domain or DOMAIN
        self.nats = Nats(workdir).start()
        self.own_redis = redis is None
        self.redis = redis or Redis(workdir).start()
        self.services = {}

    def key(self, rest):
        """The Redis key `rest` of this cluster's domain."""
        return key(rest, self.domain)

    def start(self, name, env=None, key=None, wait=True):
        if self.domain != DOMAIN:
            env = {"CC_DOMAIN": self.domain, **(env or {})}
        svc = Service(name, self.workdir, self.nats, self.redis, env).start()
        self.services[key or name] = svc
        if wait:
            svc.wait_ready()
        return svc

    def close(self):
        failures = []
        for key, svc in self.services.items():
            if svc.alive():
                code = svc.stop()
                if code != 0:
                    failures.append(f"{key} exited {code} on SIGTERM:\n{svc.log()[-4000:]}")
        self.nats.kill9()
        if self.own_redis:
            self.redis.kill9()
        return failures


ADMIN_PASSWORD = "admin-secret-pw-1"
# argon2id kept cheap in tests (the sanitizer build is slow); production uses
# libsodium's interactive limits.
FAST_HASH = {"CC_PWHASH_OPSLIMIT": "1", "CC_PWHASH_MEMLIMIT_KB": "1024"}


class Api:
    """A signed-in (or not) client of api-gateway."""

    def __init__(self, base, token=None):
        self.base, self.token = base, token
        self.s = requests.Session()

    def call(self, method, path, body=None, raw=None, headers=None, **params):
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        kw = {"params": params or None, "headers": h, "timeout": 10}
        if raw is not None:
            kw["data"] = raw
        elif body is not None:
            kw["json"] = body
        return self.s.request(method, self.base + path, **kw)

    def get(self, path, **params):
        return self.call("GET", path, **params)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else {}, **kw)

    def patch(self, path, body):
        return self.call("PATCH", path, body)

    def put(self, path, body):
        return self.call("PUT", path, body)

    def delete(self, path):
        return self.call("DELETE", path)

    def login(self, login, password):
        r = self.call("POST", "/api/v1/auth/login", {"login": login, "password": password})
        assert r.status_code == 200, r.text
        return Api(self.base, r.json()["token"])


def start_stack(cluster, registry_env=None, gateway_env=None):
    """agent-registry + api-gateway; returns an Api signed in as the first admin."""
    env = {"CC_BOOTSTRAP_ADMIN_LOGIN": "admin", "CC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
           **FAST_HASH, **(registry_env or {})}
    cluster.start("agent-registry", env=env)
    gw = cluster.start("api-gateway", env={"CC_OPENAPI_PATH": os.path.join(ROOT, "docs",
                                                                          "openapi.yaml"),
                                           **(gateway_env or {})})
    return Api(gw.base).login("admin", ADMIN_PASSWORD)
