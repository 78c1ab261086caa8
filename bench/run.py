#!/usr/bin/env python3
"""make bench: starts nats-server, redis-server, agent-registry and
api-gateway (release build, production password hashing) on free ports and
runs each benchmark binary against them."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))
os.environ.setdefault("CC_BIN_DIR", os.path.join(HERE, "..", "build", "bin"))

import harness  # noqa: E402

PASSWORD = "bench-password-1"


def run(name, registry_env):
    """Runs build/bench/<name> against a fresh system; returns its exit code."""
    work = tempfile.mkdtemp(prefix="cc-bench-")
    c = harness.Cluster(work)
    try:
        c.start("agent-registry", env={"CC_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
                                       "CC_LOG_LEVEL": "warn", **registry_env})
        gw = c.start("api-gateway", env={"CC_LOG_LEVEL": "warn"})
        env = dict(os.environ, CC_BENCH_API=gw.base, CC_BENCH_NATS=c.nats.url,
                   CC_BENCH_REDIS=c.redis.url, CC_BENCH_PASSWORD=PASSWORD)
        rc = subprocess.run([os.path.join(HERE, "..", "build", "bench", name)], env=env).returncode
    finally:
        failures = c.close()
    if failures:
        print("\n".join(failures))
        return 1
    return rc


def main():
    harness.SAN_ENV.clear()  # release binaries
    print(f"machine: {os.cpu_count()} cores; services: release build, one replica each")
    print("== sign-in (production argon2id) and authenticated GET through api-gateway")
    rc = run("bench_api", {})
    # creating and signing in 10,000 agents is set-up, not what is measured:
    # cheap password hashing keeps it to seconds
    print("== agent state changes and wrap-up timers (agent-registry)")
    rc |= run("bench_presence", harness.FAST_HASH)
    return rc


if __name__ == "__main__":
    sys.exit(main())
