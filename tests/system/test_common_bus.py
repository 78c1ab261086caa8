"""The common NATS/Redis adapters against real servers (C integration tests)."""
import os
import subprocess

from harness import SAN_ENV, UNIT_DIR


def test_common_bus_adapters_against_real_nats_and_redis(cluster):
    env = dict(os.environ, CC_TEST_NATS_URL=cluster.nats.url, CC_TEST_REDIS_URL=cluster.redis.url,
               **SAN_ENV)
    out = subprocess.run([os.path.join(UNIT_DIR, "it_cc_bus")], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[  PASSED  ] 5 test(s)." in out.stdout + out.stderr
