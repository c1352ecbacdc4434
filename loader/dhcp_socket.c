// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dhcp_socket.c - raw Ethernet/IPv4/UDP framing for the DHCP clients,
 * the AF_PACKET socket they share, and the strict re-validation of what
 * it receives (busybox udhcpc's rules: every length, IHL, both checksums).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dhcp_client.h"
#include "dhcp_socket.h"
#include "log.h"

#define IP_HLEN 20
#define IP_DF 0x4000
#define IP_FRAG_MASK 0x3fff	/* MF and the fragment offset */
#define FRAME_TTL 64	/* Linux default */
#define READ_BATCH 64

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 sum of 16-bit big-endian words, an odd last byte padded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP pseudo header (RFC 768): addresses, protocol, UDP length. */
static uint32_t pseudo_sum(const uint8_t *ip, uint16_t udp_len)
{
	return csum_add(0, ip + 12, 8) + IPPROTO_UDP + udp_len;
}

static void put_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src,
		    uint16_t type)
{
	memcpy(p, dst ? dst : bcast_mac, 6);
	memcpy(p + 6, src, 6);
	put16(p + 12, type);
}

int dhcp_frame_build_udp(void *buf, size_t size, const uint8_t src_mac[6],
			 const uint8_t *dst_mac, uint32_t src_ip,
			 uint32_t dst_ip, const void *payload, size_t len)
{
	uint16_t udp_len = DHCP_UDP_HLEN + len, tot = IP_HLEN + udp_len;
	uint8_t *f = buf, *ip = f + DHCP_ETH_HLEN, *udp = ip + IP_HLEN;
	uint16_t sum;

	if (len > DHCP_MSG_MAX_LEN || size < DHCP_ETH_HLEN + (size_t)tot)
		return -EMSGSIZE;
	put_eth(f, dst_mac, src_mac, ETH_P_IP);

	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, tot);
	put16(ip + 6, IP_DF);
	ip[8] = FRAME_TTL;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src_ip, 4);
	memcpy(ip + 16, &dst_ip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));

	put16(udp, DHCP_CLIENT_PORT);
	put16(udp + 2, DHCP_SERVER_PORT);
	put16(udp + 4, udp_len);
	put16(udp + 6, 0);
	memcpy(udp + DHCP_UDP_HLEN, payload, len);
	sum = csum_fold(csum_add(pseudo_sum(ip, udp_len), udp, udp_len));
	/* RFC 768: a computed 0 is sent as all ones (0 means "none"). */
	put16(udp + 6, sum ? sum : 0xffff);
	return DHCP_ETH_HLEN + tot;
}

int dhcp_frame_build_arp(void *buf, size_t size, const uint8_t mac[6],
			 uint32_t spa, uint32_t tpa)
{
	uint8_t *f = buf, *arp = f + DHCP_ETH_HLEN;

	if (size < DHCP_ARP_FRAME_LEN)
		return -EMSGSIZE;
	put_eth(f, NULL, mac, ETH_P_ARP);
	put16(arp, ARPHRD_ETHER);
	put16(arp + 2, ETH_P_IP);
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + 6, ARPOP_REQUEST);
	memcpy(arp + 8, mac, 6);
	memcpy(arp + 14, &spa, 4);
	memset(arp + 18, 0, 6);		/* target MAC unknown */
	memcpy(arp + 24, &tpa, 4);
	return DHCP_ARP_FRAME_LEN;
}

static int parse_arp(const uint8_t *arp, size_t len, struct dhcp_frame *f)
{
	if (len < 28 || get16(arp) != ARPHRD_ETHER ||
	    get16(arp + 2) != ETH_P_IP || arp[4] != 6 || arp[5] != 4)
		return -EBADMSG;
	f->kind = DHCP_FRAME_ARP;
	f->arp_op = get16(arp + 6);
	memcpy(f->arp_sha, arp + 8, 6);
	memcpy(&f->arp_spa, arp + 14, 4);
	memcpy(&f->arp_tpa, arp + 24, 4);
	return DHCP_FRAME_ARP;
}

static int parse_ipv4(const uint8_t *ip, size_t len, unsigned int flags,
		      struct dhcp_frame *f)
{
	size_t ihl, tot, udp_len;
	const uint8_t *udp;

	if (len < IP_HLEN || ip[0] >> 4 != 4)
		return -EBADMSG;
	ihl = (ip[0] & 0xf) * 4u;
	tot = get16(ip + 2);
	if (ihl < IP_HLEN || ihl > len || tot < ihl || tot > len)
		return -EBADMSG;
	if (csum_fold(csum_add(0, ip, ihl)) != 0)
		return -EBADMSG;
	/* Servers never fragment a DHCP reply; reassembly is not worth
	 * the attack surface. */
	if (get16(ip + 6) & IP_FRAG_MASK)
		return -EBADMSG;
	if (ip[9] != IPPROTO_UDP)
		return -ENOMSG;
	udp = ip + ihl;
	if (tot - ihl < DHCP_UDP_HLEN)
		return -EBADMSG;
	udp_len = get16(udp + 4);
	if (udp_len != tot - ihl)
		return -EBADMSG;
	if (get16(udp + 6) && !(flags & DHCP_FRAME_CSUM_PARTIAL) &&
	    csum_fold(csum_add(pseudo_sum(ip, udp_len), udp, udp_len)) != 0)
		return -EBADMSG;
	if (get16(udp) != DHCP_SERVER_PORT || get16(udp + 2) != DHCP_CLIENT_PORT)
		return -ENOMSG;
	f->kind = DHCP_FRAME_DHCP;
	memcpy(&f->ip_src, ip + 12, 4);
	memcpy(&f->ip_dst, ip + 16, 4);
	f->payload = udp + DHCP_UDP_HLEN;
	f->len = udp_len - DHCP_UDP_HLEN;
	return DHCP_FRAME_DHCP;
}

int dhcp_frame_parse(const void *frame, size_t len, unsigned int flags,
		     struct dhcp_frame *f)
{
	const uint8_t *p = frame;

	memset(f, 0, sizeof(*f));
	if (len < DHCP_ETH_HLEN)
		return -EBADMSG;
	memcpy(f->src_mac, p + 6, 6);
	switch (get16(p + 12)) {
	case ETH_P_ARP:
		return parse_arp(p + DHCP_ETH_HLEN, len - DHCP_ETH_HLEN, f);
	case ETH_P_IP:
		return parse_ipv4(p + DHCP_ETH_HLEN, len - DHCP_ETH_HLEN, flags,
				  f);
	default:
		return -ENOMSG;
	}
}

/*
 * The socket filter: ARP, or IPv4 UDP to port 68 that is not a fragment.
 * Everything else never reaches psvd.  Offsets are from the Ethernet
 * header (SOCK_RAW).
 */
static struct sock_filter dhcp_bpf[] = {
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),			/* EtherType */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 8, 0),	/* -> accept */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 8),	/* -> drop */
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9),		/* protocol */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 14 + 6),		/* frag field */
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, IP_FRAG_MASK, 4, 0),
	BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),		/* X = IHL * 4 */
	BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14 + 2),		/* UDP dport */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_CLIENT_PORT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffff),			/* accept */
	BPF_STMT(BPF_RET | BPF_K, 0),				/* drop */
};

static int set_opt(int fd, int level, int name, const void *val,
		   socklen_t len, const char *what, int ifindex)
{
	if (setsockopt(fd, level, name, val, len) == 0)
		return 0;
	log_err("dhcp: %s on ifindex %d: %s", what, ifindex, strerror(errno));
	return -errno;
}

int dhcp_socket_open(struct dhcp_socket *s, int ifindex,
		     const struct dhcp_socket_lookup *lookup, void *ctx)
{
	struct sock_fprog prog = {
		.len = sizeof(dhcp_bpf) / sizeof(dhcp_bpf[0]),
		.filter = dhcp_bpf,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	int one = 1, err;

	memset(s, 0, sizeof(*s));
	s->ifindex = ifindex;
	s->lookup = lookup;
	s->ctx = ctx;
	/* Protocol 0: nothing is queued until bind(), after the filter. */
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		err = -errno;
		log_err("dhcp: AF_PACKET socket for ifindex %d: %s", ifindex,
			strerror(errno));
		return err;
	}
	err = set_opt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog),
		      "SO_ATTACH_FILTER", ifindex);
	/* The kernel's view of the UDP checksum and of VLAN tags. */
	if (!err)
		err = set_opt(s->fd, SOL_PACKET, PACKET_AUXDATA, &one,
			      sizeof(one), "PACKET_AUXDATA", ifindex);
	/* Frames we send would come back as PACKET_OUTGOING otherwise
	 * (dhcp_socket_read() also drops those, for older kernels). */
	if (!err && setsockopt(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING,
			       &one, sizeof(one)) < 0)
		log_debug("dhcp: PACKET_IGNORE_OUTGOING on ifindex %d: %s",
			  ifindex, strerror(errno));
	if (!err && bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		log_err("dhcp: bind AF_PACKET to ifindex %d: %s", ifindex,
			strerror(errno));
	}
	if (err) {
		close(s->fd);
		s->fd = -1;
	}
	return err;
}

void dhcp_socket_close(struct dhcp_socket *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int dhcp_socket_fd(const struct dhcp_socket *s)
{
	return s->fd;
}

static int dispatch_dhcp(struct dhcp_socket *s, uint64_t now_ms,
			 const struct dhcp_frame *f)
{
	struct dhcp_client *c;

	/* The client checks the rest; chaddr picks the client. */
	if (f->len < DHCP_MSG_OFF_CHADDR + 6) {
		s->stats.rx_malformed++;
		return -EBADMSG;
	}
	c = s->lookup->by_mac(s->ctx, f->payload + DHCP_MSG_OFF_CHADDR);
	if (!c) {
		s->stats.rx_no_client++;
		return -ENOENT;
	}
	s->stats.rx_dhcp++;
	return dhcp_client_receive(c, now_ms, f->payload, f->len, f->src_mac);
}

/* RFC 5227 2.1.1: a sender using an address, or a probe (sender 0) for
 * it; either way the client of that address decides. */
static int dispatch_arp(struct dhcp_socket *s, uint64_t now_ms,
			const struct dhcp_frame *f)
{
	uint32_t ip = f->arp_spa ? f->arp_spa : f->arp_tpa;
	struct dhcp_client *c;

	s->stats.rx_arp++;
	if (!ip)
		return -ENOENT;
	c = s->lookup->by_ip(s->ctx, ip);
	if (!c)
		return -ENOENT;
	return dhcp_client_arp(c, now_ms, f->arp_op, f->arp_sha, f->arp_spa,
			       f->arp_tpa);
}

int dhcp_socket_dispatch(struct dhcp_socket *s, uint64_t now_ms,
			 const void *frame, size_t len, unsigned int flags)
{
	struct dhcp_frame f;
	int kind;

	kind = dhcp_frame_parse(frame, len, flags, &f);
	if (kind == -EBADMSG)
		s->stats.rx_malformed++;
	else if (kind < 0)
		s->stats.rx_not_ours++;
	if (kind < 0)
		return kind;
	if (kind == DHCP_FRAME_DHCP)
		return dispatch_dhcp(s, now_ms, &f);
	return dispatch_arp(s, now_ms, &f);
}

/* What the kernel says about a received frame, from PACKET_AUXDATA. */
static unsigned int aux_status(struct msghdr *mh)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		struct tpacket_auxdata aux;

		if (cm->cmsg_level != SOL_PACKET ||
		    cm->cmsg_type != PACKET_AUXDATA ||
		    cm->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
		return aux.tp_status;
	}
	return 0;
}

/* Reads one frame; 1 if one was read (and handled), 0 if none queued. */
static int read_one(struct dhcp_socket *s, uint64_t now_ms)
{
	uint8_t buf[DHCP_FRAME_MAX];
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct sockaddr_ll sll;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_name = &sll, .msg_namelen = sizeof(sll),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
	};
	unsigned int status;
	ssize_t n;

	do {
		n = recvmsg(s->fd, &mh, MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		s->stats.rx_errors++;
		log_err("dhcp: recvmsg on ifindex %d: %s", s->ifindex,
			strerror(errno));
		return -errno;
	}
	s->stats.rx_frames++;
	if (sll.sll_pkttype == PACKET_OUTGOING)
		return 1;
	status = aux_status(&mh);
	/* A tag the NIC stripped: the frame belongs to a VLAN device. */
	if (status & TP_STATUS_VLAN_VALID) {
		s->stats.rx_not_ours++;
		return 1;
	}
	if ((size_t)n > sizeof(buf)) {	/* MSG_TRUNC: the real length */
		s->stats.rx_malformed++;
		return 1;
	}
	dhcp_socket_dispatch(s, now_ms, buf, n,
			     status & TP_STATUS_CSUMNOTREADY ?
				     DHCP_FRAME_CSUM_PARTIAL : 0);
	return 1;
}

int dhcp_socket_read(struct dhcp_socket *s, uint64_t now_ms)
{
	int n, r;

	for (n = 0; n < READ_BATCH; n++) {
		r = read_one(s, now_ms);
		if (r <= 0)
			return r < 0 ? r : n;
	}
	return n;
}

static int membership(struct dhcp_socket *s, const uint8_t mac[6], int op,
		      const char *what)
{
	struct packet_mreq mr = {
		.mr_ifindex = s->ifindex,
		.mr_type = PACKET_MR_UNICAST,
		.mr_alen = 6,
	};

	memcpy(mr.mr_address, mac, 6);
	return set_opt(s->fd, SOL_PACKET, op, &mr, sizeof(mr), what,
		       s->ifindex);
}

int dhcp_socket_add_mac(struct dhcp_socket *s, const uint8_t mac[6])
{
	return membership(s, mac, PACKET_ADD_MEMBERSHIP,
			  "PACKET_ADD_MEMBERSHIP (unicast MAC)");
}

int dhcp_socket_del_mac(struct dhcp_socket *s, const uint8_t mac[6])
{
	return membership(s, mac, PACKET_DROP_MEMBERSHIP,
			  "PACKET_DROP_MEMBERSHIP (unicast MAC)");
}

static int send_frame(struct dhcp_socket *s, const void *frame, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = s->ifindex,
	};

	if (sendto(s->fd, frame, len, 0, (struct sockaddr *)&sll,
		   sizeof(sll)) < 0) {
		s->stats.tx_errors++;
		return -errno;
	}
	s->stats.tx_frames++;
	return 0;
}

int dhcp_socket_send_udp(struct dhcp_socket *s, const uint8_t src_mac[6],
			 const uint8_t *dst_mac, uint32_t src_ip,
			 uint32_t dst_ip, const void *payload, size_t len)
{
	uint8_t frame[DHCP_FRAME_MAX];
	int n;

	n = dhcp_frame_build_udp(frame, sizeof(frame), src_mac, dst_mac,
				 src_ip, dst_ip, payload, len);
	if (n < 0) {
		s->stats.tx_errors++;
		return n;
	}
	return send_frame(s, frame, n);
}

int dhcp_socket_send_arp(struct dhcp_socket *s, const uint8_t mac[6],
			 uint32_t spa, uint32_t tpa)
{
	uint8_t frame[DHCP_ARP_FRAME_LEN];

	dhcp_frame_build_arp(frame, sizeof(frame), mac, spa, tpa);
	return send_frame(s, frame, sizeof(frame));
}
