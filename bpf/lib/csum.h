/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * csum.h - incremental Internet checksum update (RFC 1624, eqn. 3:
 * HC' = ~(~HC + ~m + m')), for XDP, which has no checksum helpers, and
 * for the checksums inside a quoted packet of an ICMP error, which are
 * plain data to the skb helpers.  The one's complement sum does not care
 * about byte order (RFC 1071 2.(B)), so network-order words are added as
 * loaded.  Only needs __u16/__u32, so userspace tests can include it.
 * Exact except when every covered word ends up zero (eqn. 3 then gives
 * +0, a full sum -0): no header psv rewrites can be all zero, as the
 * IPv4 version, the pseudo-header protocol or the ICMP error type is set.
 */
#ifndef PSV_BPF_CSUM_H
#define PSV_BPF_CSUM_H

/* RFC 768: a computed UDP checksum of zero is sent as all ones. */
#define PSV_CSUM_MANGLED_0 0xffff

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The checksum field after a 16-bit word of its data changed from -> to. */
static __always_inline __u16 csum_replace2(__u16 check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from;
	sum += to;
	return (__u16)~csum_fold32(sum);
}

/* The checksum field after a 32-bit word of its data changed from -> to. */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (~from & 0xffff) + (~from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	return (__u16)~csum_fold32(sum);
}

/*
 * The sum change (RFC 1624: ~m + m') of n 32-bit words going from -> to,
 * folded to 16 bits: for IPv6 addresses, which only pseudo-headers
 * cover, and for a MAC in a neighbour discovery option.
 */
static __always_inline __u32 csum_diff_words(const __u32 *from,
					     const __u32 *to, int n)
{
	__u32 sum = 0;

	for (int i = 0; i < n; i++) {
		sum += (~from[i] & 0xffff) + (~from[i] >> 16);
		sum += (to[i] & 0xffff) + (to[i] >> 16);
	}
	return csum_fold32(sum);
}

/* The checksum field after changes whose sum change is diff. */
static __always_inline __u16 csum_add_diff(__u16 check, __u32 diff)
{
	return (__u16)~csum_fold32((__u16)~check + diff);
}

/* UDP: zero means "no checksum" and stays zero (RFC 768). */
static __always_inline __u16 csum_replace4_udp(__u16 check, __u32 from,
					       __u32 to)
{
	if (!check)
		return 0;
	check = csum_replace4(check, from, to);
	return check ? check : PSV_CSUM_MANGLED_0;
}

#endif /* PSV_BPF_CSUM_H */
