// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * link_socket.c - the AF_PACKET socket every identity's DHCP and ARP
 * frames pass: open, filter, read and dispatch, send, announce.
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

#include "psvd/link/link_socket.h"
#include "common/log.h"

#define READ_BATCH 64
/* RFC 951: where a BOOTP message (after the UDP header) names its client. */
#define BOOTP_OFF_CHADDR 28

/*
 * The socket filter: ARP; IPv4 UDP to port 68 that is not a fragment;
 * IPv6 whose next header is ICMPv6 of type RA, NS or NA (what DAD and
 * the prefixes need).  Everything else never reaches psvd.  Offsets are
 * from the Ethernet header (SOCK_RAW).
 */
static struct sock_filter frame_filter[] = {
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),			/* EtherType */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 14, 0),	/* -> accept */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 8, 0),	/* -> IPv6 */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 13),	/* -> drop */
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9),		/* protocol */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 11),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 14 + 6),		/* frag field */
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, LINK_IP_FRAG_MASK, 9, 0),
	BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),		/* X = IHL * 4 */
	BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14 + 2),		/* UDP dport */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_CLIENT_PORT, 5, 6),
	/* IPv6 */
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),		/* next header */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 4),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),		/* ICMPv6 type */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, LINK_ND_RA, 0, 2),
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, LINK_ND_NA, 1, 0),
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

int link_socket_open(struct link_socket *s, int ifindex)
{
	struct sock_fprog prog = {
		.len = sizeof(frame_filter) / sizeof(frame_filter[0]),
		.filter = frame_filter,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	int one = 1, err;

	memset(s, 0, sizeof(*s));
	s->ifindex = ifindex;
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
	 * (link_socket_read() also drops those, for older kernels). */
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

void link_socket_close(struct link_socket *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int link_socket_fd(const struct link_socket *s)
{
	return s->fd;
}

static int dispatch_dhcp(struct link_socket *s, uint64_t now_ms,
			 const struct link_frame *f)
{
	int r;

	/* The client checks the rest; chaddr picks the client. */
	if (f->len < BOOTP_OFF_CHADDR + 6) {
		s->stats.rx_malformed++;
		return -EBADMSG;
	}
	r = s->rx ? s->rx->dhcp(s->ctx, f->payload + BOOTP_OFF_CHADDR,
				now_ms, f) : -ENOENT;
	if (r == -ENOENT)
		s->stats.rx_no_client++;
	else
		s->stats.rx_dhcp++;
	return r;
}

/* RFC 5227 2.1.1: a sender using an address, or a probe (sender 0) for
 * it; either way the client of that address decides. */
static int dispatch_arp(struct link_socket *s, uint64_t now_ms,
			const struct link_frame *f)
{
	uint32_t ip = f->arp_spa ? f->arp_spa : f->arp_tpa;

	s->stats.rx_arp++;
	if (!ip || !s->rx)
		return -ENOENT;
	return s->rx->arp(s->ctx, ip, now_ms, f);
}

static int dispatch_nd(struct link_socket *s, uint64_t now_ms,
		       const struct link_frame *f)
{
	s->stats.rx_nd++;
	if (!s->nd)
		return -ENOENT;
	return s->nd(s->nd_ctx, now_ms, f);
}

int link_socket_dispatch(struct link_socket *s, uint64_t now_ms,
			 const void *frame, size_t len, unsigned int flags)
{
	struct link_frame f;
	int kind;

	kind = link_frame_parse(frame, len, flags, &f);
	if (kind == -EBADMSG)
		s->stats.rx_malformed++;
	else if (kind < 0)
		s->stats.rx_not_ours++;
	if (kind < 0)
		return kind;
	if (kind == LINK_FRAME_DHCP)
		return dispatch_dhcp(s, now_ms, &f);
	if (kind == LINK_FRAME_ND)
		return dispatch_nd(s, now_ms, &f);
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
static int read_one(struct link_socket *s, uint64_t now_ms)
{
	uint8_t buf[LINK_FRAME_MAX];
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
	link_socket_dispatch(s, now_ms, buf, n,
			     status & TP_STATUS_CSUMNOTREADY ?
				     LINK_FRAME_CSUM_PARTIAL : 0);
	return 1;
}

int link_socket_read(struct link_socket *s, uint64_t now_ms)
{
	int n, r;

	for (n = 0; n < READ_BATCH; n++) {
		r = read_one(s, now_ms);
		if (r <= 0)
			return r < 0 ? r : n;
	}
	return n;
}

static int membership(struct link_socket *s, const uint8_t mac[6], int op,
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

int link_socket_add_mac(struct link_socket *s, const uint8_t mac[6])
{
	return membership(s, mac, PACKET_ADD_MEMBERSHIP,
			  "PACKET_ADD_MEMBERSHIP (unicast MAC)");
}

int link_socket_del_mac(struct link_socket *s, const uint8_t mac[6])
{
	return membership(s, mac, PACKET_DROP_MEMBERSHIP,
			  "PACKET_DROP_MEMBERSHIP (unicast MAC)");
}

static int send_frame(struct link_socket *s, const void *frame, size_t len)
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

int link_socket_send_udp(struct link_socket *s, const uint8_t src_mac[6],
			 const uint8_t *dst_mac, uint32_t src_ip,
			 uint32_t dst_ip, const void *payload, size_t len)
{
	uint8_t frame[LINK_FRAME_MAX];
	int n;

	n = link_frame_build_udp(frame, sizeof(frame), src_mac, dst_mac,
				 src_ip, dst_ip, payload, len);
	if (n < 0) {
		s->stats.tx_errors++;
		return n;
	}
	return send_frame(s, frame, n);
}

int link_socket_send_arp(struct link_socket *s, const uint8_t mac[6],
			 uint32_t spa, uint32_t tpa)
{
	uint8_t frame[LINK_ARP_FRAME_LEN];

	link_frame_build_arp(frame, sizeof(frame), mac, spa, tpa);
	return send_frame(s, frame, sizeof(frame));
}

int link_socket_send_dad_ns(struct link_socket *s, const uint8_t mac[6],
			    const uint8_t target[16])
{
	uint8_t frame[LINK_DAD_NS_LEN];

	link_frame_build_dad_ns(frame, sizeof(frame), mac, target);
	return send_frame(s, frame, sizeof(frame));
}

int link_socket_send_rs(struct link_socket *s, const uint8_t mac[6])
{
	uint8_t frame[LINK_RS_LEN];

	link_frame_build_rs(frame, sizeof(frame), mac);
	return send_frame(s, frame, sizeof(frame));
}

void link_socket_set_nd_rx(struct link_socket *s, link_nd_rx nd, void *ctx)
{
	s->nd = nd;
	s->nd_ctx = ctx;
}

void link_socket_set_rx(struct link_socket *s, const struct link_rx *rx,
			void *ctx)
{
	s->rx = rx;
	s->ctx = ctx;
}

void link_socket_announce(struct link_socket *s, const uint8_t mac[6],
			  uint32_t ip)
{
	link_socket_send_arp(s, mac, ip, ip);
	/*
	 * A router does not learn a neighbour from an announcement (Linux:
	 * arp_accept=0), but it does from a request addressed to it: asking
	 * for the gateway, as any host does before its first packet, spares
	 * the identity's first flow an ARP round trip on its first reply.
	 */
	if (s->gateway && s->gateway != ip)
		link_socket_send_arp(s, mac, ip, s->gateway);
}
