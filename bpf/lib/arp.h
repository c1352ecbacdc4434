/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * arp.h - answer ARP requests for virtual addresses (RFC 826), turning
 * the request into the reply in place.  Every virtual address answers
 * the same way, whoever asks, so a probe cannot tell them apart.
 */
#ifndef PSV_BPF_ARP_H
#define PSV_BPF_ARP_H

#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

/* RFC 826 packet for Ethernet/IPv4; addresses as bytes (unaligned). */
struct psv_arp {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
};

_Static_assert(sizeof(struct psv_arp) == 28, "ARP for Ethernet/IPv4");

/* Ethernet/IPv4 ARP (RFC 826), the only kind psv reads. */
static __always_inline bool arp_is_ipv4(const struct psv_arp *arp)
{
	return arp->htype == bpf_htons(ARPHRD_ETHER) &&
	       arp->ptype == bpf_htons(ETH_P_IP) && arp->hlen == ETH_ALEN &&
	       arp->plen == 4;
}

/*
 * Decide, for ARP arriving at the host.  A request for an identity that
 * is READY or ACTIVE gets a reply from that identity; rw carries its MAC
 * and address.  A request for any other identity address is dropped:
 * the address is local to the kernel (its route), which would answer
 * with the real MAC.  A reply to an identity (the kernel asked in its
 * name) reaches the kernel as if sent to the host's MAC.  Other ARP
 * passes; a truncated one is counted and left to the kernel, which may
 * be the host's own.  An announcement (sender address = target address,
 * RFC 5227 2.3) of a virtual address is someone else claiming it: it
 * passes, so psvd's socket sees the conflict and retires the identity
 * (the kernel answers none: a local sender address is a martian).
 */
static __always_inline int arp_decide(const struct psv_config *cfg,
				      const struct ethhdr *eth, void *data,
				      void *data_end, struct psv_rewrite *rw)
{
	struct psv_arp *arp = pkt_ptr(data, data_end, ETH_HLEN, sizeof(*arp));
	struct psv_identity *id;
	__be32 spa, tpa;

	if (!arp)
		return PSV_REASON(PSV_PASS, IN_DROP_PARSE);
	if (!arp_is_ipv4(arp))
		return PSV_REASON(PSV_PASS, IN_PASS);
	__builtin_memcpy(&tpa, arp->tpa, sizeof(tpa));
	__builtin_memcpy(&spa, arp->spa, sizeof(spa));
	if (spa == tpa)
		return PSV_REASON(PSV_PASS, IN_PASS);
	id = bpf_map_lookup_elem(&psv_identities, &tpa);
	if (!id)
		return PSV_REASON(PSV_PASS, IN_PASS);
	if (arp->op != bpf_htons(ARPOP_REQUEST)) {
		if (!mac_eq(eth->h_dest, id->mac))
			return PSV_REASON(PSV_PASS, IN_PASS);
		nat_prepare_mac(rw, 0, cfg->host_mac);
		return PSV_REASON(PSV_REWRITE, IN_IDENTITY_MAC);
	}
	if (id->state != PSV_ID_READY && id->state != PSV_ID_ACTIVE)
		return PSV_REASON(PSV_DROP, IN_ARP_DROPPED);
	__builtin_memset(rw, 0, sizeof(*rw));
	__builtin_memcpy(rw->mac, id->mac, ETH_ALEN);
	rw->new_addr = tpa;
	return PSV_REASON(PSV_REPLY, IN_ARP_REPLIED);
}

/* Apply: the request becomes the reply, back to the requester. */
static __always_inline int arp_reply(void *data, void *data_end,
				     const struct psv_rewrite *rw)
{
	struct ethhdr *eth = pkt_ptr(data, data_end, 0, sizeof(*eth));
	struct psv_arp *arp = pkt_ptr(data, data_end, ETH_HLEN, sizeof(*arp));

	if (!eth || !arp)
		return -1;
	arp->op = bpf_htons(ARPOP_REPLY);
	__builtin_memcpy(arp->tha, arp->sha, ETH_ALEN);
	__builtin_memcpy(arp->tpa, arp->spa, 4);
	__builtin_memcpy(arp->sha, rw->mac, ETH_ALEN);
	__builtin_memcpy(arp->spa, &rw->new_addr, 4);
	__builtin_memcpy(eth->h_dest, arp->tha, ETH_ALEN);
	__builtin_memcpy(eth->h_source, rw->mac, ETH_ALEN);
	return 0;
}

#endif /* PSV_BPF_ARP_H */
