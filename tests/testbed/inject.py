#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Malformed and hostile frames, sent from the observer at one target.

Usage: inject.py IFACE CLASS DST_MAC DST_IP [--count N] [--list]
       inject.py IFACE flood_syn|flood_udp DST_MAC DST_IP [DST_MAC DST_IP]... --count N

Sends N copies (default 3) of the frames of CLASS to DST_MAC/DST_IP out
of IFACE (run it inside the observer's namespace) and prints how many
frames it sent.  `inject.py --list` prints the classes, one a line.
Every class is one kind of bad input of the issue's list: truncated
headers, bad IHL, IP options, overlapping and tiny fragments, bad
checksums, VLAN tags, jumbo and zero-length payloads, ARP with odd
lengths.  The frames come from the observer's own MAC and 192.0.2.3, to
TCP port 22, UDP port 53 and ICMP echo, which psv never opened: every
one of them is unsolicited.  Needs Debian's /usr/bin/python3 (scapy).

flood_syn and flood_udp send N TCP SYNs to port 80 (or UDP datagrams to
port 53) spread over the targets given, from 256 source ports, as fast
as one raw socket takes them, and print how many were sent and in how
many seconds.
"""
import socket
import time
import sys

# The modules, not scapy.all: a third of the start-up time.
from scapy.arch import get_if_hwaddr
from scapy.config import conf
from scapy.layers.inet import (ICMP, IP, TCP, UDP, IPOption_NOP,
                               IPOption_RR)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp

SRC_IP = "192.0.2.3"


def tcp_syn(dst, **ip):
    return IP(src=SRC_IP, dst=dst, **ip) / TCP(sport=40000, dport=22, flags="S")


def ip4(addr):
    return bytes(map(int, addr.split(".")))


def raw(pkt):
    return bytes(pkt)


def classes(dst):
    """CLASS -> list of L3 payloads (bytes or packets) after Ethernet,
    or full frames (Ether(...)) for the classes that shape layer 2."""
    syn = raw(tcp_syn(dst))
    ping = IP(src=SRC_IP, dst=dst) / ICMP(id=7, seq=1) / (b"x" * 32)
    udp = IP(src=SRC_IP, dst=dst) / UDP(sport=40000, dport=53) / (b"q" * 20)
    big = IP(src=SRC_IP, dst=dst, id=4242) / UDP(sport=40000, dport=53) / (b"f" * 64)
    big_b = raw(big)
    return {
        # An IPv4 header cut after 12, then 19 bytes.
        "ip_truncated": [syn[:12], syn[:19]],
        # The TCP header cut after 8 bytes (ports only), the IPv4 total
        # length saying so, and cut with the total length saying 40.
        "tcp_truncated": [IP(src=SRC_IP, dst=dst, proto=6) / syn[20:28],
                          syn[:28]],
        # IHL below 5, and 15 (60 bytes) with a 40-byte packet.
        "bad_ihl": [raw(tcp_syn(dst, ihl=3)), raw(tcp_syn(dst, ihl=15))],
        # Total length beyond the frame, and below the header.
        "bad_tot_len": [raw(tcp_syn(dst, len=1400)), raw(tcp_syn(dst, len=12))],
        # IP options (NOPs, record route) in front of a SYN and a ping.
        "ip_options": [tcp_syn(dst, options=[IPOption_NOP()] * 4),
                       IP(src=SRC_IP, dst=dst, options=[IPOption_RR()]) /
                       ICMP(id=8, seq=1)],
        # A bad IPv4 header checksum, a bad TCP and a bad UDP checksum.
        "bad_checksum": [IP(src=SRC_IP, dst=dst, chksum=0x1234) /
                         TCP(sport=40000, dport=22, flags="S"),
                         IP(src=SRC_IP, dst=dst) /
                         TCP(sport=40000, dport=22, flags="S", chksum=0x1234),
                         IP(src=SRC_IP, dst=dst) /
                         UDP(sport=40000, dport=53, chksum=0x1234) / b"q"],
        # Fragments of 8 bytes: the TCP header spread over three.
        "tiny_fragments": [IP(src=SRC_IP, dst=dst, id=4241, flags="MF", frag=0,
                              proto=6) / syn[20:28],
                           IP(src=SRC_IP, dst=dst, id=4241, flags="MF", frag=1,
                              proto=6) / syn[28:36],
                           IP(src=SRC_IP, dst=dst, id=4241, frag=2, proto=6) /
                           syn[36:40]],
        # Overlapping fragments: the second rewrites the UDP header.
        "overlapping_fragments": [
            IP(src=SRC_IP, dst=dst, id=4242, flags="MF", frag=0, proto=17) /
            big_b[20:60],
            IP(src=SRC_IP, dst=dst, id=4242, flags="MF", frag=0, proto=17) /
            (b"\x9c\x40\x00\x16" + big_b[24:44]),
            IP(src=SRC_IP, dst=dst, id=4242, frag=5, proto=17) / big_b[60:]],
        # A later fragment whose first never came.
        "orphan_fragment": [IP(src=SRC_IP, dst=dst, id=4243, frag=100,
                               proto=17) / (b"o" * 64)],
        # UDP, TCP and ICMP with no payload at all, and IP with no L4.
        "zero_payload": [IP(src=SRC_IP, dst=dst) / UDP(sport=40000, dport=53),
                         IP(src=SRC_IP, dst=dst) / ICMP(id=9, seq=1),
                         IP(src=SRC_IP, dst=dst, proto=6),
                         IP(src=SRC_IP, dst=dst, proto=17)],
        # The largest frame the LAN's MTU takes (a larger one never
        # leaves the observer's veth, nor enters the host's).
        "jumbo": [IP(src=SRC_IP, dst=dst) / UDP(sport=40000, dport=53) /
                  (b"j" * 1472),
                  IP(src=SRC_IP, dst=dst) / TCP(sport=40000, dport=22,
                                               flags="S") / (b"J" * 1460)],
        # 802.1Q: VLAN 5, and a priority tag (VLAN 0, the untagged LAN).
        "vlan": ["vlan5", "vlan0"],
        # ARP who-has DST_IP with odd lengths: hardware 8 / protocol 6,
        # hardware 6 / protocol 16, and cut after the sender's MAC.
        "arp_odd": ["arp_hw8", "arp_plen16", "arp_cut"],
        # Shorter than an Ethernet header (what the veth lets through).
        "runt": ["runt"],
    }


def frames(cls, src_mac, dst_mac, dst):
    eth = Ether(src=src_mac, dst=dst_mac)
    bcast = Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff", type=0x0806)
    out = []
    for p in classes(dst)[cls]:
        if p == "vlan5" or p == "vlan0":
            vid = 5 if p == "vlan5" else 0
            for l3 in (tcp_syn(dst), IP(src=SRC_IP, dst=dst) / ICMP(id=10)):
                out.append(Ether(src=src_mac, dst=dst_mac) /
                           Dot1Q(vlan=vid) / l3)
        elif p == "arp_hw8":
            out.append(bcast / ARP(op=1, hwlen=8, plen=6,
                                   hwsrc=b"\x02" * 8, psrc=ip4(SRC_IP) + b"\x00\x00",
                                   hwdst=b"\x00" * 8,
                                   pdst=ip4(dst) + b"\x00\x00"))
        elif p == "arp_plen16":
            out.append(bcast / ARP(op=1, hwlen=6, plen=16, hwsrc=src_mac,
                                   psrc=ip4(SRC_IP) + b"\x00" * 12,
                                   hwdst="00:00:00:00:00:00",
                                   pdst=ip4(dst) + b"\x00" * 12))
        elif p == "arp_cut":
            full = raw(bcast / ARP(op=1, hwsrc=src_mac, psrc=SRC_IP, pdst=dst))
            out.append(Raw(full[:14 + 14]))
        elif p == "runt":
            out.append(Raw(raw(eth)[:10]))
        else:
            out.append(eth / p if not isinstance(p, bytes) else
                       Ether(src=src_mac, dst=dst_mac, type=0x0800) / Raw(p))
    return out


def flood(iface, kind, targets, count):
    src_mac = get_if_hwaddr(iface)
    frames = []
    for dst_mac, dst in zip(targets[::2], targets[1::2]):
        for sport in range(40000, 40256):
            l4 = (TCP(sport=sport, dport=80, flags="S") if kind == "flood_syn"
                  else UDP(sport=sport, dport=53) / b"flood")
            frames.append(raw(Ether(src=src_mac, dst=dst_mac) /
                              IP(src=SRC_IP, dst=dst) / l4))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    start = time.monotonic()
    for i in range(count):
        s.send(frames[i % len(frames)])
    print(count, round(time.monotonic() - start, 2))


def main(argv):
    if "--list" in argv:
        print("\n".join(classes("192.0.2.1")))
        return 0
    count = 3
    if "--count" in argv:
        i = argv.index("--count")
        count = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) >= 5 and len(argv) % 2 and argv[2].startswith("flood_"):
        flood(argv[1], argv[2], argv[3:], count)
        return 0
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    iface, cls, dst_mac, dst = argv[1:]
    conf.verb = 0
    pkts = frames(cls, get_if_hwaddr(iface), dst_mac, dst)
    for _ in range(count):
        sendp(pkts, iface=iface)
    print(len(pkts) * count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
