#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Self-test of observe.py on a crafted capture with known contents.
Runs with Debian's python3 (/usr/bin/python3), where python3-scapy lives.

Every frame below is written by scapy with a purpose; the expected counts
are worked out by hand from that list, not from observe.py.  Prints
"ok - ..." / "not ok - ..." lines; exit status 1 if any failed.
"""

import json
import os
import subprocess
import sys
import tempfile

from scapy.all import (ARP, BOOTP, DHCP, ICMP, IP, TCP, UDP, Ether, IPerror,
                       IPerror6, IPv6, IPv6ExtHdrHopByHop, ICMPv6EchoReply,
                       ICMPv6EchoRequest, ICMPv6MLReport2, ICMPv6MLDMultAddrRec,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS,
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptSrcLLAddr, ICMPv6TimeExceeded,
                       IPv6ExtHdrFragment, RouterAlert, Raw, UDPerror,
                       fragment6, wrpcap)

OBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "observe.py")
HOST_MAC, HOST_IP = "02:00:00:00:00:01", "192.0.2.50"
V1_MAC, V1_IP = "02:00:00:00:00:21", "192.0.2.201"
V2_MAC, V2_IP = "02:00:00:00:00:22", "192.0.2.202"
GW_MAC, GW_IP = "02:00:00:00:00:fe", "192.0.2.1"
SRV1, SRV2 = "198.51.100.10", "198.51.100.20"
failed = 0


def check(desc, cond):
    global failed
    print(("ok - " if cond else "not ok - ") + desc)
    failed += not cond


def out(mac, ip, dst, **ipopts):
    return Ether(src=mac, dst=GW_MAC) / IP(src=ip, dst=dst, **ipopts)


def back(mac, ip, src):
    return Ether(src=GW_MAC, dst=mac) / IP(src=src, dst=ip)


def capture():
    f = []
    # 1. The host's TCP connection to srv1:80: SYN, SYN-ACK, ACK (3 frames).
    f += [out(HOST_MAC, HOST_IP, SRV1) / TCP(sport=40000, dport=80,
                                                      flags="S"),
          back(HOST_MAC, HOST_IP, SRV1) / TCP(sport=80, dport=40000,
                                              flags="SA"),
          out(HOST_MAC, HOST_IP, SRV1) / TCP(sport=40000, dport=80,
                                                      flags="A")]
    # 2. A virtual identity's two connections to srv1:80, one reply each.
    for port in (41000, 41001):
        f += [out(V1_MAC, V1_IP, SRV1) / TCP(sport=port, dport=80,
                                                      flags="S"),
              back(V1_MAC, V1_IP, SRV1) / TCP(sport=80, dport=port,
                                              flags="SA")]
    # 3. V2 to srv2:80, but the reply goes to the host's MAC: two rows.
    f += [out(V2_MAC, V2_IP, SRV2) / TCP(sport=42000, dport=80,
                                                  flags="S"),
          back(HOST_MAC, V2_IP, SRV2) / TCP(sport=80, dport=42000,
                                            flags="SA")]
    # 4. The host's ping to srv1, id 7: request and reply.
    f += [out(HOST_MAC, HOST_IP, SRV1) / ICMP(type=8, id=7, seq=1),
          back(HOST_MAC, HOST_IP, SRV1) / ICMP(type=0, id=7, seq=1)]
    # 5. A traceroute probe from V1 and the gateway's time-exceeded.
    probe = IP(src=V1_IP, dst=SRV1, ttl=1) / UDP(sport=5000, dport=33434)
    f += [out(V1_MAC, V1_IP, SRV1, ttl=1) / UDP(sport=5000, dport=33434),
          back(V1_MAC, V1_IP, GW_IP) / ICMP(type=11, code=0) /
          IPerror(bytes(probe))]
    # 6. A port unreachable to V2 quoting a datagram from the host's real
    #    address: a leak only inside the ICMP error.
    quoted = IP(src=HOST_IP, dst=SRV2) / UDP(sport=6000, dport=9)
    f += [back(V2_MAC, V2_IP, SRV2) / ICMP(type=3, code=3) /
          IPerror(bytes(quoted))]
    # 7. ARP: the host asks for the gateway, the gateway answers; V1
    #    announces itself (gratuitous request).
    f += [Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") /
          ARP(op=1, hwsrc=HOST_MAC, psrc=HOST_IP, pdst=GW_IP),
          Ether(src=GW_MAC, dst=HOST_MAC) /
          ARP(op=2, hwsrc=GW_MAC, psrc=GW_IP, hwdst=HOST_MAC, pdst=HOST_IP),
          Ether(src=V1_MAC, dst="ff:ff:ff:ff:ff:ff") /
          ARP(op=1, hwsrc=V1_MAC, psrc=V1_IP, pdst=V1_IP)]
    # 8. The host's DHCPDISCOVER.
    f += [Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") /
          IP(src="0.0.0.0", dst="255.255.255.255") /
          UDP(sport=68, dport=67) / BOOTP(chaddr=b"\x02\0\0\0\0\x01") /
          DHCP(options=[("message-type", "discover"), "end"])]
    # 9. V1 to srv1:7 with a wrong UDP checksum; then a frame with a wrong
    #    IPv4 header checksum (its UDP checksum is right).
    f += [out(V1_MAC, V1_IP, SRV1) /
          UDP(sport=7000, dport=7, chksum=0x1234) / Raw(b"echo"),
          out(V1_MAC, V1_IP, SRV1, chksum=0x1234) /
          UDP(sport=7001, dport=7) / Raw(b"echo")]
    # 10. Malformed: an IPv4 ethertype with a 10-byte body; an LLDP frame.
    f += [Ether(src=V2_MAC, dst=GW_MAC, type=0x0800) / Raw(b"\x45" + b"\0" * 9),
          Ether(src=GW_MAC, dst="01:80:c2:00:00:0e", type=0x88cc) /
          Raw(b"\0" * 20)]
    # 11. Another IP protocol (GRE, 47) from the host.
    f += [out(HOST_MAC, HOST_IP, SRV2, proto=47) / Raw(b"\0" * 4)]
    return f


def observe(*args):
    res = subprocess.run([OBS, *args, "--json"], capture_output=True,
                         text=True)
    if res.returncode != 0:
        check(f"observe.py {args[0]} runs ({res.stderr.strip()})", False)
        return None
    return json.loads(res.stdout)


def row(flows, **want):
    rows = [r for r in flows if all(r[k] == v for k, v in want.items())]
    return rows[0] if len(rows) == 1 else None


def test_flows(pcap):
    res = observe("flows", pcap)
    if res is None:
        return
    fl = res["flows"]
    r = row(fl, proto="tcp", mac=HOST_MAC, ip=HOST_IP, remote_ip=SRV1,
            remote_port=80)
    check("flows: host -> srv1:80 is 2 frames out, 1 in, 1 conn",
          r is not None and (r["frames_out"], r["frames_in"], r["conns"])
          == (2, 1, 1) and r["remote_macs"] == [GW_MAC])
    r = row(fl, proto="tcp", mac=V1_MAC, ip=V1_IP, remote_port=80)
    check("flows: V1 -> srv1:80 is 2 conns, 2 out, 2 in",
          r is not None and (r["conns"], r["frames_out"], r["frames_in"])
          == (2, 2, 2) and r["local_ports"] == [41000, 41001])
    a = row(fl, proto="tcp", mac=V2_MAC, remote_ip=SRV2)
    b = row(fl, proto="tcp", mac=HOST_MAC, remote_ip=SRV2)
    check("flows: a reply to another MAC is a row of its own",
          a is not None and b is not None and
          (a["frames_out"], a["frames_in"], b["frames_out"], b["frames_in"])
          == (1, 0, 0, 1) and b["ip"] == V2_IP)
    r = row(fl, proto="icmp", mac=HOST_MAC, remote_ip=SRV1)
    check("flows: ping id 7 is one echo row, 1 out 1 in",
          r is not None and r["icmp_type"] == 8 and r["remote_port"] is None
          and (r["frames_out"], r["frames_in"], r["local_ports"])
          == (1, 1, [7]))
    r = row(fl, proto="udp", mac=V1_MAC, remote_port=33434)
    check("flows: time-exceeded counts with the probe's UDP flow",
          r is not None and (r["frames_out"], r["frames_in"],
                             r["icmp_errors_in"], r["error_sources"])
          == (1, 1, 1, [GW_IP]))
    r = row(fl, proto="udp", remote_ip=SRV2, remote_port=9)
    check("flows: an error quoting the host's datagram is that flow's",
          r is not None and r["ip"] == V2_IP and r["mac"] == V2_MAC and
          r["icmp_errors_in"] == 1 and r["local_ports"] == [6000])
    r = row(fl, proto="udp", mac=V1_MAC, remote_port=7)
    check("flows: frames with bad checksums still count (2 out)",
          r is not None and r["frames_out"] == 2)
    total = sum(r["frames_out"] + r["frames_in"] for r in fl)
    # 3 + 4 + 2 + 2 + 2 + 1 (frames 1-6) + DHCP 1 + bad checksums 2 +
    # GRE 1; the truncated IPv4 frame and LLDP are in no row.
    check(f"flows: {total} IPv4 frames in rows, 18 expected", total == 18)
    r = row(fl, proto="47", mac=HOST_MAC)
    check("flows: GRE is a row of protocol 47 without port",
          r is not None and r["remote_ip"] == SRV2 and
          r["remote_port"] is None and r["frames_out"] == 1)
    res = observe("flows", pcap, "--remote", f"{SRV1}:80")
    check("flows --remote srv1:80 keeps only its two rows",
          res is not None and len(res["flows"]) == 2)


def test_leaks(pcap):
    res = observe("leaks", pcap, "--mac", HOST_MAC, "--ip", HOST_IP)
    # Ethernet: frames 1(3) 3(reply) 4(2) 7(2 ARP) 8(DHCP) 11(GRE) = 10; of
    # those IPv4 address too: 1, 4, 11; inner only: frame 6; ARP frames: 2.
    check("leaks: 11 frames carry the host's MAC or IP (incl. ARP, DHCP)",
          res is not None and res["frames"] == 11 and res["eth"] == 10 and
          res["ip"] == 6 and res["inner_ip"] == 1 and res["arp"] == 2)
    res = observe("leaks", pcap, "--mac", HOST_MAC, "--ip", HOST_IP,
                  "--no-arp", "--no-dhcp")
    check("leaks --no-arp --no-dhcp: 8 frames",
          res is not None and res["frames"] == 8)
    res = observe("leaks", pcap, "--mac", HOST_MAC, "--ip", HOST_IP,
                  "--no-arp", "--no-dhcp", "--remote", SRV2)
    check("leaks --remote srv2: misdirected reply, inner leak and GRE",
          res is not None and res["frames"] == 3 and res["eth"] == 2 and
          res["ip"] == 1 and res["inner_ip"] == 1)
    res = observe("leaks", pcap, "--mac", "02:00:00:00:00:99",
                  "--ip", "192.0.2.99")
    check("leaks: an identity absent from the capture has 0 frames",
          res is not None and res["frames"] == 0)


def test_arp_macs_checksums(pcap):
    res = observe("arp", pcap)
    check("arp: 2 requests, 1 reply, V1's announcement gratuitous",
          res is not None and (res["requests"], res["replies"]) == (2, 1) and
          [r["gratuitous"] for r in res["arp"]] == [False, False, True] and
          res["arp"][1]["sender_mac"] == GW_MAC and
          res["arp"][1]["target_ip"] == HOST_IP)
    res = observe("macs", pcap)
    if res is not None:
        m = {r["mac"]: r for r in res["macs"]}
        i = {r["ip"]: r for r in res["ips"]}
        check("macs: the host's MAC sent from its IP and 0.0.0.0",
              m[HOST_MAC]["ips"] == ["0.0.0.0", HOST_IP] and
              m[HOST_MAC]["arp_ips"] == [HOST_IP])
        check("macs: V1 claimed its IP in ARP; V2's IP sent by V2 only",
              m[V1_MAC]["arp_ips"] == [V1_IP] and i[V2_IP]["macs"] == [V2_MAC])
    res = observe("checksums", pcap)
    check("checksums: 1 bad IPv4 header, 1 bad UDP",
          res is not None and res["bad"]["ip"] == 1 and
          res["bad"]["udp"] == 1 and res["bad"]["tcp"] == 0 and
          res["bad"]["icmp"] == 0 and
          {b["frame"] for b in res["bad_frames"]} == {19, 20})


# ---- link: synthetic captures of one shared stack and of separate ones ----

T0 = 1764500000  # capture time of the first frame (epoch seconds)
V6_1, V6_2, SRV1_6 = "2001:db8::201", "2001:db8::202", "2001:db8:1::10"


def stamp(pkt, t):
    pkt.time = t
    return pkt


class Stack:
    """The counters and clocks of one network stack, as Linux keeps them:
    a source-port counter per destination, a TS offset per (saddr, daddr)
    (or per host, when shared), an ISN clock, IP IDs of a bucket."""

    def __init__(self, port, ts_off, isn_off, ipid):
        self.port, self.ts_off, self.isn_off, self.ipid = \
            port, ts_off, isn_off, ipid

    def syn(self, mac, ip, dst, t, v6=False):
        self.port += 2
        tsval = (int(t * 1000) + self.ts_off) % (1 << 32)
        isn = (int(t * 10**9) // 64 + self.isn_off) % (1 << 32)
        l3 = IPv6(src=ip, dst=dst) if v6 else IP(src=ip, dst=dst, flags="DF")
        syn = Ether(src=mac, dst=GW_MAC) / l3 / TCP(
            sport=self.port, dport=80, flags="S", seq=isn,
            options=[("Timestamp", (tsval, 0))])
        # The next segment of that connection, 10 ms later, with its TS.
        ack = Ether(src=mac, dst=GW_MAC) / l3 / TCP(
            sport=self.port, dport=80, flags="A", seq=isn + 1, ack=1,
            options=[("Timestamp", ((tsval + 10) % (1 << 32), 1))])
        return [stamp(syn, t), stamp(ack, t + 0.010)]

    def udp(self, mac, ip, dst, t):
        self.ipid = (self.ipid + 3) % 65536
        return [stamp(Ether(src=mac, dst=GW_MAC) /
                      IP(src=ip, dst=dst, id=self.ipid, flags=0) /
                      UDP(sport=47000, dport=7) / Raw(b"psv"), t)]

    def udp6(self, mac, ip, dst, t):
        """A UDP datagram too big for the link, in two fragments whose
        identification comes from the stack's counter."""
        self.ipid = (self.ipid + 3) % (1 << 32)
        dgram = IPv6(src=ip, dst=dst) / IPv6ExtHdrFragment(id=self.ipid) / \
            UDP(sport=47000, dport=7) / Raw(b"p" * 1600)
        return [stamp(Ether(src=mac, dst=GW_MAC) / frag, t)
                for frag in fragment6(dgram, 1280)]

    def ping(self, mac, ip, dst, t):
        self.ipid = (self.ipid + 1) % 65536
        return [stamp(Ether(src=mac, dst=GW_MAC) /
                      IP(src=ip, dst=dst, id=self.ipid, flags=0) /
                      ICMP(type=8, id=9, seq=self.ipid), t)]


def link_capture(a, b, rounds=6, v6=False):
    """V1 (stack a) and V2 (stack b) take turns: a SYN to srv1:80, a UDP
    datagram and a ping without DF; the host's real identity and the
    gateway (excluded) talk to srv1 in between.  a is b: one stack."""
    f, t = [], T0 + 0.5
    v1, v2 = ((V6_1, V6_2) if v6 else (V1_IP, V2_IP))
    dst = SRV1_6 if v6 else SRV1
    for _ in range(rounds):
        for st, mac, ip in ((a, V1_MAC, v1), (b, V2_MAC, v2)):
            f += st.syn(mac, ip, dst, t, v6)
            if v6:
                f += st.udp6(mac, ip, dst, t + 0.02)
            else:
                f += st.udp(mac, ip, dst, t + 0.02)
                f += st.ping(mac, ip, dst, t + 0.04)
            t += 0.1
        # The real identity's connections (excluded) from the same stack.
        if not v6:
            f += a.syn(HOST_MAC, HOST_IP, SRV1, t)
            f += [stamp(out(GW_MAC, GW_IP, SRV1, flags=0, id=7) /
                        UDP(sport=53, dport=7), t + 0.001)]
        t += 0.1
    f.sort(key=lambda p: p.time)
    return f


def link(pcap, *extra):
    cmd = [OBS, "link", pcap, "--mac", HOST_MAC, "--ip", HOST_IP,
           "--exclude", GW_IP, "--json", *extra]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        check(f"observe.py link runs ({res.stderr.strip()})", False)
        return None, None
    return json.loads(res.stdout), res.returncode


def relations(res):
    """{relation name: record} of the one pair of identities."""
    if res is None or len(res["pairs"]) != 1:
        return {}
    return {r["relation"]: r for r in res["pairs"][0]["relations"]}


def test_link(d):
    # One stack behind a NAT: every counter and clock shared.
    one = Stack(port=40000, ts_off=123456789, isn_off=987654321, ipid=100)
    pcap = os.path.join(d, "one-stack.pcap")
    wrpcap(pcap, link_capture(one, one))
    res, rc = link(pcap)
    rel = relations(res)
    check("link: two identities found, the real one and the gateway left out",
          res is not None and sorted(i["ip"] for i in res["identities"])
          == [V1_IP, V2_IP])
    check("link: one stack links them by source ports (11 switches, all small)",
          rel.get("tcp_ports", {}).get("linked") is True and
          rel["tcp_ports"]["switches"] == 11 and
          rel["tcp_ports"]["small_steps"] == 11)
    check("link: one stack links them by TCP timestamps (36 of 36 pairs)",
          rel.get("tcp_ts", {}).get("linked") is True and
          rel["tcp_ts"]["matches"] == 36)
    check("link: one stack links them by ISN",
          rel.get("tcp_isn", {}).get("linked") is True)
    ipid = [r for r in res["pairs"][0]["relations"]
            if r["relation"] == "ip_id"] if rel else []
    check("link: one stack links them by IP IDs of UDP and of ICMP",
          sorted(r["server"] for r in ipid if r["linked"]) ==
          [f"{SRV1} icmp", f"{SRV1} udp"])
    check("link: a linked capture exits 1", rc == 1 and
          res["linked_relations"] == 5 and res["linked_pairs"] == 1)

    # Separate stacks: each identity its own counters, offsets far apart.
    a = Stack(port=33000, ts_off=11111111, isn_off=5555, ipid=1000)
    b = Stack(port=50000, ts_off=2222222222, isn_off=3000000000, ipid=40000)
    pcap = os.path.join(d, "two-stacks.pcap")
    wrpcap(pcap, link_capture(a, b))
    res, rc = link(pcap)
    rel = relations(res)
    check("link: separate stacks, no relation, exit 0",
          rc == 0 and res["linked_relations"] == 0 and
          set(rel) == {"tcp_ports", "tcp_ts", "tcp_isn", "ip_id"} and
          all(r["enough"] for r in res["pairs"][0]["relations"]))
    # Close to the worst case for the step criterion: two port counters 10
    # apart, two IP ID buckets 10 apart (each grows by 4 a turn): about
    # every other switch is a small step.  (Counters less apart than they
    # grow in a turn cannot be told from one; see observe.py's link.)
    a = Stack(port=40000, ts_off=1, isn_off=0, ipid=500)
    b = Stack(port=40010, ts_off=1000, isn_off=1 << 20, ipid=510)
    pcap = os.path.join(d, "close-stacks.pcap")
    wrpcap(pcap, link_capture(a, b))
    res, rc = link(pcap)
    rel = relations(res)
    check("link: counters close together alternate +d/-d: not linked",
          rc == 0 and rel.get("tcp_ports", {}).get("small_steps") == 6 and
          rel["tcp_ports"]["switches"] == 11 and
          not any(r["linked"] for r in res["pairs"][0]["relations"]))
    check("link: TS offsets 1 s apart are not one clock (tolerance 100)",
          rel.get("tcp_ts", {}).get("linked") is False and
          998 <= rel["tcp_ts"]["closest"] <= 1000)
    res, rc = link(pcap, "--ts-tolerance", "1000")
    check("link: ... but are with --ts-tolerance 1000",
          rc == 1 and relations(res)["tcp_ts"]["linked"] is True)

    # Too little data: one round is one switch.
    pcap = os.path.join(d, "short.pcap")
    wrpcap(pcap, link_capture(one, one, rounds=1))
    res, rc = link(pcap)
    rel = relations(res)
    check("link: one switch is too little data for ports, never linked",
          rel.get("tcp_ports", {}).get("enough") is False and
          rel["tcp_ports"]["linked"] is False)

    # IPv6: ports, timestamps, ISN, and the identifications of fragment
    # headers in place of IP IDs.
    pcap = os.path.join(d, "v6.pcap")
    wrpcap(pcap, link_capture(one, one, v6=True))
    res, rc = link(pcap, "--lan", "2001:db8::/64")
    rel = relations(res)
    check("link: IPv6 identities of one stack linked by ports, TS, ISN "
          "and fragment identifications",
          rc == 1 and set(rel) == {"tcp_ports", "tcp_ts", "tcp_isn",
                                   "ip_id"} and
          all(r["linked"] for r in rel.values()) and
          rel["ip_id"]["server"] == f"{SRV1_6} udp" and
          rel["ip_id"]["switches"] == 11)
    a = Stack(port=33000, ts_off=11111111, isn_off=5555, ipid=1000)
    b = Stack(port=50000, ts_off=2222222222, isn_off=3000000000,
              ipid=3 << 30)
    pcap = os.path.join(d, "v6-two-stacks.pcap")
    wrpcap(pcap, link_capture(a, b, v6=True))
    res, rc = link(pcap, "--lan", "2001:db8::/64")
    rel = relations(res)
    check("link: IPv6 separate stacks, enough data, no relation, exit 0",
          rc == 0 and set(rel) == {"tcp_ports", "tcp_ts", "tcp_isn",
                                   "ip_id"} and
          all(r["enough"] and not r["linked"] for r in rel.values()))


def test_own_arp(d):
    """ARP about the host's own address is its presence, not a leak."""
    pcap = os.path.join(d, "own_arp.pcap")
    wrpcap(pcap, [
        Ether(src=GW_MAC, dst=HOST_MAC) /
        ARP(op=1, hwsrc=GW_MAC, psrc=GW_IP, pdst=HOST_IP),
        Ether(src=HOST_MAC, dst=GW_MAC) /
        ARP(op=2, hwsrc=HOST_MAC, psrc=HOST_IP, hwdst=GW_MAC, pdst=GW_IP),
        Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=HOST_MAC, psrc=HOST_IP, pdst=GW_IP)])
    res = observe("leaks", pcap, "--mac", HOST_MAC, "--ip", HOST_IP)
    check("leaks: a peer asking for the host and its answer are its own "
          "presence; the host asking in its own name is a leak",
          res["own_arp"] == 2 and res["frames"] == 1 and res["arp"] == 1)


# ---- IPv6: the host's own neighbour discovery and MLD, leaks, flows ----

# SLAAC's EUI-64 address of HOST_MAC (02:00:00:00:00:01: the U/L bit
# flipped, ff:fe in the middle) on the testbed's LAN prefix, and its
# link-local address.
HOST_IP6, HOST_LL = "2001:db8:1::ff:fe00:1", "fe80::ff:fe00:1"
V1_IP6 = "2001:db8:1::201"
GW_IP6, GW_LL = "2001:db8:1::1", "fe80::fe"
S6 = "2001:db8:3::10"
# The host's interface identifier, on a prefix that is not the host's.
EUI_ELSEWHERE = "2001:db8:5::ff:fe00:1"


def v6(src_mac, dst_mac, src, dst, **kw):
    return Ether(src=src_mac, dst=dst_mac) / IPv6(src=src, dst=dst, **kw)


def capture6():
    f = []
    # Numbered by frame in the capture.
    # 1-3. The host's own presence: DAD for its address (from ::), a
    #      router solicitation, an MLDv2 report after a hop-by-hop header.
    f += [v6(HOST_MAC, "33:33:ff:00:00:01", "::", "ff02::1:ff00:1") /
          ICMPv6ND_NS(tgt=HOST_IP6),
          v6(HOST_MAC, "33:33:00:00:00:02", HOST_LL, "ff02::2") /
          ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC),
          v6(HOST_MAC, "33:33:00:00:00:16", HOST_LL, "ff02::16", hlim=1) /
          IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
          ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(
              dst="ff02::1:ff00:1")])]
    # 4. The gateway's router advertisement: not about the host at all.
    f += [v6(GW_MAC, "33:33:00:00:00:01", GW_LL, "ff02::1") /
          ICMPv6ND_RA() / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::")]
    # 5-6. The gateway asks for the host's address, the host answers.
    f += [v6(GW_MAC, HOST_MAC, GW_LL, HOST_IP6) / ICMPv6ND_NS(tgt=HOST_IP6),
          v6(HOST_MAC, GW_MAC, HOST_IP6, GW_LL) /
          ICMPv6ND_NA(tgt=HOST_IP6, S=1) /
          ICMPv6NDOptDstLLAddr(lladdr=HOST_MAC)]
    # 7-8. The host's own TCP connection to srv1 over IPv6: SYN, SYN-ACK.
    f += [v6(HOST_MAC, GW_MAC, HOST_IP6, S6) /
          TCP(sport=40000, dport=80, flags="S"),
          v6(GW_MAC, HOST_MAC, S6, HOST_IP6) /
          TCP(sport=80, dport=40000, flags="SA")]
    # 9-10. An identity's connection: SYN and SYN-ACK (no leak).
    f += [v6(V1_MAC, GW_MAC, V1_IP6, S6) /
          TCP(sport=41000, dport=80, flags="S"),
          v6(GW_MAC, V1_MAC, S6, V1_IP6) /
          TCP(sport=80, dport=41000, flags="SA")]
    # 11. V2's MAC, but a source address with the host's EUI-64.
    f += [v6(V2_MAC, GW_MAC, EUI_ELSEWHERE, S6) /
          UDP(sport=5000, dport=7) / Raw(b"echo")]
    # 12. The gateway's time exceeded to V1, quoting a datagram from the
    #     host's real address: a leak only inside the ICMPv6 error.
    f += [v6(GW_MAC, V1_MAC, GW_IP6, V1_IP6) / ICMPv6TimeExceeded() /
          IPerror6(src=HOST_IP6, dst=S6, hlim=1) /
          UDPerror(sport=6000, dport=33434)]
    # 13. V1 asks for the gateway, with the host's MAC in its option.
    f += [v6(V1_MAC, "33:33:ff:00:00:01", V1_IP6, "ff02::1:ff00:1") /
          ICMPv6ND_NS(tgt=GW_IP6) / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC)]
    # 14-15. The host's ping6 to srv1 (id 9), 16-17. V1's (id 10).
    f += [v6(HOST_MAC, GW_MAC, HOST_IP6, S6) / ICMPv6EchoRequest(id=9),
          v6(GW_MAC, HOST_MAC, S6, HOST_IP6) / ICMPv6EchoReply(id=9),
          v6(V1_MAC, GW_MAC, V1_IP6, S6) / ICMPv6EchoRequest(id=10),
          v6(GW_MAC, V1_MAC, S6, V1_IP6) / ICMPv6EchoReply(id=10)]
    return f


def test_ipv6(d):
    pcap = os.path.join(d, "v6-host.pcap")
    wrpcap(pcap, capture6())
    res = observe("leaks", pcap, "--mac", HOST_MAC, "--ip", HOST_IP6)
    # Own presence: 1, 2, 3, 5, 6.  Leaks: 7, 8, 14, 15 by MAC, address
    # and EUI-64; 11 by EUI-64 only; 12 inside the error (and EUI-64);
    # 13 by the option only.  The RA (4) and V1's frames are nothing.
    check("leaks IPv6: the host's DAD, RS, MLD, NS for it and NA are its "
          "own presence (5, per type)",
          res is not None and res["own_ndp"] == 5 and
          res["own_ndp_types"] == {"135": 2, "133": 1, "143": 1, "136": 1})
    check("leaks IPv6: 7 frames, 4 by MAC, 4 by address, 1 inside an "
          "error, 6 by EUI-64, all IPv6",
          res is not None and
          (res["frames"], res["eth"], res["ip"], res["inner_ip"],
           res["eui64"], res["ipv6"], res["arp"]) == (7, 4, 4, 1, 6, 7, 0)
          and res["first_frames"] == [7, 8, 11, 12, 13, 14, 15])
    res2 = observe("leaks", pcap, "--mac", HOST_MAC,
                   "--ip", "2001:DB8:1:0:0:FF:FE00:1", "--ip", HOST_LL)
    check("leaks IPv6: --ip in any notation, the link-local address too",
          res2 is not None and res is not None and
          {k: res2[k] for k in ("frames", "own_ndp", "ip", "first_frames")}
          == {k: res[k] for k in ("frames", "own_ndp", "ip", "first_frames")})
    res = observe("leaks", pcap, "--mac", "02:00:00:00:00:99",
                  "--ip", "2001:db8:1::99")
    check("leaks IPv6: an absent identity has 0 frames, no own presence",
          res is not None and res["frames"] == 0 and res["own_ndp"] == 0)
    res = observe("leaks", pcap, "--mac", HOST_MAC, "--ip", HOST_IP6,
                  "--remote", f"[{S6}]:80")
    check("leaks IPv6 --remote [srv1]:80: the host's SYN and SYN-ACK",
          res is not None and res["frames"] == 2 and
          res["first_frames"] == [7, 8])

    res = observe("flows", pcap)
    fl = res["flows"] if res else []
    r = row(fl, proto="tcp", mac=HOST_MAC, ip=HOST_IP6, remote_ip=S6,
            remote_port=80)
    check("flows IPv6: host -> [srv1]:80 is 1 out, 1 in, port 40000",
          r is not None and (r["frames_out"], r["frames_in"],
                             r["local_ports"]) == (1, 1, [40000]))
    r = row(fl, proto="icmpv6", mac=HOST_MAC, remote_ip=S6)
    check("flows IPv6: ping6 id 9 is one echo row (type 128), 1 out 1 in",
          r is not None and r["icmp_type"] == 128 and
          r["remote_port"] is None and
          (r["frames_out"], r["frames_in"], r["local_ports"]) == (1, 1, [9]))
    r = row(fl, proto="udp", remote_ip=S6, remote_port=33434)
    check("flows IPv6: time exceeded counts with the datagram it quotes",
          r is not None and r["mac"] == V1_MAC and r["ip"] == V1_IP6 and
          r["icmp_errors_in"] == 1 and r["error_sources"] == [GW_IP6] and
          r["local_ports"] == [6000])
    r = row(fl, proto="icmpv6", mac=HOST_MAC, icmp_type=143)
    check("flows IPv6: MLDv2 after a hop-by-hop header is an icmpv6 row",
          r is not None and r["remote_ip"] == "ff02::16")
    total = sum(r["frames_out"] + r["frames_in"] for r in fl)
    check(f"flows IPv6: {total} frames in rows, all 17 expected", total == 17)
    res = observe("flows", pcap, "--remote", f"[{S6}]:80")
    check("flows --remote [srv1]:80 keeps its two rows",
          res is not None and len(res["flows"]) == 2)

    res = observe("macs", pcap)
    m = {r["mac"]: r for r in res["macs"]} if res else {}
    check("macs: the host's MAC sent from ::, its link-local and global "
          "IPv6 addresses", m.get(HOST_MAC, {}).get("ips") ==
          ["::", HOST_IP6, HOST_LL])

    res, rc = link(pcap, "--ip", HOST_IP6, "--exclude", GW_IP6)
    check("link: the default LANs take IPv6 identities; the host, the "
          "gateway, neighbour discovery and other prefixes left out",
          res is not None and [(i["ip"], i["frames"])
                               for i in res["identities"]] == [(V1_IP6, 2)])


def capture6_ndp():
    """Neighbour discovery and MLD that serve flows (leaks) beside the
    host's own presence.  Numbered by frame in the capture."""
    sn_v1 = "ff02::1:ff00:201"      # V1_IP6's solicited-node group
    return [
        # 1. Own: the host's MLDv2 report for its own solicited-node group.
        v6(HOST_MAC, "33:33:00:00:00:16", HOST_LL, "ff02::16", hlim=1) /
        IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
        ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(
            dst="ff02::1:ff00:1")]),
        # 2. Leak: the host resolves the gateway (its next hop for a flow)
        #    from its link-local address, its MAC in the option.
        v6(HOST_MAC, "33:33:ff:00:00:fe", HOST_LL, "ff02::1:ff00:fe") /
        ICMPv6ND_NS(tgt=GW_LL) / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC),
        # 3. Leak: the gateway's answer, to the host's MAC.
        v6(GW_MAC, HOST_MAC, GW_LL, HOST_LL) / ICMPv6ND_NA(tgt=GW_LL, S=1) /
        ICMPv6NDOptDstLLAddr(lladdr=GW_MAC),
        # 4. Leak: DAD for an identity's address from the real MAC.
        v6(HOST_MAC, "33:33:ff:00:02:01", "::", sn_v1) /
        ICMPv6ND_NS(tgt=V1_IP6),
        # 5. Leak: the real MAC joins the identity address's group.
        v6(HOST_MAC, "33:33:00:00:00:16", "::", "ff02::16", hlim=1) /
        IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
        ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(dst=sn_v1)]),
        # 6. Leak: the real MAC answers for the identity's address.
        v6(HOST_MAC, GW_MAC, V1_IP6, GW_LL) / ICMPv6ND_NA(tgt=V1_IP6, S=1) /
        ICMPv6NDOptDstLLAddr(lladdr=HOST_MAC),
        # 7. Leak: the gateway asks the real MAC for the identity's address.
        v6(GW_MAC, HOST_MAC, GW_LL, V1_IP6) / ICMPv6ND_NS(tgt=V1_IP6),
        # 8. Not the host's at all: the identity answers from its own MAC.
        v6(V1_MAC, GW_MAC, V1_IP6, GW_LL) / ICMPv6ND_NA(tgt=V1_IP6, S=1) /
        ICMPv6NDOptDstLLAddr(lladdr=V1_MAC),
        # 9. Own: the gateway asks for the host's address, to its MAC.
        v6(GW_MAC, HOST_MAC, GW_LL, HOST_IP6) / ICMPv6ND_NS(tgt=HOST_IP6),
    ]


def test_ndp_leaks(d):
    pcap = os.path.join(d, "v6-ndp.pcap")
    wrpcap(pcap, capture6_ndp())
    res = observe("leaks", pcap, "--mac", HOST_MAC, "--ip", HOST_IP6,
                  "--ip", HOST_LL)
    check("leaks NDP: the host's own MLD report and a peer's NS for it are "
          "its presence", res is not None and res["own_ndp"] == 2 and
          res["own_ndp_types"] == {"143": 1, "135": 1})
    check("leaks NDP: resolving its next hop, the answer, DAD, MLD and NA "
          "for an identity's address, a peer asking the real MAC for it: "
          "6 leaks, all neighbour discovery/MLD",
          res is not None and res["frames"] == 6 and res["ndp"] == 6 and
          res["first_frames"] == [2, 3, 4, 5, 6, 7])
    res = observe("leaks", pcap, "--mac", HOST_MAC, "--ip", HOST_IP6)
    check("leaks NDP: without its link-local address the host's NS from it "
          "is still a leak, the gateway's answer too",
          res is not None and res["frames"] == 6)


def capture_identities():
    """Identities as the observer sees them: V1 carries IPv4 and IPv6
    traffic (one group), V2 IPv6 only, V3 two IPv6 addresses in the LAN's
    prefix, V4 claims V2's address in an NA, V5 only probes its address
    (DAD).  The gateway (excluded) and the host (--mac) are no identity."""
    v3, v4, v5 = ("02:00:00:00:00:23", "02:00:00:00:00:24",
                  "02:00:00:00:00:25")
    v2_ip6, v5_ip6 = "2001:db8:1::202", "2001:db8:1::205"
    return [
        out(V1_MAC, V1_IP, SRV1) / TCP(sport=41000, dport=80, flags="S"),
        v6(V1_MAC, GW_MAC, V1_IP6, S6) / TCP(sport=41001, dport=80,
                                             flags="S"),
        Ether(src=V1_MAC, dst=GW_MAC) /
        ARP(op=2, hwsrc=V1_MAC, psrc=V1_IP, hwdst=GW_MAC, pdst=GW_IP),
        v6(V2_MAC, GW_MAC, v2_ip6, S6) / UDP(sport=5000, dport=7),
        v6(V2_MAC, GW_MAC, "fe80::2", GW_LL) / ICMPv6ND_NS(tgt=GW_LL),
        v6(v3, GW_MAC, "2001:db8:1::203", S6) / UDP(sport=5001, dport=7),
        v6(v3, GW_MAC, "2001:db8:1::233", S6) / UDP(sport=5002, dport=7),
        v6(v4, GW_MAC, "2001:db8:1::204", GW_LL) /
        ICMPv6ND_NA(tgt=v2_ip6, S=1) / ICMPv6NDOptDstLLAddr(lladdr=v4),
        v6(v5, "33:33:ff:00:02:05", "::", "ff02::1:ff00:205") /
        ICMPv6ND_NS(tgt=v5_ip6),
        v6(GW_MAC, "33:33:00:00:00:01", GW_LL, "ff02::1") / ICMPv6ND_RA(),
        back(V1_MAC, V1_IP, GW_IP) / ICMP(type=11, code=0),
        v6(HOST_MAC, GW_MAC, HOST_IP6, S6) / UDP(sport=5003, dport=7),
    ]


def test_identities(d):
    pcap = os.path.join(d, "identities.pcap")
    wrpcap(pcap, capture_identities())
    cmd = [OBS, "identities", pcap, "--mac", HOST_MAC, "--exclude", GW_IP,
           "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    res = json.loads(run.stdout) if run.returncode in (0, 1) else None
    ids = {r["mac"]: r for r in res["identities"]} if res else {}
    check("identities: five, the gateway and the host left out",
          sorted(ids) == [V1_MAC, V2_MAC, "02:00:00:00:00:23",
                          "02:00:00:00:00:24", "02:00:00:00:00:25"])
    v1 = ids.get(V1_MAC, {})
    check("identities: V1 carries IPv4 and IPv6 traffic (dual-stack)",
          v1.get("ipv4") == [V1_IP] and v1.get("ipv6") == [V1_IP6] and
          v1.get("traffic") == ["ipv4", "ipv6"] and
          v1.get("dual_stack") is True)
    v2 = ids.get(V2_MAC, {})
    check("identities: V2 is IPv6 only, its link-local address apart",
          v2.get("ipv4") == [] and v2.get("ipv6") == ["2001:db8:1::202"] and
          v2.get("link_local") == ["fe80::2"] and
          v2.get("traffic") == ["ipv6"] and v2.get("dual_stack") is False)
    check("identities: a DAD probe claims its target (V5, no traffic)",
          ids.get("02:00:00:00:00:25", {}).get("ipv6") ==
          ["2001:db8:1::205"] and
          ids.get("02:00:00:00:00:25", {}).get("traffic") == [])
    check("identities: V3 has two addresses in 2001:db8:1::/64, V4's NA "
          "claims V2's address, V4 has its own too: 3 problems, exit 1",
          res is not None and run.returncode == 1 and
          res["several"] == [
              {"mac": "02:00:00:00:00:23", "net": "2001:db8:1::/64",
               "addresses": ["2001:db8:1::203", "2001:db8:1::233"]},
              {"mac": "02:00:00:00:00:24", "net": "2001:db8:1::/64",
               "addresses": ["2001:db8:1::202", "2001:db8:1::204"]}] and
          res["shared"] == [{"ip": "2001:db8:1::202",
                             "macs": [V2_MAC, "02:00:00:00:00:24"]}] and
          res["problems"] == 3)


def main():
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "crafted.pcap")
        wrpcap(pcap, capture())
        test_flows(pcap)
        test_leaks(pcap)
        test_own_arp(d)
        test_arp_macs_checksums(pcap)
        test_link(d)
        test_ipv6(d)
        test_ndp_leaks(d)
        test_identities(d)
        res = subprocess.run([OBS, "flows", os.path.join(d, "missing")],
                             capture_output=True, text=True)
        check("a missing capture is an error (exit 2)",
              res.returncode == 2 and "tshark failed" in res.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
