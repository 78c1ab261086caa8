#!/usr/bin/env python3
"""make sim: starts nats-server, redis-server, agent-registry and skill-router
(release build) on free ports in a temporary directory and runs ccsim against
them with the given arguments, e.g.

    tools/ccsim/run.py tools/ccsim/scenarios/mmc.json
    tools/ccsim/run.py --seed 7 --scale 120 tools/ccsim/scenarios/two_queues.json

The services and ccsim are taken from CC_BIN_DIR (default build/bin).
Environment: CC_SIM_ROUTERS (1) skill-router replicas. Returns ccsim's exit
status (see docs/ccsim.md)."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))
os.environ.setdefault("CC_BIN_DIR", os.path.join(HERE, "..", "..", "build", "bin"))

import harness  # noqa: E402

QUIET = {"CC_LOG_LEVEL": "warn"}


def main(argv):
    harness.SAN_ENV.clear()  # release binaries
    work = tempfile.mkdtemp(prefix="cc-sim-")
    c = harness.Cluster(work)
    try:
        # creating and signing in the agents is set-up, not what is simulated:
        # cheap password hashing keeps it to a moment
        c.start("agent-registry", env={"CC_BOOTSTRAP_ADMIN_PASSWORD": harness.ADMIN_PASSWORD,
                                       **harness.FAST_HASH, **QUIET})
        for i in range(int(os.environ.get("CC_SIM_ROUTERS", "1"))):
            c.start("skill-router", env=QUIET, key=f"skill-router-{i + 1}")
        env = dict(os.environ, CC_NATS_URL=c.nats.url)
        rc = subprocess.run([os.path.join(harness.BIN_DIR, "ccsim"), *argv], env=env).returncode
    finally:
        failures = c.close()
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
