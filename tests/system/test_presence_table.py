"""The agent's transition table (docs/presence.md) through the one C module
and the one compare-and-set script: tests/unit/test_cc_agent.c decides every
row in C and, with CC_TEST_REDIS_URL, applies each decision through
agent_apply.lua on a real Redis, reads it back and checks it is exactly the
record C decided (and that a decision on a moved record changes nothing)."""
import os
import subprocess

from harness import SAN_ENV, UNIT_DIR, Redis, key


def test_every_row_through_c_and_the_script_agrees(tmp_path):
    redis = Redis(str(tmp_path)).start()
    try:
        env = dict(os.environ, CC_TEST_REDIS_URL=redis.url, **SAN_ENV)
        out = subprocess.run([os.path.join(UNIT_DIR, "test_cc_agent")], env=env,
                             capture_output=True, text=True, timeout=120)
        text = out.stdout + out.stderr
        assert out.returncode == 0, text
        assert "SKIPPED" not in text, text  # the script half ran
        assert "rows applied through the script, as decided" in text, text
        # the script really wrote: the last row's record is there, versioned
        assert redis.cli("HGET", key("agent:row0"), "version") == "8"
    finally:
        redis.kill9()
