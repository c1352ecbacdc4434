#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""What a passive LAN observer learns from a capture (tests/testbed).

tshark extracts header fields (fast on large captures); python aggregates.

Subcommands (each prints a table, or JSON with --json):

  flows PCAP [--remote IP[:PORT]] [--proto P] [--lan CIDR]...
      IPv4 and IPv6 traffic grouped as the observer would link it: one
      record per
      (proto, mac, ip, remote_ip, remote_port, icmp_type), where mac/ip are
      the LAN-side endpoint (source of outgoing frames, destination of
      replies) and remote the other end.  ICMP errors count with the flow
      they quote (traceroute's time-exceeded frames belong to its UDP flow).
      JSON: {"flows": [{"proto", "mac", "ip", "remote_ip", "remote_port",
      "icmp_type", "frames_out", "frames_in", "bytes_out", "bytes_in",
      "conns", "local_ports", "remote_macs", "icmp_errors_in",
      "icmp_errors_out", "error_sources"}]}
      remote_port is null for ICMP; icmp_type is 8 for echo (requests and
      replies), else the ICMP type, null for TCP/UDP.  conns counts distinct
      LAN-side ports (ICMP echo identifiers).  local_ports lists up to 20.
      IPv6: proto "icmpv6", icmp_type 128 for echo, errors (types 1-4)
      count with the flow they quote like ICMP's; neighbour discovery and
      MLD are rows of their own (remote_ip a multicast group or the
      neighbour).  The LAN side is the endpoint in a --lan network
      (default 192.0.2.0/24 and 2001:db8:1::/64), else the first speaker.
      --remote takes IP, IP:PORT, an IPv6 address or [IPv6]:PORT.
  macs PCAP
      JSON: {"macs": [{"mac", "frames_sent", "frames_received", "ips",
      "arp_ips"}], "ips": [{"ip", "macs", "frames_sent", "frames_received"}]}
      ips: IPv4 and IPv6 sources used by that MAC; arp_ips: ARP sender
      addresses.
  arp PCAP
      JSON: {"requests", "replies", "arp": [{"frame", "time", "op",
      "eth_src", "eth_dst", "sender_mac", "sender_ip", "target_mac",
      "target_ip", "gratuitous"}]}
  checksums PCAP
      IPv4, TCP, UDP and ICMP checksums validated by tshark (outer headers;
      the quoted header inside an ICMP error is not judged).
      JSON: {"frames", "good": {"ip","tcp","udp","icmp"}, "bad": {...},
      "unverified": {...}, "bad_frames": [{"frame", "layer", "src", "dst"}]}
      A truncated frame (snaplen) or a UDP checksum of 0 is unverified.
  leaks PCAP --mac M [--mac M2] --ip I [--ip I2] [--no-arp] [--no-dhcp]
             [--remote IP[:PORT]] [--proto P]
      Frames whose Ethernet source/destination is M, or whose IPv4
      source/destination (outer, or inner in an ICMP error) is I, or an ARP
      frame naming M or I.  --no-arp and --no-dhcp (UDP 67/68) leave those
      out; --remote/--proto restrict the check to matching flows.  ARP
      about I itself (a peer asking who has I, the host answering for I)
      is the host's own presence, like its DHCP: counted as own_arp, not
      as a leak.  An ARP request the host sends in its own name is a leak
      (it names the host right before the flow that made it ask).
      IPv6: --ip takes IPv6 addresses too (any notation); an IPv6 frame
      is flagged like an IPv4 one (outer, or quoted in an ICMPv6 error),
      also when one of its addresses has the EUI-64 interface identifier
      SLAAC makes of M (the MAC inside the address), or when a neighbour
      discovery option of someone else's frame names M.  The host's own
      neighbour discovery and MLD (ICMPv6 types 130-137 and 143, sent
      from or to M or I) are its presence on the link, counted as
      own_ndp (per type in own_ndp_types) and not as a leak, when they
      are about the host alone: its RS, an RA to it, DAD from :: for I,
      an NS asking for I and the NA answering it, MLD reports whose
      solicited-node groups are I's.  As for ARP, an NS or NA with M or
      I about any other address (the host resolving its next hop, DAD
      or an answer for an identity's address, a peer answering the host)
      and an MLD report from M joining another address's solicited-node
      group serve some flow: leaks.
      JSON: {"frames", "eth", "ip", "inner_ip", "arp", "ipv6", "eui64",
      "ndp", "own_arp", "own_ndp", "own_ndp_types", "first_frames",
      "flows": [flow records as above, built from the offending frames]}
      ip counts IPv4 and IPv6 addresses; ipv6 is how many of the counted
      frames are IPv6, ndp how many are neighbour discovery or MLD.

  identities PCAP [--mac M]... [--ip I]... [--exclude IP]... [--lan CIDR]...
      The addresses each MAC stands for: per Ethernet source, the --lan
      addresses (default 192.0.2.0/24 and 2001:db8:1::/64) it sent from
      or claimed (ARP sender, NA target, DAD probe target) and its
      link-local IPv6 sources.  MACs that sent from or claimed a --ip or
      --exclude address (the host, the gateway, the observer), the --mac
      ones and MACs with no --lan address are no identity.  traffic: the
      families ("ipv4", "ipv6") the MAC carried flows of (not counting
      ARP, neighbour discovery, MLD, DHCP); dual_stack: both, one group's
      flows of both families, right only where the policy groups them.  Problems: a MAC
      with several IPv4 addresses or several IPv6 addresses in one /64
      ("several"; psv gives an identity one address per prefix), an
      address used or claimed by several MACs ("shared").  Exit status 1
      if there is a problem.
      JSON: {"identities": [{"mac", "frames", "ipv4", "ipv6",
      "link_local", "traffic", "dual_stack"}], "several": [{"mac", "net",
      "addresses"}], "shared": [{"ip", "macs"}], "problems"}
  link PCAP [--mac M] [--ip I] [--exclude IP]... [--lan CIDR]...
            [--port-range LO-HI] [--ts-tolerance MS]
      Whether the identities' own headers link them: the counters and
      clocks of a network stack that two identities share.  An identity
      is a distinct (Ethernet source, IP source) pair of frames sent from
      a --lan address (default 192.0.2.0/24 and 2001:db8:1::/64),
      leaving out the real --mac/--ip and --exclude addresses (the
      gateway, the observer) and neighbour discovery/MLD frames.  For every pair of identities that
      sent to a common destination address ("server") it judges:
        tcp_ports (per server address and port): SYNs without ACK of the
          two identities, retransmissions counted once, merged in capture
          order.  A "switch" is a SYN of one identity right after one of
          the other; its step is the forward distance between the two
          source ports, modulo --port-range (Linux's default 32768-60999)
          when both are in it, else modulo 65536.  LINKED if there are at
          least 3 switches and at least 75% of them are small forward
          steps (1..1023): one counter hands out increasing ports to both.
          Two independent counters (random offsets d apart) alternate
          steps of about +d and -d, so at most about half of the switches
          can be small forward steps; random ports make one with
          probability 1023/28232 (3.6%).  Two counters closer together
          than either grows between two switches (0 < d < growth) cannot
          be told from one: for ports (growth about 2 per connection) that
          takes d of a few ports, chance about 1e-4 per pair.
        tcp_ts (per server address): for each TCP connection (source and
          destination port) the median of TSval - capture time in ms,
          modulo 2^32 (the TS clock is 1 kHz).  LINKED if at least 2
          pairs of connections (or every pair, if fewer exist), one of
          each identity, have offsets within --ts-tolerance ms (default
          100; by chance 201/2^32 per pair).  One offset per host and
          server (Linux 4.10 to 6.x: a hash of saddr and daddr) then shows.
          The testbed's 6.18 kernel was measured to draw a new offset per
          connection (the hash takes the ports too): one stack shows no
          relation there, and the relation stays for other kernels.
        tcp_isn (per server address): the same with the SYN's ISN -
          capture time in ns / 64 (Linux's ISN clock), tolerance 2^14
          units (1 ms).  Linux hashes the ports into the ISN, so even one
          stack shows no relation here; a stack without that would.
        ip_id (IPv4, per server address and protocol): IP IDs of packets
          without DF (UDP sent with IP_PMTUDISC_DONT, ICMP, fragments
          counted once), merged in capture order, judged like tcp_ports
          with steps modulo 65536.  Linux draws them from a counter per
          (daddr, saddr, proto) bucket that also grows by a random amount
          up to the jiffies since its last use: alternate sends should be
          less than about a second apart.  Two buckets closer than their
          growth between switches look like one (about growth/65536 per
          pair, under 0.1% at a few sends a second).  IPv6 has an
          identification only in fragment headers: the same judgement of
          the fragments' identifications, steps modulo 2^32 (recent Linux
          draws them at random, older kernels from buckets as for IPv4).
      A relation with too little data (fewer than 3 switches, no
      connection with timestamps) is reported with "enough": false and
      is never LINKED; a test should require enough data.
      JSON: {"identities": [{"mac", "ip", "frames", "servers"}],
      "pairs": [{"a": {"mac", "ip"}, "b": {...}, "common_servers",
      "linked": [relation names], "relations": [{"relation", "server",
      "linked", "enough", and for tcp_ports/ip_id "events", "switches",
      "small_steps", "examples" ([from, to] values of small steps); for
      tcp_ts/tcp_isn "connections" ([n_a, n_b]), "pairs", "matches",
      "closest" (smallest offset distance), "examples"}]}],
      "linked_pairs", "linked_relations"}

Exit status: 0, 1 if `link` found a relation or `identities` a problem,
or 2 on a usage or tshark error.
"""

import argparse
import ipaddress
import json
import subprocess
import sys

FIELDS = [
    "frame.number", "frame.time_epoch", "frame.len", "eth.src", "eth.dst",
    "ip.src", "ip.dst", "ip.proto", "ip.checksum.status",
    "tcp.srcport", "tcp.dstport", "tcp.checksum.status", "tcp.checksum",
    "tcp.checksum_calculated", "udp.srcport", "udp.dstport",
    "udp.checksum.status", "icmp.type", "icmp.ident", "icmp.checksum.status",
    "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac",
    "arp.dst.proto_ipv4",
    # For `link`: the counters and clocks a stack puts in its headers.
    "ipv6.src", "ipv6.dst", "ipv6.nxt", "ip.id", "ip.flags.df",
    "tcp.flags.syn", "tcp.flags.ack", "tcp.seq_raw",
    "tcp.options.timestamp.tsval",
    # IPv6: ICMPv6 (echo, errors, neighbour discovery and MLD).
    "icmpv6.type", "icmpv6.echo.identifier", "icmpv6.nd.ns.target_address",
    "icmpv6.nd.na.target_address", "icmpv6.opt.linkaddr",
    # The groups an MLD report joins (v1, v2), IPv6 fragment headers.
    "icmpv6.mld.multicast_address", "icmpv6.mldr.mar.multicast_address",
    "ipv6.fraghdr.nxt", "ipv6.fraghdr.ident",
]
# The testbed's LAN, IPv4 and (tb_up --ipv6) IPv6.
DEFAULT_LANS = ("192.0.2.0/24", "2001:db8:1::/64")
PROTO = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}
ICMP_PROTOS = {1, 58}
ICMP_ERRORS = {3, 4, 5, 11, 12}
ICMP_ECHO = {0, 8}
ICMP6_ERRORS = {1, 2, 3, 4}
ICMP6_ECHO = {128, 129}
# The host's own presence on an IPv6 link: MLD queries, reports and done
# (130-132, MLDv2 reports 143), router and neighbour discovery (133-137).
NDP_MLD = {130, 131, 132, 133, 134, 135, 136, 137, 143}
ND_NS_NA = {135, 136}
MLD_REPORTS = {131, 132, 143}
# Solicited-node multicast groups: a host joins ff02::1:ffXX:XXXX for each
# of its addresses (the low 24 bits), so an MLD report names them.
SOLICITED_NODE = ipaddress.ip_network("ff02::1:ff00:0/104")
# tshark's checksum status: 0 bad, 1 good, 2 unverified.
STATUS = {"0": "bad", "1": "good", "2": "unverified"}


def die(msg):
    print(f"observe.py: {msg}", file=sys.stderr)
    sys.exit(2)


def frames(pcap):
    """Yields one dict per frame, every field a list (tshark occurrences)."""
    cmd = ["tshark", "-n", "-r", pcap,
           "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
           "-o", "udp.check_checksum:TRUE",
           "-o", "tcp.desegment_tcp_streams:FALSE",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
           "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    except OSError as e:
        die(f"cannot run tshark: {e}")
    for line in proc.stdout:
        cols = line.rstrip("\n").split("\t")
        if len(cols) != len(FIELDS):
            continue
        yield {k: (v.split(",") if v else []) for k, v in zip(FIELDS, cols)}
    err = proc.stderr.read()
    if proc.wait() != 0:
        die(f"tshark failed on {pcap}: {err.strip()}")


def first(fr, key, conv=str):
    v = fr[key]
    return conv(v[0]) if v else None


def v6_proto(fr, i):
    """The transport protocol of the i-th IPv6 header of a frame (0 outer,
    1 quoted in an ICMPv6 error): the header tshark found after any
    extension headers (MLD comes after a hop-by-hop header)."""
    if len(fr["icmpv6.type"]) > i:
        return 58
    if fr["tcp.srcport"]:
        return 6
    if fr["udp.srcport"]:
        return 17
    nxt = fr["ipv6.nxt"]
    if i == 0 and nxt and int(nxt[0]) == 44 and fr["ipv6.fraghdr.nxt"]:
        # A later fragment: the protocol its fragment header names.
        return int(fr["ipv6.fraghdr.nxt"][0])
    return int(nxt[i]) if len(nxt) > i else None


class Packet:
    """The IPv4 or IPv6 view of one frame: addresses, the flow it belongs
    to."""

    def __init__(self, fr):
        self.num = first(fr, "frame.number", int)
        self.len = first(fr, "frame.len", int)
        self.eth_src = first(fr, "eth.src")
        self.eth_dst = first(fr, "eth.dst")
        self.v6 = not fr["ip.src"]
        self.inner = None
        self.icmp_type = None
        if self.v6:
            srcs, dsts = fr["ipv6.src"], fr["ipv6.dst"]
            self.proto = v6_proto(fr, 0)
            icmp, errors = "icmpv6.type", ICMP6_ERRORS
        else:
            srcs, dsts, protos = fr["ip.src"], fr["ip.dst"], fr["ip.proto"]
            self.proto = int(protos[0])
            icmp, errors = "icmp.type", ICMP_ERRORS
        self.src, self.dst = srcs[0], dsts[0]
        ports = self._ports(fr, self.proto)
        if self.proto in ICMP_PROTOS:
            self.icmp_type = first(fr, icmp, int)
            if self.icmp_type in errors and len(srcs) > 1:
                iproto = v6_proto(fr, 1) if self.v6 else int(protos[1])
                # The transport fields of an ICMP error are the quoted
                # header's; an inner ICMP echo has the second icmp.type.
                iports = self._ports(fr, iproto, inner=True)
                self.inner = (iproto, srcs[1], iports[0], dsts[1], iports[1])
                itypes = [int(t) for t in fr[icmp][1:2]]
                self.inner_icmp_type = itypes[0] if itypes else None
        self.sport, self.dport = ports
        # The flow this frame belongs to: (proto, endpoint A, endpoint B),
        # with the frame's sender as A (for an ICMP error, the sender of
        # the packet it quotes).
        if self.inner:
            p, s, sp, d, dp = self.inner
            self.flow = (p, (s, sp), (d, dp))
            self.flow_icmp_type = flow_icmp_type(
                self.inner_icmp_type if p in ICMP_PROTOS else None)
        else:
            self.flow = (self.proto, (self.src, self.sport),
                         (self.dst, self.dport))
            self.flow_icmp_type = flow_icmp_type(self.icmp_type)

    def _ports(self, fr, proto, inner=False):
        if proto == 6:
            return (first(fr, "tcp.srcport", int),
                    first(fr, "tcp.dstport", int))
        if proto == 17:
            return (first(fr, "udp.srcport", int),
                    first(fr, "udp.dstport", int))
        if proto == 1:
            # An echo is keyed by its identifier.  Inside an ICMP error the
            # quoted echo's type is the second icmp.type; its identifier is
            # the only icmp.ident (errors have none of their own).
            types = fr["icmp.type"][1:] if inner else fr["icmp.type"]
            if types and int(types[0]) in ICMP_ECHO and fr["icmp.ident"]:
                ident = int(fr["icmp.ident"][0], 0)
                return (ident, ident)
        if proto == 58:
            types = fr["icmpv6.type"][1:] if inner else fr["icmpv6.type"]
            idents = fr["icmpv6.echo.identifier"]
            if types and int(types[0]) in ICMP6_ECHO and idents:
                ident = int(idents[0], 0)
                return (ident, ident)
        return (None, None)


def flow_icmp_type(t):
    """ICMP type of a flow: 8 for echo requests and replies alike, 128 for
    ICMPv6 echo."""
    if t in ICMP_ECHO:
        return 8
    return 128 if t in ICMP6_ECHO else t


def in_net(ip, net):
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return a.version == net.version and a in net


def in_nets(ip, nets):
    return any(in_net(ip, n) for n in nets)


def canon(ip):
    """An address as tshark prints it (IPv6 compressed, lower case)."""
    try:
        return ipaddress.ip_address(ip).compressed
    except ValueError:
        die(f"bad address {ip!r}")


class Flows:
    """Groups packets by the LAN-side endpoint and the remote service."""

    def __init__(self, lan):
        self.lan = lan
        self.local = {}     # conversation -> local (ip, port)
        self.groups = {}

    def _conv(self, pkt):
        p, a, b = pkt.flow
        return (p, pkt.flow_icmp_type, frozenset((a, b)))

    def _orient(self, pkt, conv):
        if conv in self.local:
            return self.local[conv]
        _, a, b = pkt.flow
        a_lan, b_lan = in_nets(a[0], self.lan), in_nets(b[0], self.lan)
        if a_lan != b_lan:
            local = a if a_lan else b
        else:
            # Both on the LAN (the gateway's DNS) or neither: the side that
            # spoke first (for an ICMP error, the sender of what it quotes).
            local = a
        self.local[conv] = local
        return local

    def add(self, pkt):
        conv = self._conv(pkt)
        local = self._orient(pkt, conv)
        _, a, b = pkt.flow
        remote = b if a == local else a
        # An ICMP error travels back to the sender of the quoted packet.
        out = (a == local) != bool(pkt.inner)
        if out:
            mac, ip, rmac = pkt.eth_src, pkt.src, pkt.eth_dst
        else:
            mac, ip, rmac = pkt.eth_dst, pkt.dst, pkt.eth_src
        key = (PROTO.get(pkt.flow[0], str(pkt.flow[0])), mac, ip, remote[0],
               remote[1] if pkt.flow[0] not in ICMP_PROTOS else None,
               pkt.flow_icmp_type)
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = {
                "frames_out": 0, "frames_in": 0, "bytes_out": 0,
                "bytes_in": 0, "ports": set(), "remote_macs": set(),
                "icmp_errors_in": 0, "icmp_errors_out": 0,
                "error_sources": set()}
        d = "out" if out else "in"
        g["frames_" + d] += 1
        g["bytes_" + d] += pkt.len or 0
        if local[1] is not None:
            g["ports"].add(local[1])
        if rmac:
            g["remote_macs"].add(rmac)
        if pkt.inner:
            g["icmp_errors_" + d] += 1
            g["error_sources"].add(pkt.dst if out else pkt.src)

    def records(self):
        out = []
        for key, g in self.groups.items():
            proto, mac, ip, rip, rport, itype = key
            out.append({
                "proto": proto, "mac": mac, "ip": ip, "remote_ip": rip,
                "remote_port": rport, "icmp_type": itype,
                "frames_out": g["frames_out"], "frames_in": g["frames_in"],
                "bytes_out": g["bytes_out"], "bytes_in": g["bytes_in"],
                "conns": len(g["ports"]),
                "local_ports": sorted(g["ports"])[:20],
                "remote_macs": sorted(g["remote_macs"]),
                "icmp_errors_in": g["icmp_errors_in"],
                "icmp_errors_out": g["icmp_errors_out"],
                "error_sources": sorted(g["error_sources"], key=ip_sort),
            })
        out.sort(key=lambda r: (ip_sort(r["remote_ip"]), r["proto"],
                                r["remote_port"] or 0, r["icmp_type"] or 0,
                                ip_sort(r["ip"]), r["mac"] or ""))
        return out


def ip_sort(ip):
    try:
        return (0, int(ipaddress.ip_address(ip)))
    except ValueError:
        return (1, 0)


def parse_remote(s):
    """IP, IP:PORT, IPv6 or [IPv6]:PORT."""
    if s is None:
        return None
    ip, port = s, ""
    if s.startswith("["):
        ip, _, port = s[1:].partition("]")
        port = port[1:] if port.startswith(":") else port
    elif s.count(":") == 1:
        ip, _, port = s.partition(":")
    try:
        return (ipaddress.ip_address(ip).compressed,
                int(port) if port else None)
    except ValueError:
        die(f"bad --remote {s!r}: want IP, IP:PORT or [IPv6]:PORT")


def matches(pkt, remote, proto):
    """Whether pkt belongs to a flow with the given remote end and proto."""
    p, a, b = pkt.flow
    if proto and PROTO.get(p) != proto:
        return False
    if remote is None:
        return True
    rip, rport = remote
    return any(ep[0] == rip and (rport is None or ep[1] == rport)
               for ep in (a, b))


def ip_packets(pcap):
    for fr in frames(pcap):
        if ((fr["ip.src"] and fr["ip.dst"] and fr["ip.proto"]) or
                (fr["ipv6.src"] and fr["ipv6.dst"])):
            yield fr, Packet(fr)
        else:
            yield fr, None


def cmd_flows(args):
    flows = Flows(args.lan)
    remote = parse_remote(args.remote)
    for _, pkt in ip_packets(args.pcap):
        if pkt and matches(pkt, remote, args.proto):
            flows.add(pkt)
    recs = flows.records()
    if args.json:
        return {"flows": recs}
    print_flows(recs)
    return None


def fmt_service(r):
    if r["proto"] in ("icmp", "icmpv6"):
        t = r["icmp_type"]
        echo = t == (8 if r["proto"] == "icmp" else 128)
        return (f"{r['remote_ip']} {r['proto']} "
                f"{'echo' if echo else f'type {t}'}")
    if r["remote_port"] is None:
        return f"{r['remote_ip']} ip proto {r['proto']}"
    if ":" in r["remote_ip"]:
        return f"[{r['remote_ip']}]:{r['remote_port']} {r['proto']}"
    return f"{r['remote_ip']}:{r['remote_port']} {r['proto']}"


def print_flows(recs):
    hdr = ("remote service", "LAN MAC", "LAN IP", "conns", "out", "in",
           "icmp err")
    rows = [(fmt_service(r), r["mac"] or "-", r["ip"], str(r["conns"]),
             str(r["frames_out"]), str(r["frames_in"]),
             str(r["icmp_errors_in"] + r["icmp_errors_out"]))
            for r in recs]
    table(hdr, rows)


def table(hdr, rows):
    widths = [max(len(x) for x in col) for col in zip(hdr, *rows)]
    for row in [hdr] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def cmd_macs(args):
    macs, ips = {}, {}

    def mac(m):
        return macs.setdefault(m, {"mac": m, "frames_sent": 0,
                                   "frames_received": 0, "ips": set(),
                                   "arp_ips": set()})

    def ip(a):
        return ips.setdefault(a, {"ip": a, "macs": set(), "frames_sent": 0,
                                  "frames_received": 0})

    for fr in frames(args.pcap):
        src, dst = first(fr, "eth.src"), first(fr, "eth.dst")
        if src:
            mac(src)["frames_sent"] += 1
        if dst:
            mac(dst)["frames_received"] += 1
        l3 = "ip" if fr["ip.src"] else "ipv6"
        if fr[l3 + ".src"] and fr[l3 + ".dst"]:
            s, d = fr[l3 + ".src"][0], fr[l3 + ".dst"][0]
            ip(s)["frames_sent"] += 1
            ip(d)["frames_received"] += 1
            if src:
                mac(src)["ips"].add(s)
                ip(s)["macs"].add(src)
        if src and fr["arp.src.proto_ipv4"]:
            mac(src)["arp_ips"].add(fr["arp.src.proto_ipv4"][0])
    mrecs = [dict(m, ips=sorted(m["ips"], key=ip_sort),
                  arp_ips=sorted(m["arp_ips"], key=ip_sort))
             for m in sorted(macs.values(), key=lambda m: m["mac"])]
    irecs = [dict(i, macs=sorted(i["macs"]))
             for i in sorted(ips.values(), key=lambda i: ip_sort(i["ip"]))]
    if args.json:
        return {"macs": mrecs, "ips": irecs}
    table(("MAC", "sent", "received", "IP sources", "ARP as"),
          [(m["mac"], str(m["frames_sent"]), str(m["frames_received"]),
            " ".join(m["ips"]) or "-", " ".join(m["arp_ips"]) or "-")
           for m in mrecs])
    print()
    table(("IP", "sent", "received", "from MACs"),
          [(i["ip"], str(i["frames_sent"]), str(i["frames_received"]),
            " ".join(i["macs"]) or "-") for i in irecs])
    return None


def cmd_arp(args):
    recs = []
    for fr in frames(args.pcap):
        op = first(fr, "arp.opcode", int)
        if op is None:
            continue
        sip = first(fr, "arp.src.proto_ipv4")
        tip = first(fr, "arp.dst.proto_ipv4")
        recs.append({
            "frame": first(fr, "frame.number", int),
            "time": first(fr, "frame.time_epoch", float),
            "op": {1: "request", 2: "reply"}.get(op, str(op)),
            "eth_src": first(fr, "eth.src"), "eth_dst": first(fr, "eth.dst"),
            "sender_mac": first(fr, "arp.src.hw_mac"), "sender_ip": sip,
            "target_mac": first(fr, "arp.dst.hw_mac"), "target_ip": tip,
            # RFC 5227 announcements and probes-as-requests: sender ==
            # target; RFC 5227 probes have sender 0.0.0.0 (not gratuitous).
            "gratuitous": sip is not None and sip == tip,
        })
    res = {"requests": sum(r["op"] == "request" for r in recs),
           "replies": sum(r["op"] == "reply" for r in recs), "arp": recs}
    if args.json:
        return res
    for r in recs:
        if r["op"] == "request":
            what = f"who-has {r['target_ip']} tell {r['sender_ip']}"
        else:
            what = f"{r['sender_ip']} is-at {r['sender_mac']}"
        g = " (gratuitous)" if r["gratuitous"] else ""
        print(f"{r['frame']:>7} {r['eth_src']} > {r['eth_dst']}  {what}{g}")
    print(f"{res['requests']} requests, {res['replies']} replies")
    return None


def minus_zero(fr):
    """0xffff where 0x0000 is computed: one's complement's other zero.
    Receivers accept it; tshark calls it bad (RFC 1624).  The kernel's
    incremental updates produce it (software GSO, for one)."""
    return (first(fr, "tcp.checksum") == "0xffff" and
            first(fr, "tcp.checksum_calculated") == "0x0000")


def cmd_checksums(args):
    layers = ("ip", "tcp", "udp", "icmp")
    res = {"frames": 0, "good": dict.fromkeys(layers, 0),
           "bad": dict.fromkeys(layers, 0),
           "unverified": dict.fromkeys(layers, 0), "bad_frames": []}
    for fr in frames(args.pcap):
        res["frames"] += 1
        if not (fr["ip.proto"] and fr["ip.src"] and fr["ip.dst"]):
            continue
        outer = PROTO.get(int(fr["ip.proto"][0]))
        judged = [("ip", first(fr, "ip.checksum.status"))]
        # Only the outer transport header: inside an ICMP error the quoted
        # TCP/UDP header is truncated and was never judged by anyone.
        if outer in ("tcp", "udp", "icmp"):
            judged.append((outer, first(fr, f"{outer}.checksum.status")))
        for layer, st in judged:
            st = STATUS.get(st, "unverified")
            if layer == "tcp" and st == "bad" and minus_zero(fr):
                st = "good"
            res[st][layer] += 1
            if st == "bad" and len(res["bad_frames"]) < 50:
                res["bad_frames"].append({
                    "frame": first(fr, "frame.number", int), "layer": layer,
                    "src": fr["ip.src"][0], "dst": fr["ip.dst"][0]})
    if args.json:
        return res
    table(("layer", "good", "bad", "unverified"),
          [(l, str(res["good"][l]), str(res["bad"][l]),
            str(res["unverified"][l])) for l in layers])
    for b in res["bad_frames"]:
        print(f"bad {b['layer']} checksum: frame {b['frame']} "
              f"{b['src']} > {b['dst']}")
    return None


def is_dhcp(fr):
    ports = set(fr["udp.srcport"] + fr["udp.dstport"])
    return bool(ports & {"67", "68"}) and len(fr["ip.src"]) == 1


def own_arp(fr, ips):
    """ARP about one of ips only: a peer asks for it, or it answers."""
    op = first(fr, "arp.opcode", int)
    sip = first(fr, "arp.src.proto_ipv4")
    tip = first(fr, "arp.dst.proto_ipv4")
    return ((op == 1 and tip in ips and sip not in ips) or
            (op == 2 and sip in ips and tip not in ips))


def ndp_type(fr):
    """The ICMPv6 type of an IPv6 neighbour discovery or MLD frame (the
    outer header: inside an ICMPv6 error it would be a quote), else None."""
    if fr["ip.src"] or not fr["ipv6.src"] or not fr["icmpv6.type"]:
        return None
    t = int(fr["icmpv6.type"][0])
    return t if t in NDP_MLD else None


def own_ndp(fr, macs, ips):
    """Neighbour discovery or MLD that is the host's own presence on the
    link: a frame sent from or to its MAC or one of its addresses (DAD
    from ::, RS, RA in reply, MLD) that is about the host alone.  Not its
    own, so judged as a leak: an NS or NA about another address (address
    resolution for a flow's next hop, DAD or an answer for an identity's
    address, a peer's answer to the host's question: the IPv4 rule of
    `own_arp`), and an MLD report joining the solicited-node group of an
    address that is not the host's (it names that address's low 24 bits
    under the host's MAC).  A frame that names the host only in a
    link-layer address option is not its own either: someone else speaks
    with its MAC."""
    t = ndp_type(fr)
    if t is None:
        return False
    ends = set(fr["eth.src"][:1] + fr["eth.dst"][:1]) & macs
    targets = set(fr["icmpv6.nd.ns.target_address"] +
                  fr["icmpv6.nd.na.target_address"])
    addrs = set(fr["ipv6.src"][:1] + fr["ipv6.dst"][:1]) | targets
    if not (ends or addrs & ips):
        return False
    if t in ND_NS_NA:
        return bool(targets) and targets <= ips
    if t in MLD_REPORTS:
        own = {solicited_node(a) for a in ips if ":" in a}
        groups = {canon(g) for g in fr["icmpv6.mld.multicast_address"] +
                  fr["icmpv6.mldr.mar.multicast_address"]}
        return all(g in own for g in groups if in_net(g, SOLICITED_NODE))
    return True


def solicited_node(ip):
    """The solicited-node multicast group of an IPv6 address."""
    low = int(ipaddress.ip_address(ip)) & 0xffffff
    return ipaddress.ip_address(int(SOLICITED_NODE.network_address) |
                                low).compressed


def eui64_of(mac):
    """The EUI-64 interface identifier (last 64 bits) SLAAC makes of mac."""
    b = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    if len(b) != 6:
        die(f"bad --mac {mac!r}")
    eui = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    return int.from_bytes(eui, "big")


def iid(ip):
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return int(a) & ((1 << 64) - 1) if a.version == 6 else None


def cmd_leaks(args):
    if not args.mac and not args.ip:
        die("leaks wants at least one --mac or --ip")
    macs = {m.lower() for m in args.mac}
    ips = {canon(i) for i in args.ip}
    eui64s = {eui64_of(m) for m in macs}
    remote = parse_remote(args.remote)
    flows = Flows(args.lan)
    res = {"frames": 0, "eth": 0, "ip": 0, "inner_ip": 0, "arp": 0,
           "ipv6": 0, "eui64": 0, "ndp": 0, "own_arp": 0, "own_ndp": 0,
           "own_ndp_types": {}, "first_frames": [], "flows": []}
    for fr, pkt in ip_packets(args.pcap):
        is_arp = bool(fr["arp.opcode"])
        if is_arp and args.no_arp:
            continue
        if is_arp and own_arp(fr, ips):
            res["own_arp"] += 1
            continue
        if own_ndp(fr, macs, ips):
            t = str(ndp_type(fr))
            res["own_ndp"] += 1
            res["own_ndp_types"][t] = res["own_ndp_types"].get(t, 0) + 1
            continue
        if args.no_dhcp and is_dhcp(fr):
            continue
        if (remote or args.proto) and not (pkt and
                                           matches(pkt, remote, args.proto)):
            continue
        hit = False
        if set(fr["eth.src"] + fr["eth.dst"]) & macs:
            res["eth"] += 1
            hit = True
        l3 = "ipv6" if fr["ipv6.src"] and not fr["ip.src"] else "ip"
        srcs, dsts = fr[l3 + ".src"], fr[l3 + ".dst"]
        if set(srcs[:1] + dsts[:1]) & ips:
            res["ip"] += 1
            hit = True
        elif set(srcs + dsts) & ips:
            res["inner_ip"] += 1
            hit = True
        # An IPv6 address made of the MAC (SLAAC's EUI-64) carries the MAC.
        if eui64s & {iid(a) for a in fr["ipv6.src"] + fr["ipv6.dst"]}:
            res["eui64"] += 1
            hit = True
        # The MAC in a neighbour discovery option (someone else's frame).
        if set(a.lower() for a in fr["icmpv6.opt.linkaddr"]) & macs:
            hit = True
        arp_fields = (fr["arp.src.hw_mac"] + fr["arp.dst.hw_mac"] +
                      fr["arp.src.proto_ipv4"] + fr["arp.dst.proto_ipv4"])
        if is_arp and set(a.lower() for a in arp_fields) & (macs | ips):
            res["arp"] += 1
            hit = True
        if not hit:
            continue
        res["frames"] += 1
        if l3 == "ipv6":
            res["ipv6"] += 1
        if ndp_type(fr) is not None:
            res["ndp"] += 1
        if len(res["first_frames"]) < 20:
            res["first_frames"].append(first(fr, "frame.number", int))
        if pkt:
            flows.add(pkt)
    res["flows"] = flows.records()
    if args.json:
        return res
    print(f"{res['frames']} frames carry {', '.join(sorted(macs | ips))}: "
          f"{res['eth']} by Ethernet address, {res['ip']} by IP address, "
          f"{res['inner_ip']} inside ICMP errors, {res['arp']} ARP, "
          f"{res['eui64']} by an EUI-64 IPv6 address; {res['ipv6']} IPv6, "
          f"{res['ndp']} of them neighbour discovery/MLD "
          f"({res['own_arp']} ARP about the host's own address and "
          f"{res['own_ndp']} of its IPv6 neighbour discovery/MLD not counted)")
    if res["flows"]:
        print_flows(res["flows"])
    return None


# ---- identities: the addresses each MAC stands for ------------------------

LINK_LOCAL = ipaddress.ip_network("fe80::/10")


def sender_addrs(fr):
    """The addresses a frame's sender uses or claims as its own: the IPv4
    or IPv6 source, the sender address of ARP, the target of an NA or of
    a DAD probe (an NS from ::).  The unspecified addresses are nobody's."""
    out = fr["ip.src"][:1] + fr["ipv6.src"][:1] + fr["arp.src.proto_ipv4"]
    t = ndp_type(fr)
    if t == 136 or (t == 135 and fr["ipv6.src"][0] == "::"):
        out += fr["icmpv6.nd.ns.target_address"] + \
            fr["icmpv6.nd.na.target_address"]
    return [a for a in out if a not in ("0.0.0.0", "::")]


def cmd_identities(args):
    lans = args.lan
    skip = {m.lower() for m in args.mac}
    others = {canon(i) for i in args.ip + args.exclude}
    macs = {}       # mac -> record under construction
    for fr in frames(args.pcap):
        mac = first(fr, "eth.src")
        if not mac:
            continue
        mac = mac.lower()
        addrs = sender_addrs(fr)
        if set(addrs) & others:
            # The gateway, the observer, the host itself: no identity.
            skip.add(mac)
        if mac in skip:
            continue
        r = macs.setdefault(mac, {"mac": mac, "frames": 0, "ipv4": set(),
                                  "ipv6": set(), "link_local": set(),
                                  "traffic": set()})
        r["frames"] += 1
        for a in addrs:
            if in_nets(a, lans):
                r["ipv6" if ":" in a else "ipv4"].add(a)
            elif in_net(a, LINK_LOCAL):
                r["link_local"].add(a)
        # Traffic of some flow, not presence (ARP, NDP/MLD, DHCP).
        src = (fr["ip.src"] or fr["ipv6.src"])[:1]
        if (src and in_nets(src[0], lans) and ndp_type(fr) is None and
                not is_dhcp(fr)):
            r["traffic"].add("ipv6" if ":" in src[0] else "ipv4")
    recs, owners = [], {}
    for mac in sorted(set(macs) - skip):
        r = macs[mac]
        if not (r["ipv4"] or r["ipv6"]):
            continue    # only link-local: a router's RA, not an identity
        for a in r["ipv4"] | r["ipv6"]:
            owners.setdefault(a, []).append(mac)
        recs.append({
            "mac": mac, "frames": r["frames"],
            "ipv4": sorted(r["ipv4"], key=ip_sort),
            "ipv6": sorted(r["ipv6"], key=ip_sort),
            "link_local": sorted(r["link_local"], key=ip_sort),
            "traffic": sorted(r["traffic"]),
            "dual_stack": r["traffic"] == {"ipv4", "ipv6"}})
    several = []
    for r in recs:
        nets = {}
        for a in r["ipv4"]:
            nets.setdefault("ipv4", []).append(a)
        for a in r["ipv6"]:
            net = ipaddress.ip_network(a + "/64", strict=False)
            nets.setdefault(str(net), []).append(a)
        for net, addrs in sorted(nets.items()):
            if len(addrs) > 1:
                several.append({"mac": r["mac"], "net": net,
                                "addresses": addrs})
    shared = [{"ip": a, "macs": m} for a, m in
              sorted(owners.items(), key=lambda x: ip_sort(x[0]))
              if len(m) > 1]
    res = {"identities": recs, "several": several, "shared": shared,
           "problems": len(several) + len(shared)}
    args.rc = 1 if res["problems"] else 0
    if args.json:
        return res
    table(("MAC", "frames", "IPv4", "IPv6", "link-local", "dual-stack"),
          [(r["mac"], str(r["frames"]), " ".join(r["ipv4"]) or "-",
            " ".join(r["ipv6"]) or "-", " ".join(r["link_local"]) or "-",
            "yes" if r["dual_stack"] else "no") for r in recs])
    for x in several:
        print(f"{x['mac']} has several addresses in {x['net']}: "
              f"{' '.join(x['addresses'])}")
    for x in shared:
        print(f"{x['ip']} is used by several MACs: {' '.join(x['macs'])}")
    print(f"{len(recs)} identities, {res['problems']} problems")
    return None


# ---- link: what the stack's counters and clocks tell an observer ----------
#
# Each criterion below is documented in the module docstring (`link`).

LINK_PORT_RANGE = (32768, 60999)  # Linux's default ip_local_port_range
LINK_SMALL_STEP = 1024       # a "small forward step" is 1..1023
LINK_MIN_SWITCHES = 3        # identity changes needed to judge a sequence
LINK_SMALL_SHARE = 0.75      # share of switches that must be small steps
LINK_TS_TOLERANCE_MS = 100   # TSval offsets this close are one clock
LINK_ISN_TOLERANCE = 1 << 14  # ISN offsets (64 ns units, ~1 ms) this close
LINK_MIN_MATCHES = 2         # matching connection pairs needed (or all)


def is_true(v):
    return v in ("1", "True", "true")


def epoch_ns(s):
    """frame.time_epoch ("1764516000.123456000") as integer nanoseconds:
    a float loses the ISN clock's 64 ns units at today's epoch."""
    whole, _, frac = s.partition(".")
    return int(whole) * 10**9 + int((frac + "000000000")[:9])


def signed32(v):
    v &= 0xffffffff
    return v - (1 << 32) if v >= 1 << 31 else v


class Sent:
    """One IPv4 or IPv6 frame, with the fields `link` reads."""

    def __init__(self, fr):
        self.num = first(fr, "frame.number", int)
        self.ns = epoch_ns(fr["frame.time_epoch"][0])
        self.mac = first(fr, "eth.src")
        if fr["ip.src"]:
            self.v6 = False
            self.src, self.dst = fr["ip.src"][0], fr["ip.dst"][0]
            self.proto = int(fr["ip.proto"][0])
            ipid = first(fr, "ip.id")
            self.ipid = int(ipid, 0) if ipid else None
            self.df = is_true(first(fr, "ip.flags.df"))
        else:
            self.v6 = True
            self.src, self.dst = fr["ipv6.src"][0], fr["ipv6.dst"][0]
            self.proto = v6_proto(fr, 0)
            # IPv6 has an identification only in a fragment header.
            frag = first(fr, "ipv6.fraghdr.ident")
            self.ipid = int(frag, 0) if frag else None
            self.df = frag is None
        self.sport = self.dport = None
        self.syn = self.ack = False
        self.seq = self.tsval = None
        # The outer header only: inside an ICMP error the TCP fields are
        # the quoted segment's.
        if self.proto == 6 and fr["tcp.srcport"]:
            self.sport = first(fr, "tcp.srcport", int)
            self.dport = first(fr, "tcp.dstport", int)
            self.syn = is_true(first(fr, "tcp.flags.syn"))
            self.ack = is_true(first(fr, "tcp.flags.ack"))
            self.seq = first(fr, "tcp.seq_raw", int)
            self.tsval = first(fr, "tcp.options.timestamp.tsval", int)
        elif self.proto == 17 and fr["udp.srcport"]:
            self.sport = first(fr, "udp.srcport", int)
            self.dport = first(fr, "udp.dstport", int)


def ident_str(ident):
    return f"{ident[1]} ({ident[0]})"


def port_step(a, b, lo, hi):
    """Forward distance from port a to port b, modulo the port range when
    both are in it (the kernel's counter wraps there), else modulo 2^16."""
    if lo <= a <= hi and lo <= b <= hi:
        return (b - a) % (hi - lo + 1)
    return (b - a) % 65536


def judge_sequence(events, step):
    """events: (frame, identity, value) of two identities in capture order.
    Counts identity switches and how many of them are small forward steps."""
    switches, small, examples = 0, 0, []
    for (_, i1, v1), (_, i2, v2) in zip(events, events[1:]):
        if i1 == i2:
            continue
        switches += 1
        s = step(v1, v2)
        if 0 < s < LINK_SMALL_STEP:
            small += 1
            if len(examples) < 8:
                examples.append([v1, v2])
    enough = switches >= LINK_MIN_SWITCHES
    return {"events": len(events), "switches": switches,
            "small_steps": small, "examples": examples, "enough": enough,
            "linked": enough and small >= LINK_SMALL_SHARE * switches}


def judge_offsets(conns_a, conns_b, modulus, tolerance):
    """conns_x: {connection: offset}.  Pairs of connections (one of each
    identity) whose offsets agree within tolerance (modular distance)."""
    matches, closest, examples = 0, None, []
    for ca, oa in conns_a.items():
        for cb, ob in conns_b.items():
            d = (oa - ob) % modulus
            d = min(d, modulus - d)
            closest = d if closest is None else min(closest, d)
            if d <= tolerance:
                matches += 1
                if len(examples) < 8:
                    examples.append([list(ca), list(cb), d])
    pairs = len(conns_a) * len(conns_b)
    return {"connections": [len(conns_a), len(conns_b)], "pairs": pairs,
            "matches": matches, "closest": closest, "examples": examples,
            "enough": pairs > 0,
            "linked": pairs > 0 and matches >= min(LINK_MIN_MATCHES, pairs)}


def median(vals):
    vals = sorted(vals)
    return vals[len(vals) // 2]


def cmd_link(args):
    lans = args.lan
    real_macs = {m.lower() for m in args.mac}
    real_ips = {canon(i) for i in args.ip + args.exclude}
    lo, hi = args.port_range
    ids = {}            # identity -> frames sent
    syns = {}           # (dst, dport) -> [(frame, identity, sport)]
    seen_syn = set()    # (identity, sport, isn): retransmissions
    ts = {}             # (identity, dst) -> {(sport, dport): [offset]}
    isn = {}            # (identity, dst) -> {(sport, dport): offset}
    ipids = {}          # (dst, proto) -> [(frame, identity, ip id)]
    servers = {}        # identity -> set of dst
    for fr in frames(args.pcap):
        if not (fr["ip.src"] or fr["ipv6.src"]) or not fr["eth.src"]:
            continue
        # Neighbour discovery and MLD carry no counter or clock of a stack.
        if ndp_type(fr) is not None:
            continue
        p = Sent(fr)
        if not any(in_net(p.src, n) for n in lans):
            continue
        if p.mac.lower() in real_macs or p.src in real_ips:
            continue
        ident = (p.mac.lower(), p.src)
        ids[ident] = ids.get(ident, 0) + 1
        servers.setdefault(ident, set()).add(p.dst)
        if p.proto == 6 and p.sport is not None:
            conn = (p.sport, p.dport)
            if p.syn and not p.ack and (ident, p.sport, p.seq) not in seen_syn:
                seen_syn.add((ident, p.sport, p.seq))
                syns.setdefault((p.dst, p.dport), []).append(
                    (p.num, ident, p.sport))
                off = (p.seq - p.ns // 64) % (1 << 32)
                isn.setdefault((ident, p.dst), {}).setdefault(conn, off)
            if p.tsval is not None:
                off = (p.tsval - p.ns // 10**6) % (1 << 32)
                ts.setdefault((ident, p.dst), {}).setdefault(
                    conn, []).append(off)
        if not p.df and p.ipid is not None:
            seq = ipids.setdefault((p.dst, p.proto), [])
            # Fragments of one datagram share an ID: count it once.
            if not (seq and seq[-1][1] == ident and seq[-1][2] == p.ipid):
                seq.append((p.num, ident, p.ipid))

    def ts_conns(ident, dst):
        # An offset per connection: its median (the clock ticks at 1 kHz,
        # the capture's timestamps do not tick with it).
        return {c: median(v) for c, v in ts.get((ident, dst), {}).items()}

    order = sorted(ids, key=lambda i: (ip_sort(i[1]), i[0]))
    pairs = []
    for x, a in enumerate(order):
        for b in order[x + 1:]:
            common = sorted(servers[a] & servers[b], key=ip_sort)
            if not common:
                continue
            rels = []
            for dst in common:
                for (d, dport), evs in sorted(syns.items(), key=str):
                    if d != dst:
                        continue
                    evs = [e for e in evs if e[1] in (a, b)]
                    if {e[1] for e in evs} != {a, b}:
                        continue
                    r = judge_sequence(
                        evs, lambda u, v: port_step(u, v, lo, hi))
                    rels.append(dict(relation="tcp_ports",
                                     server=f"{dst}:{dport}", **r))
                ca, cb = ts_conns(a, dst), ts_conns(b, dst)
                if ca and cb:
                    r = judge_offsets(ca, cb, 1 << 32, args.ts_tolerance)
                    rels.append(dict(relation="tcp_ts", server=dst, **r))
                ca, cb = isn.get((a, dst), {}), isn.get((b, dst), {})
                if ca and cb:
                    r = judge_offsets(ca, cb, 1 << 32, LINK_ISN_TOLERANCE)
                    rels.append(dict(relation="tcp_isn", server=dst, **r))
                for (d, proto), evs in sorted(ipids.items(), key=str):
                    if d != dst:
                        continue
                    evs = [e for e in evs if e[1] in (a, b)]
                    if {e[1] for e in evs} != {a, b}:
                        continue
                    mod = 1 << 32 if ":" in dst else 1 << 16
                    r = judge_sequence(evs, lambda u, v: (v - u) % mod)
                    rels.append(dict(relation="ip_id",
                                     server=f"{dst} {PROTO.get(proto, proto)}",
                                     **r))
            pairs.append({
                "a": {"mac": a[0], "ip": a[1]}, "b": {"mac": b[0], "ip": b[1]},
                "common_servers": common, "relations": rels,
                "linked": sorted({r["relation"] for r in rels
                                  if r["linked"]})})
    res = {
        "identities": [{"mac": i[0], "ip": i[1], "frames": ids[i],
                        "servers": sorted(servers[i], key=ip_sort)}
                       for i in order],
        "pairs": pairs,
        "linked_pairs": sum(bool(p["linked"]) for p in pairs),
        "linked_relations": sum(r["linked"] for p in pairs
                                for r in p["relations"]),
    }
    args.rc = 1 if res["linked_relations"] else 0
    if args.json:
        return res
    print(f"{len(order)} identities (real MAC/IP and --exclude left out):")
    for i in res["identities"]:
        print(f"  {i['ip']} {i['mac']}: {i['frames']} frames, servers "
              f"{' '.join(i['servers'])}")
    for p in pairs:
        a = (p["a"]["mac"], p["a"]["ip"])
        b = (p["b"]["mac"], p["b"]["ip"])
        verdict = ("LINKED by " + ", ".join(p["linked"])) if p["linked"] \
            else "no relation"
        print(f"{ident_str(a)} ~ {ident_str(b)}: {verdict}")
        for r in p["relations"]:
            print("  " + fmt_relation(r, args.ts_tolerance))
    print(f"{res['linked_relations']} relations link "
          f"{res['linked_pairs']} of {len(pairs)} pairs")
    return None


def fmt_relation(r, ts_tol):
    v = "LINKED" if r["linked"] else \
        ("not linked" if r["enough"] else "too little data")
    head = f"{r['relation']} {r['server']}: "
    if r["relation"] in ("tcp_ports", "ip_id"):
        ex = " ".join(f"{u}->{w}" for u, w in r["examples"][:4])
        return (head + f"{r['events']} values, {r['switches']} identity "
                f"switches, {r['small_steps']} small forward steps "
                f"(< {LINK_SMALL_STEP}){' e.g. ' + ex if ex else ''}: {v}")
    unit = f"{ts_tol} ms" if r["relation"] == "tcp_ts" else \
        f"{LINK_ISN_TOLERANCE} x 64 ns"
    return (head + f"{r['connections'][0]} x {r['connections'][1]} "
            f"connections, {r['matches']} of {r['pairs']} pairs within "
            f"{unit} (closest {r['closest']}): {v}")


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def add(name, fn, flowargs=False):
        p = sub.add_parser(name)
        p.add_argument("pcap")
        p.add_argument("--json", action="store_true")
        if flowargs:
            p.add_argument("--remote", help="IP or IP:PORT of the far end")
            p.add_argument("--proto", choices=sorted(PROTO.values()))
            p.add_argument("--lan", type=ipaddress.ip_network,
                           action="append",
                           help="the observer's LAN, repeatable (default "
                           "192.0.2.0/24 and 2001:db8:1::/64)")
        p.set_defaults(fn=fn)
        return p

    add("flows", cmd_flows, flowargs=True)
    add("macs", cmd_macs)
    add("arp", cmd_arp)
    add("checksums", cmd_checksums)
    p = add("leaks", cmd_leaks, flowargs=True)
    p.add_argument("--mac", action="append", default=[])
    p.add_argument("--ip", action="append", default=[])
    p.add_argument("--no-arp", action="store_true")
    p.add_argument("--no-dhcp", action="store_true")
    p = add("identities", cmd_identities)
    p.add_argument("--mac", action="append", default=[],
                   help="the host's real MAC (not an identity)")
    p.add_argument("--ip", action="append", default=[],
                   help="the host's real address: its MAC is no identity")
    p.add_argument("--exclude", action="append", default=[],
                   help="a LAN address whose MAC is no identity (gateway)")
    p.add_argument("--lan", action="append", type=ipaddress.ip_network,
                   help="identities' network, repeatable (default "
                   "192.0.2.0/24 and 2001:db8:1::/64)")
    p = add("link", cmd_link)
    p.add_argument("--mac", action="append", default=[],
                   help="the host's real MAC (not an identity)")
    p.add_argument("--ip", action="append", default=[],
                   help="the host's real address (not an identity)")
    p.add_argument("--exclude", action="append", default=[],
                   help="a LAN address that is no identity (gateway, ...)")
    p.add_argument("--lan", action="append", type=ipaddress.ip_network,
                   help="identities' network, repeatable (default "
                   "192.0.2.0/24 and 2001:db8:1::/64)")
    p.add_argument("--port-range", type=port_range,
                   default=LINK_PORT_RANGE, help="ephemeral ports, LO-HI "
                   "(default 32768-60999)")
    p.add_argument("--ts-tolerance", type=int, default=LINK_TS_TOLERANCE_MS,
                   help="ms within which TSval offsets are one clock "
                   "(default 100)")
    args = ap.parse_args()
    args.rc = 0
    if hasattr(args, "lan") and not args.lan:
        args.lan = [ipaddress.ip_network(n) for n in DEFAULT_LANS]
    res = args.fn(args)
    if args.json:
        json.dump(res, sys.stdout, indent=1)
        print()
    sys.exit(args.rc)


def port_range(s):
    lo, _, hi = s.partition("-")
    try:
        lo, hi = int(lo), int(hi)
    except ValueError:
        raise argparse.ArgumentTypeError("want LO-HI")
    if not 0 < lo <= hi < 65536:
        raise argparse.ArgumentTypeError("want 0 < LO <= HI < 65536")
    return (lo, hi)


if __name__ == "__main__":
    main()
