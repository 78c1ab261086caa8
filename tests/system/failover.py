"""Highly available back ends for system tests, all real processes on
loopback: Redis primary + replica watched by three Sentinels, and a
three-node NATS cluster with JetStream. A ScaleCluster runs the services
against them the way harness.Cluster does against one of each."""
import os
import subprocess
import time

import requests

from harness import Cluster, Nats, Proc, Redis, free_port, wait_port

MASTER = "mymaster"
PASSWORD = "failover-test-redis-pw-42"  # data nodes and Sentinels alike (requirepass)
DOWN_AFTER_MS = 1000  # Sentinel's down-after-milliseconds: the primary is down after this


def cli(port, *args, stdin=None):
    """redis-cli against a password-protected server or Sentinel."""
    return subprocess.run(["redis-cli", "-p", str(port), *args], input=stdin,
                          capture_output=True, text=True, timeout=30, check=True,
                          env=dict(os.environ, REDISCLI_AUTH=PASSWORD)).stdout.strip()


class SentinelRedis:
    """A primary, one replica and three Sentinels (quorum 2), all behind
    PASSWORD. `url` is what the services get as CC_REDIS_URL (its host is
    unused: they ask the Sentinels, with the same password), `env` the
    Sentinel variables."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.servers = []
        for i in (1, 2):
            d = os.path.join(workdir, f"redis{i}")
            os.makedirs(d, exist_ok=True)
            r = Redis(d)
            r.name = f"redis{i}"
            r.argv += ["--requirepass", PASSWORD, "--masterauth", PASSWORD]
            r.cli = lambda *a, port=r.port: cli(port, *a)
            self.servers.append(r)
        self.servers[1].argv += ["--replicaof", "127.0.0.1", str(self.servers[0].port)]
        self.sentinels = []
        for i in (1, 2, 3):
            port = free_port()
            conf = os.path.join(workdir, f"sentinel{i}.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind 127.0.0.1\ndaemonize no\ndir {workdir}\n"
                        f"sentinel monitor {MASTER} 127.0.0.1 {self.servers[0].port} 2\n"
                        f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
                        f"sentinel failover-timeout {MASTER} 10000\n"
                        f"sentinel parallel-syncs {MASTER} 1\n"
                        f"sentinel auth-pass {MASTER} {PASSWORD}\n"
                        f"requirepass {PASSWORD}\nsentinel sentinel-pass {PASSWORD}\n")
            s = Proc(f"sentinel{i}", ["redis-sentinel", conf], workdir)
            s.port = port
            self.sentinels.append(s)
        self.url = f"redis://:{PASSWORD}@127.0.0.1:{self.servers[0].port}"
        self.env = {"CC_REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels),
                    "CC_REDIS_MASTER": MASTER}

    def start(self):
        for r in self.servers:
            r.start()
        for s in self.sentinels:
            s.start()
            wait_port(s.port)
        # every Sentinel knows the replica and the two others before anything fails
        deadline = time.time() + 30
        while time.time() < deadline:
            if all(self.sentinel_view(s) == (1, 2) for s in self.sentinels) and \
                    self.link_up(self.servers[1]):
                return self
            time.sleep(0.2)
        raise TimeoutError("the Sentinels did not find each other and the replica in 30 s")

    def sentinel_cli(self, s, *args):
        try:
            return cli(s.port, *args)
        except subprocess.CalledProcessError:
            return ""

    def remonitor(self, port):
        """Points every Sentinel at the primary on `port` (an operator's swap)."""
        for s in self.sentinels:
            self.sentinel_cli(s, "SENTINEL", "REMOVE", MASTER)
            self.sentinel_cli(s, "SENTINEL", "MONITOR", MASTER, "127.0.0.1", str(port), "2")
            self.sentinel_cli(s, "SENTINEL", "SET", MASTER, "auth-pass", PASSWORD)

    def sentinel_view(self, s):
        """(replicas, other Sentinels) the Sentinel knows of."""
        fields = self.sentinel_cli(s, "SENTINEL", "master", MASTER).split("\n")
        kv = dict(zip(fields[0::2], fields[1::2]))
        return int(kv.get("num-slaves", -1)), int(kv.get("num-other-sentinels", -1))

    def primary_port(self):
        """The primary's port as the first Sentinel that answers names it."""
        for s in self.sentinels:
            if s.alive():
                out = self.sentinel_cli(s, "SENTINEL", "get-master-addr-by-name", MASTER).split()
                if len(out) == 2:
                    return int(out[1])
        return None

    def server(self, port):
        return next(r for r in self.servers if r.port == port)

    @staticmethod
    def info(r):
        try:
            out = r.cli("INFO", "replication")
        except subprocess.CalledProcessError:
            return {}
        return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)

    def link_up(self, replica):
        return self.info(replica).get("master_link_status") == "up"

    def lag_bytes(self):
        """Replication bytes the primary had written and the replica not yet
        received, sampled primary first, replica right after (0 when even)."""
        port = self.primary_port()
        p = self.info(self.server(port))
        r = self.info(next(x for x in self.servers if x.port != port))
        return max(0, int(p.get("master_repl_offset", 0)) - int(r.get("slave_repl_offset", 0)))

    def kill9(self):
        for p in self.sentinels + self.servers:
            p.kill9()


class NatsCluster:
    """Three nats-servers in one cluster with JetStream; `url` lists all
    three (CC_NATS_URL)."""

    def __init__(self, workdir):
        self.nodes = []
        cports = [free_port() for _ in range(3)]
        for i in range(3):
            d = os.path.join(workdir, f"nats{i + 1}")
            os.makedirs(d, exist_ok=True)
            n = Nats(d)
            n.name = f"nats{i + 1}"
            n.mport = free_port()
            routes = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(cports) if j != i)
            n.argv += ["-n", f"n{i + 1}", "-m", str(n.mport), "--cluster_name", "cc",
                       "--cluster", f"nats://127.0.0.1:{cports[i]}", "--routes", routes]
            self.nodes.append(n)
        self.url = ",".join(n.url for n in self.nodes)

    def healthy(self, node):
        try:
            return requests.get(f"http://127.0.0.1:{node.mport}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    def wait_healthy(self, nodes=None, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(self.healthy(n) for n in nodes or self.nodes):
                return
            time.sleep(0.2)
        raise TimeoutError("the NATS cluster is not healthy (JetStream meta leader) in time")

    def start(self):
        for n in self.nodes:
            n.start()
        self.wait_healthy()
        return self

    def stream_info(self, stream):
        """The stream as node 1's monitoring port reports it (replicas, messages)."""
        r = requests.get(f"http://127.0.0.1:{self.nodes[0].mport}/jsz",
                         params={"accounts": "true", "streams": "true", "config": "true"}, timeout=2).json()
        for acc in r.get("account_details", []):
            for st in acc.get("stream_detail", []):
                if st["name"] == stream:
                    return st
        return None

    def kill9(self):
        for n in self.nodes:
            n.kill9()


class ScaleCluster(Cluster):
    """harness.Cluster on the given back ends (each with url and kill9),
    every service started with `env` added (the Sentinel or stream settings)."""

    def __init__(self, workdir, nats, redis, env=None):
        self.workdir, self.nats, self.redis = workdir, nats, redis
        self.env = env or {}
        self.services = {}

    def start(self, name, env=None, key=None, wait=True):
        return super().start(name, env={**self.env, **(env or {})}, key=key, wait=wait)
