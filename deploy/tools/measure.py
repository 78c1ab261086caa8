#!/usr/bin/env python3
"""Measures what each service uses while a workload runs: peak resident
memory (VmRSS, sampled) and CPU (peak over 1 s windows, and the average over
the run), per service binary, summed over its replicas. The workload is any
command (a pytest file, make bench); the services it starts must be the ones
under --bin (the optimised build, build/bin, as in the images).

    deploy/tools/measure.py --bin build/bin -- \\
        /usr/bin/python3 -m pytest -q tests/system/test_routing_concurrency.py

Used for the requests and limits in deploy/kubernetes (docs/deploy.md)."""
import argparse
import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def procs(bin_dir):
    """{pid: service name} of the processes running a binary from bin_dir."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if os.path.dirname(exe) == bin_dir:
            out[int(pid)] = os.path.basename(exe)
    return out


def sample(pid):
    """(rss bytes, cpu seconds) of pid, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        return rss, cpu
    except (OSError, StopIteration, IndexError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--interval", type=float, default=0.25)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    bin_dir = os.path.abspath(a.bin)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    env = dict(os.environ, CC_BIN_DIR=bin_dir)
    child = subprocess.Popen(cmd, env=env)
    peak_rss, peak_cpu, cpu_total, seen = {}, {}, {}, {}
    last = {}      # pid -> (t, cpu) at the start of its current 1 s window
    t0 = time.time()
    while child.poll() is None:
        now = time.time()
        rss_now = {}
        for pid, name in procs(bin_dir).items():
            s = sample(pid)
            if not s:
                continue
            rss, cpu = s
            rss_now[name] = rss_now.get(name, 0) + rss
            peak_rss.setdefault(name, 0)
            seen.setdefault(pid, (name, cpu))
            cpu_total[pid] = (name, cpu - seen[pid][1])
            t_start, c_start = last.setdefault(pid, (now, cpu))
            if now - t_start >= 1.0:
                cores = (cpu - c_start) / (now - t_start)
                peak_cpu[name] = max(peak_cpu.get(name, 0), cores)
                last[pid] = (now, cpu)
        for name, rss in rss_now.items():
            peak_rss[name] = max(peak_rss[name], rss)
        time.sleep(a.interval)
    wall = time.time() - t0
    used = {}
    for name, cpu in cpu_total.values():
        used[name] = used.get(name, 0) + cpu
    print(f"\nworkload: {' '.join(cmd)}\nexit {child.returncode}, {wall:.0f} s\n")
    print("| service | peak RSS (MiB, all its processes) | peak CPU (cores, 1 s) | average CPU (cores) |")
    print("|---|---|---|---|")
    for name in sorted(peak_rss):
        print(f"| {name} | {peak_rss[name] / 2**20:.1f} | {peak_cpu.get(name, 0):.2f} | "
              f"{used.get(name, 0) / wall:.3f} |")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
