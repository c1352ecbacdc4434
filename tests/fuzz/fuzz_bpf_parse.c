// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_bpf_parse.c - libFuzzer target for the dataplane's frame parsers
 * (bpf/lib/parse.h, ipv6.h, ndp.h) compiled as plain C: parse_ipv4,
 * parse_ipv6, the ICMP/ICMPv6 quote parsers and the neighbour discovery
 * option walk on any bytes.  The
 * verifier proves they stay inside the packet; this proves what the
 * programs then rely on: every offset they return lies inside the
 * datagram, every checksum offset inside the linear data, and "short"
 * fills nothing.  The frame is parsed whole and, as an skb with paged
 * data would be, with only its first bytes linear (the first input byte
 * says how many).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_userspace.h"
#include "../../bpf/lib/maps.h"	/* what ndp.h's other helpers use */
#include "../../bpf/lib/stats.h"
#include "../../bpf/lib/parse.h"
#include "../../bpf/lib/csum.h"
#include "../../bpf/lib/ipv6.h"
#include "../../bpf/lib/nat.h"
#include "../../bpf/lib/ndp.h"

/* A parser's promise broken: stop with the input that broke it. */
#define require(cond)							\
	do {								\
		if (!(cond))						\
			__builtin_trap();				\
	} while (0)

static void check_l4(const struct psv_pkt *p, __u32 linear, __u32 frame_len)
{
	require(p->l3_off == ETH_HLEN);
	require(p->l4_off <= p->l3_end && p->l3_end <= frame_len);
	if (p->l4_csum_off)
		require(p->l4_csum_off >= p->l4_off &&
			p->l4_csum_off + 2 <= p->l3_end &&
			p->l4_csum_off + 2 <= linear);
}

static void check_quote(const struct psv_pkt *p, const struct psv_pkt *q,
			__u32 linear)
{
	require(q->l3_off > p->l4_off && q->l4_off + 8 <= q->l3_end &&
		q->l3_end == p->l3_end && q->l4_off + 8 <= linear);
	if (q->l4_csum_off)
		require(q->l4_csum_off + 2 <= q->l3_end &&
			q->l4_csum_off + 2 <= linear);
}

static void fuzz_ipv4(void *data, void *data_end, __u32 frame_len)
{
	static const struct psv_pkt zero;
	struct psv_pkt p = {}, q = {};
	__u32 linear = data_end - data;
	int err = parse_ipv4(data, data_end, frame_len, &p);

	if (err == -PSV_E_SHORT)
		require(!memcmp(&p, &zero, sizeof(p)));
	if (err)
		return;
	check_l4(&p, linear, frame_len);
	if (p.proto == IPPROTO_ICMP && p.frag != PSV_FRAG_LATER &&
	    is_icmp_error(p.icmp_type) &&
	    !parse_quote(data, data_end, &p, &q))
		check_quote(&p, &q, linear);
}

static void check_ndp(void *data, void *data_end, const struct psv_pkt *p,
		      __u8 want)
{
	__u32 linear = data_end - data, at;

	if (ndp_lladdr_opt(data, data_end, p, want, &at) && at)
		require(at >= p->l4_off + NDP_MSG_LEN &&
			at + 8 <= p->l3_end && at + 8 <= linear);
}

static void fuzz_ipv6(void *data, void *data_end, __u32 frame_len)
{
	struct psv_pkt6 p6 = {}, q6 = {};
	__u32 linear = data_end - data;
	int err = parse_ipv6(data, data_end, frame_len, &p6);

	if (err)
		return;
	check_l4(&p6.p, linear, frame_len);
	require(p6.p.l4_off <= PSV_HDR_MAX && !ipv6_is_ext(p6.p.proto));
	if (p6.p.proto == IPPROTO_ICMPV6 && p6.p.frag == PSV_FRAG_NONE &&
	    (p6.p.icmp_type == ICMPV6_NEIGH_SOLICIT ||
	     p6.p.icmp_type == ICMPV6_NEIGH_ADVERT)) {
		check_ndp(data, data_end, &p6.p, NDP_OPT_SOURCE_LLADDR);
		check_ndp(data, data_end, &p6.p, NDP_OPT_TARGET_LLADDR);
	}
	if (p6.p.proto == IPPROTO_ICMPV6 && p6.p.frag != PSV_FRAG_LATER &&
	    is_icmp6_error(p6.p.icmp_type) &&
	    !parse_quote6(data, data_end, &p6.p, &q6))
		check_quote(&p6.p, &q6.p, linear);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u32 linear;
	uint8_t *frame;

	if (size < 1 || size > 0xffff)
		return 0;
	/* An exact-size copy, so ASan sees any read past the end. */
	frame = malloc(size - 1 ? size - 1 : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, size - 1);
	size--;
	linear = data[0] < size ? data[0] : size;
	fuzz_ipv4(frame, frame + size, size);
	fuzz_ipv4(frame, frame + linear, size);
	fuzz_ipv6(frame, frame + size, size);
	fuzz_ipv6(frame, frame + linear, size);
	free(frame);
	return 0;
}
