/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_userspace.h - what bpf/lib's pure parsers need to compile as plain
 * C: the kernel's UAPI header structs in place of vmlinux.h, and libbpf's
 * byte-order macros and helper declarations (never called here).  Only helpers that read a
 * frame through (data, data_end) and touch no map or BPF helper build
 * this way; the fuzzers include them after this header.
 */
#ifndef PSV_FUZZ_BPF_USERSPACE_H
#define PSV_FUZZ_BPF_USERSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>	/* helper declarations: tc_pull_headers */

#include "psv.h"

/* parse.h and ipv6.h define these UAPI names again, as vmlinux.h lacks them. */
#undef ETH_ALEN
#undef ETH_HLEN
#undef ETH_P_IP
#undef ETH_P_ARP
#undef ETH_P_IPV6
#undef IPPROTO_ICMPV6
#undef IP_MF
#undef IP_OFFSET
#undef NEXTHDR_HOP
#undef NEXTHDR_ROUTING
#undef NEXTHDR_FRAGMENT
#undef NEXTHDR_DEST

#endif /* PSV_FUZZ_BPF_USERSPACE_H */
