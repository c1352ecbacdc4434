/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dhcp_msg.h - DHCPv4 messages (RFC 2131, RFC 2132): the client's
 * messages built under the RFC 7844 anonymity profile, and the server's
 * replies parsed with every length checked before it is read.
 *
 * Addresses are uint32_t in network byte order, as on the wire; times are
 * seconds in host order.  Nothing here allocates or keeps state.
 *
 * Anonymity profile (RFC 7844), the same for every identity:
 *  - chaddr and client identifier (61: type 1 + MAC) are the identity's own
 *    MAC; no hostname (12), FQDN (81), vendor class (60), PXE options or
 *    maximum message size (57);
 *  - options in ascending code order (RFC 7844 3.1 allows this instead of
 *    a random order): 50, 53, 54, 55, 61, END;
 *  - the parameter request list is DHCP_MSG_PRL: subnet mask (1), router
 *    (3), DNS (6) and domain name (15), which nearly every client asks for,
 *    so asking for them says nothing, plus the lease times the client acts
 *    on (51, 58, 59).  Nothing else is requested.
 */
#ifndef PSV_DHCP_MSG_H
#define PSV_DHCP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BOOTP fixed header (RFC 2131 2, figure 1), then the magic cookie. */
#define DHCP_MSG_OFF_OP 0
#define DHCP_MSG_OFF_HTYPE 1
#define DHCP_MSG_OFF_HLEN 2
#define DHCP_MSG_OFF_XID 4
#define DHCP_MSG_OFF_SECS 8
#define DHCP_MSG_OFF_FLAGS 10
#define DHCP_MSG_OFF_CIADDR 12
#define DHCP_MSG_OFF_YIADDR 16
#define DHCP_MSG_OFF_SIADDR 20
#define DHCP_MSG_OFF_GIADDR 24
#define DHCP_MSG_OFF_CHADDR 28
#define DHCP_MSG_OFF_SNAME 44
#define DHCP_MSG_OFF_FILE 108
#define DHCP_MSG_OFF_COOKIE 236
#define DHCP_MSG_OFF_OPTIONS 240
#define DHCP_MSG_SNAME_LEN 64
#define DHCP_MSG_FILE_LEN 128
#define DHCP_MSG_MAGIC 0x63825363u

/* Built messages are padded to the BOOTP minimum (RFC 951: 64-byte vend). */
#define DHCP_MSG_MIN_LEN 300
/* Largest reply accepted: a 1500-byte MTU less IPv4 and UDP headers. */
#define DHCP_MSG_MAX_LEN 1472
/* Room a caller's buffer needs for any message dhcp_msg_build() makes. */
#define DHCP_MSG_BUILD_MAX 320

#define DHCP_BOOTREQUEST 1
#define DHCP_BOOTREPLY 2
#define DHCP_HTYPE_ETHER 1
#define DHCP_FLAG_BROADCAST 0x8000

/* Message types (option 53, RFC 2132 9.6). */
enum dhcp_msg_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* Option codes this module writes or reads (RFC 2132). */
enum dhcp_opt {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PRL = 55,
	DHCP_OPT_T1 = 58,
	DHCP_OPT_T2 = 59,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_END = 255,
};

/* The parameter request list, identical for every identity. */
#define DHCP_MSG_PRL                                                    \
	{ DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS,          \
	  DHCP_OPT_DOMAIN, DHCP_OPT_LEASE_TIME, DHCP_OPT_T1, DHCP_OPT_T2 }

/*
 * What a client message carries besides the MAC.  Which fields a message
 * type may use is RFC 2131 table 5; dhcp_client.c decides, this module
 * only writes: option 55 goes into DISCOVER and REQUEST only, 50 and 54
 * only when non-zero.
 */
struct dhcp_msg_out {
	uint8_t type;		/* enum dhcp_msg_type */
	bool broadcast;		/* flags: ask for broadcast replies */
	uint16_t secs;		/* seconds since the exchange began */
	uint32_t xid;		/* host order, written big-endian */
	uint32_t ciaddr;
	uint32_t requested_ip;	/* option 50 when non-zero */
	uint32_t server_id;	/* option 54 when non-zero */
};

/*
 * Writes the message for mac into buf (size >= DHCP_MSG_BUILD_MAX).
 * Returns its length, or -ENOSPC if buf is too small.
 */
int dhcp_msg_build(void *buf, size_t size, const uint8_t mac[6],
		   const struct dhcp_msg_out *out);

/* Which optional fields of struct dhcp_msg the reply carried. */
#define DHCP_HAVE_SERVER_ID 0x01
#define DHCP_HAVE_LEASE 0x02
#define DHCP_HAVE_T1 0x04
#define DHCP_HAVE_T2 0x08
#define DHCP_HAVE_SUBNET 0x10
#define DHCP_HAVE_ROUTER 0x20

/* A parsed server reply. */
struct dhcp_msg {
	uint8_t type;		/* enum dhcp_msg_type, always present */
	uint8_t chaddr[6];
	uint16_t flags;
	uint32_t xid;		/* host order */
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint32_t server_id;
	uint32_t lease_s, t1_s, t2_s;
	uint32_t subnet_mask;
	uint32_t router;	/* the first router listed */
	uint32_t have;		/* DHCP_HAVE_* */
};

/*
 * Parses a server reply (the UDP payload).  Returns 0, or:
 *  -EMSGSIZE  longer than DHCP_MSG_MAX_LEN;
 *  -EBADMSG   anything malformed: shorter than the fixed header and cookie,
 *             wrong cookie, op not BOOTREPLY, htype/hlen not Ethernet, an
 *             option running past its field, a length wrong for its option,
 *             an option we read given twice (RFC 3396 would concatenate
 *             them into a wrong length), option overload (52) anywhere but
 *             in the options field, or no message type (53).
 * Pad (0) is skipped.  END (255) is optional in every field: the end of a
 * field ends its options as END does (servers that omit it exist; a
 * truncated option is still malformed).  With option 52 the file field and
 * then the sname field are parsed after the options field (RFC 3396 order).
 * Options the client does not use are skipped after their length check.
 */
int dhcp_msg_parse(const void *buf, size_t len, struct dhcp_msg *msg);

const char *dhcp_msg_type_name(int type);

#endif /* PSV_DHCP_MSG_H */
