#!/usr/bin/env python3
"""make bench (and make bench-scale alone): skill-router's decisions per
second with one, two and three router replicas. Each count runs bench_routing
(bench/bench_routing.c: agents online in 50 queues, chats waiting, a burst of
chats from 16 threads) against a fresh system of its own (release build) and
reads its "decisions per second" line; then prints one table and the CPU each
piece used, the input of the capacity model in docs/scaling.md.

Usage: bench/scale.py [--routers 1,2,3] [--agents N]
CC_BIN_DIR / CC_BENCH_DIR as for bench/run.py."""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))
os.environ.setdefault("CC_BIN_DIR", os.path.join(HERE, "..", "build", "bin"))
BENCH_DIR = os.path.abspath(os.environ.get(
    "CC_BENCH_DIR", os.path.join(os.path.dirname(os.path.abspath(os.environ["CC_BIN_DIR"])),
                                 "bench")))

import harness  # noqa: E402

QUIET = {"CC_LOG_LEVEL": "warn"}
RATE = re.compile(r"decisions per second, burst of (\d+) from (\d+) threads[^:]*: (\d+) "
                  r"\((\d+) offered in ([\d.]+) s; enqueue-to-offer under load p50 ([\d.]+) ms"
                  r"\s+p99 ([\d.]+) ms")


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one(routers, agents):
    """bench_routing against agent-registry and `routers` skill-routers; a dict."""
    work = tempfile.mkdtemp(prefix="cc-bench-scale-")
    c = harness.Cluster(work)
    try:
        c.start("agent-registry", env={"CC_BOOTSTRAP_ADMIN_PASSWORD": "bench-password-1",
                                       "CC_REGISTRY_WORKERS": "8", **harness.FAST_HASH, **QUIET})
        for i in range(routers):
            c.start("skill-router", env=QUIET, key=f"skill-router-{i + 1}")
        procs = [("nats", c.nats), ("redis", c.redis), *c.services.items()]
        env = dict(os.environ, CC_BENCH_NATS=c.nats.url, CC_BENCH_REDIS=c.redis.url,
                   CC_BENCH_PASSWORD="bench-password-1", CC_BENCH_AGENTS=str(agents),
                   CC_BENCH_PIDS=",".join(f"{k}:{p.p.pid}" for k, p in procs))
        before = {k: cpu_s(p.p.pid) for k, p in procs}
        out = subprocess.run([os.path.join(BENCH_DIR, "bench_routing")], env=env,
                             capture_output=True, text=True, timeout=900)
        used = {k: cpu_s(p.p.pid) - before[k] for k, p in procs}
    finally:
        failures = c.close()
    m = RATE.search(out.stdout)
    if out.returncode not in (0, 1) or not m or failures:  # 1: a goal missed, still measured
        print(out.stdout[-3000:], out.stderr[-2000:], "\n".join(failures))
        return None
    per = [line.strip() for line in out.stdout.splitlines() if "CPU per decision" in line]
    return {"routers": routers, "rate": int(m.group(3)), "burst": int(m.group(1)),
            "seconds": float(m.group(5)), "p50": float(m.group(6)), "p99": float(m.group(7)),
            "cpu": used, "per_decision": per[-1] if per else "(not printed)"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--routers", default="1,2,3")
    ap.add_argument("--agents", type=int, default=10000)
    args = ap.parse_args()
    harness.SAN_ENV.clear()  # release binaries
    counts = [int(n) for n in args.routers.split(",")]
    print(f"== routing scale-out: {args.agents} agents, one to {max(counts)} skill-router "
          f"replicas ({os.cpu_count()} cores, release build {harness.BIN_DIR})")
    rows = []
    for n in counts:
        r = one(n, args.agents)
        if r is None:
            print(f"  {n} router(s): the benchmark failed")
            return 1
        rows.append(r)
        routers_cpu = sum(v for k, v in r["cpu"].items() if k.startswith("skill-router"))
        print(f"  {n} router(s): {r['rate']:6d} decisions/s  (burst {r['burst']} in "
              f"{r['seconds']:.2f} s; enqueue-to-offer p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms;"
              f" CPU s over the whole run: routers {routers_cpu:.1f}, redis "
              f"{r['cpu']['redis']:.1f}, nats {r['cpu']['nats']:.1f}, registry "
              f"{r['cpu']['agent-registry']:.1f})")
        print(f"    burst: {r['per_decision']}")
    base = rows[0]["rate"]
    print("  scaling: " + ", ".join(f"{r['routers']} -> {r['rate'] / base:.2f}x" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
