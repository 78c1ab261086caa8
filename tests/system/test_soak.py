"""The chaos soak (tests/system/soak.py, docs/soak.md) for a short while in
make test: every fault round once (each service, Redis busy, idle and
loading, NATS, chat-gateway stopped) under traffic from every provider, web
chat and the PBX, and not one invariant broken. `make soak` runs it longer."""
import os

import soak


def test_chaos_soak_breaks_no_invariant():
    seconds = int(os.environ.get("CC_TEST_SOAK_S", "60"))
    book, text = soak.run(seconds, seed=int(os.environ.get("SOAK_SEED", "1")))
    assert not book.violations, text
    assert sum(book.kills.values()) >= len(soak.ROUNDS), text
    c = book.count
    # traffic really flowed through every part while it ran
    assert c["messages stored"] == c["messages acknowledged"] > 0, text
    assert c["chats accepted"] and c["chats declined"] and c["chat offers let time out"], text
    assert c["calls answered"] and c["offers"] and c["timers fired"], text
