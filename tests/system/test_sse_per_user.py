"""Event streams per user are capped (CC_SSE_MAX_PER_USER, 8): one user
opening streams in a loop gets 429 with Retry-After beyond the cap, while
every other user still opens theirs; a closed stream frees its place."""
import time

import pytest

from harness import Api, start_stack
from test_registry_objects import user
from test_status_api import Stream


@pytest.fixture
def stack(cluster):
    admin = start_stack(cluster, gateway_env={"CC_SSE_KEEPALIVE_S": "1",
                                              "CC_SSE_MAX_STREAMS": "20"})
    user(admin, "greedy", agent={"enabled": True})
    user(admin, "other", agent={"enabled": True})
    return {"admin": admin, "greedy": Api(admin.base).login("greedy", "password-greedy"),
            "other": Api(admin.base).login("other", "password-other")}


def open_stream(api, path="/api/v1/me/events"):
    return Stream(api.base, path, api.token)


def test_one_user_cannot_take_every_stream(stack):
    g = stack["greedy"]
    mine = [open_stream(g) for _ in range(8)]
    assert [s.r.status_code for s in mine] == [200] * 8
    refused = [open_stream(g) for _ in range(30)]  # beyond the cap: refused, nothing taken
    for s in refused:
        assert s.r.status_code == 429, s.r.text
        assert s.r.headers["Retry-After"] == "1"
        assert s.r.json()["error"]["code"] == "rate_limited"
    # the total cap (20) is not reached by the refused ones: others still get theirs
    others = [open_stream(stack["other"]) for _ in range(8)]
    assert [s.r.status_code for s in others] == [200] * 8
    mon = open_stream(stack["admin"], "/api/v1/monitor/events")
    assert mon.r.status_code == 200
    assert mon.frame()["comment"] == "connected"
    # a closed tab frees its place once the server notices (at the next keepalive, 1 s)
    mine[0].r.close()
    deadline = time.time() + 5
    while True:
        s = open_stream(g)
        if s.r.status_code == 200 or time.time() > deadline:
            break
        time.sleep(0.3)
    assert s.r.status_code == 200
