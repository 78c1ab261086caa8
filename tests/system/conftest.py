import os
import shutil
import tempfile

import pytest

from harness import Cluster


@pytest.fixture
def cluster(request):
    """A fresh nats-server + redis-server; tests start the services they need.
    At the end every service still running must stop cleanly (exit 0 on
    SIGTERM, which includes no sanitizer report)."""
    workdir = tempfile.mkdtemp(prefix="cc-test-")
    c = Cluster(workdir)
    yield c
    failures = c.close()
    if failures:
        pytest.fail("\n".join(failures))
    if os.environ.get("CC_TEST_KEEP"):  # the logs of every service, for a post-mortem
        print(f"\nkept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
