#!/usr/bin/env python3
"""The trivial PBX API responder of the calls benchmark (bench/calls.py):
the baseline the real call-router is compared with. It answers every
request of docs/calls.md at once, from nothing but the request: a created
call is 201, every route long-poll is 200 with the same agent (sip_uri
"bench"), every event 200. asyncio, keep-alive, TCP_NODELAY and one write
per answer (so Nagle and delayed ACK add nothing).

Usage: pbx_responder.py PORT (prints "ready" once it listens; exits 0 on
SIGTERM)."""
import asyncio
import json
import signal
import socket
import sys

OFFER = {"offer_id": "1.usr_bench", "agent_id": "usr_bench", "sip_uri": "bench", "ring_s": 20}
ROUTE = json.dumps({**OFFER, "interaction_id": "call_bench", "targets": [OFFER]}).encode()
CREATED = b'{"interaction_id":"call_bench","call_id":"x","state":"waiting"}'
EVENT = b'{"interaction_id":"call_bench","call_id":"x","state":"waiting","ignored":false}'


def answer(status, body):
    reason = {200: "OK", 201: "Created", 404: "Not Found"}[status]
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Pbx(asyncio.Protocol):
    def connection_made(self, transport):
        self.t, self.buf = transport, b""
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.buf += data
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if not sep:
                return
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(rest) < length:
                return
            self.buf = rest[length:]
            self.t.write(self.respond(head.split(b"\r\n", 1)[0]))

    @staticmethod
    def respond(request_line):
        method, path = request_line.split(b" ")[:2]
        path = path.split(b"?")[0]
        if method == b"POST" and path.endswith(b"/calls") and b"/agents/" not in path:
            return answer(201, CREATED)
        if method == b"GET" and path.endswith(b"/route"):
            return answer(200, ROUTE)
        if method == b"POST" and path.endswith(b"/events"):
            return answer(200, EVENT)
        return answer(404, b'{"error":{"code":"not_found","message":"not here"}}')


async def main(port):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    server = await loop.create_server(Pbx, "127.0.0.1", port, backlog=512)
    print("ready", flush=True)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
