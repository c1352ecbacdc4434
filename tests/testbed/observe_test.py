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
                       Raw, wrpcap)

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


def main():
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "crafted.pcap")
        wrpcap(pcap, capture())
        test_flows(pcap)
        test_leaks(pcap)
        test_arp_macs_checksums(pcap)
        res = subprocess.run([OBS, "flows", os.path.join(d, "missing")],
                             capture_output=True, text=True)
        check("a missing capture is an error (exit 2)",
              res.returncode == 2 and "tshark failed" in res.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
