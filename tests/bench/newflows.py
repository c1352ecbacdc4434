#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Sequential UDP echo transactions, each from a fresh socket.

A fresh socket has a fresh source port, and psv keys UDP flows by
(daddr, sport, dport): under psv every transaction is a new flow that takes
a new identity from the ready queue.  Prints one JSON object: transactions
per second over the answered ones, their median latency in microseconds,
and how many got no answer within the timeout (psv with on_exhausted=drop
drops new flows while the ready queue is empty).

--serve runs the echo server for it (on the server): the testbed's socat
echo forks a process per datagram, which costs milliseconds and would hide
the microseconds this is meant to show.
"""
import argparse
import json
import socket
import statistics
import time


def transaction(addr, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        t0 = time.perf_counter()
        s.sendto(b"psv-bench", addr)
        try:
            data, _ = s.recvfrom(64)
        except socket.timeout:
            return None
        if data != b"psv-bench":
            return None
        return time.perf_counter() - t0


def serve(addr):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(addr)
        while True:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("--port", type=int, default=7)
    ap.add_argument("-n", type=int, default=8, help="transactions")
    ap.add_argument("--timeout", type=float, default=0.5, help="seconds")
    ap.add_argument("--serve", action="store_true",
                    help="be the echo server, bound to host:port")
    a = ap.parse_args()
    if a.serve:
        serve((a.host, a.port))
    lat = []
    lost = 0
    for _ in range(a.n):
        t = transaction((a.host, a.port), a.timeout)
        if t is None:
            lost += 1
        else:
            lat.append(t)
    out = {
        "answered": len(lat),
        "lost": lost,
        "per_s": len(lat) / sum(lat) if lat else 0.0,
        "median_us": statistics.median(lat) * 1e6 if lat else None,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
