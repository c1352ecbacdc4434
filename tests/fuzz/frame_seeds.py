#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Writes tests/fuzz/corpus/fuzz_bpf_parse/*.bin: one frame of each kind
the dataplane's parsers read, so the fuzzer starts past the EtherType.
Each file is one byte (how much of the frame is linear; 255: all of it)
and the frame.  Run from the repository root after changing the list;
the files are committed.
"""
import os

from scapy.all import (ARP, Ether, ICMP, ICMPv6DestUnreach, ICMPv6EchoRequest,
                       ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IP, IPerror,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, TCP,
                       TCPerror, UDP, UDPerror, raw)

DIR = "tests/fuzz/corpus/fuzz_bpf_parse"
ETH = Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:01")
A, B = "192.0.2.10", "198.51.100.10"
A6, B6 = "2001:db8:1::10", "2001:db8:3::10"

FRAMES = {
    "tcp_syn": ETH / IP(src=A, dst=B) / TCP(sport=40000, dport=80,
                                              flags="S"),
    "tcp_options": ETH / IP(src=A, dst=B, options=b"\x01\x01\x01\x00") /
    TCP(sport=40000, dport=80, flags="PA") / b"GET /",
    "udp": ETH / IP(src=A, dst=B) / UDP(sport=40000, dport=53) / b"q",
    "udp_first_frag": ETH / IP(src=A, dst=B, flags="MF") /
    UDP(sport=40000, dport=7) / (b"x" * 32),
    "later_frag": ETH / IP(src=A, dst=B, frag=4, proto=17) / (b"x" * 16),
    "icmp_echo": ETH / IP(src=A, dst=B) / ICMP(id=7),
    "icmp_error_tcp": ETH / IP(src=B, dst=A) / ICMP(type=3, code=3) /
    IPerror(src=A, dst=B) / TCPerror(sport=40000, dport=80),
    "icmp_error_udp": ETH / IP(src=B, dst=A) / ICMP(type=11) /
    IPerror(src=A, dst=B) / UDPerror(sport=40000, dport=7),
    "arp": ETH / ARP(psrc=B, pdst=A),
    "tcp6": ETH / IPv6(src=A6, dst=B6) / TCP(sport=40000, dport=80,
                                               flags="S"),
    "udp6_ext": ETH / IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop() /
    IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting() /
    UDP(sport=40000, dport=7) / b"x",
    "udp6_frag": ETH / IPv6(src=A6, dst=B6) /
    IPv6ExtHdrFragment(m=1, id=9) / UDP(sport=40000, dport=7) / b"x",
    "icmp6_echo": ETH / IPv6(src=A6, dst=B6) / ICMPv6EchoRequest(id=7),
    "icmp6_error_udp": ETH / IPv6(src=B6, dst=A6) / ICMPv6DestUnreach() /
    IPv6(src=A6, dst=B6) / UDP(sport=40000, dport=7),
    "ns": ETH / IPv6(src=B6, dst="ff02::1:ff00:10", hlim=255) /
    ICMPv6ND_NS(tgt=A6) / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01"),
}

os.makedirs(DIR, exist_ok=True)
for name, frame in FRAMES.items():
    for linear, tag in ((255, ""), (54, "_linear54")):
        with open(os.path.join(DIR, name + tag + ".bin"), "wb") as f:
            f.write(bytes([linear]) + raw(frame))
