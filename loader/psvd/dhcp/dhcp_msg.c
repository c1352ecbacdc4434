// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dhcp_msg.c - builds the client's DHCP messages and parses the server's
 * replies.  See dhcp_msg.h for the anonymity profile and the parser's
 * contract.
 */
#include <errno.h>
#include <string.h>

#include "psvd/dhcp/dhcp_msg.h"

static const uint8_t dhcp_prl[] = DHCP_MSG_PRL;

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Network-order addresses are copied as bytes, never byte-swapped. */
static uint8_t *put_opt(uint8_t *p, uint8_t code, const void *data,
			uint8_t len)
{
	*p++ = code;
	*p++ = len;
	memcpy(p, data, len);
	return p + len;
}

int dhcp_msg_build(void *buf, size_t size, const uint8_t mac[6],
		   const struct dhcp_msg_out *out)
{
	uint8_t *m = buf, *p;
	uint8_t client_id[7];
	size_t len;

	if (size < DHCP_MSG_BUILD_MAX)
		return -ENOSPC;
	memset(m, 0, DHCP_MSG_BUILD_MAX);
	m[DHCP_MSG_OFF_OP] = DHCP_BOOTREQUEST;
	m[DHCP_MSG_OFF_HTYPE] = DHCP_HTYPE_ETHER;
	m[DHCP_MSG_OFF_HLEN] = 6;
	put_be32(m + DHCP_MSG_OFF_XID, out->xid);
	put_be16(m + DHCP_MSG_OFF_SECS, out->secs);
	put_be16(m + DHCP_MSG_OFF_FLAGS,
		 out->broadcast ? DHCP_FLAG_BROADCAST : 0);
	memcpy(m + DHCP_MSG_OFF_CIADDR, &out->ciaddr, 4);
	memcpy(m + DHCP_MSG_OFF_CHADDR, mac, 6);
	put_be32(m + DHCP_MSG_OFF_COOKIE, DHCP_MSG_MAGIC);

	/* Ascending option codes, the same for every identity (RFC 7844 3.1). */
	p = m + DHCP_MSG_OFF_OPTIONS;
	if (out->requested_ip)
		p = put_opt(p, DHCP_OPT_REQUESTED_IP, &out->requested_ip, 4);
	p = put_opt(p, DHCP_OPT_MSG_TYPE, &out->type, 1);
	if (out->server_id)
		p = put_opt(p, DHCP_OPT_SERVER_ID, &out->server_id, 4);
	/* RFC 2131 table 5: no parameter list in DECLINE or RELEASE. */
	if (out->type == DHCP_DISCOVER || out->type == DHCP_REQUEST)
		p = put_opt(p, DHCP_OPT_PRL, dhcp_prl, sizeof(dhcp_prl));
	/* RFC 7844 3.3: the client identifier is the link-layer address. */
	client_id[0] = DHCP_HTYPE_ETHER;
	memcpy(client_id + 1, mac, 6);
	p = put_opt(p, DHCP_OPT_CLIENT_ID, client_id, sizeof(client_id));
	*p++ = DHCP_OPT_END;

	len = p - m;
	return len < DHCP_MSG_MIN_LEN ? DHCP_MSG_MIN_LEN : (int)len;
}

/* Bits of options seen, to refuse a second copy of one we read. */
#define SEEN(code) (1ull << (code))
/* The options take_opt() reads: all below 64, so one bit each. */
#define INTERPRETED                                                     \
	(SEEN(DHCP_OPT_SUBNET_MASK) | SEEN(DHCP_OPT_ROUTER) |           \
	 SEEN(DHCP_OPT_LEASE_TIME) | SEEN(DHCP_OPT_OVERLOAD) |          \
	 SEEN(DHCP_OPT_MSG_TYPE) | SEEN(DHCP_OPT_SERVER_ID) |           \
	 SEEN(DHCP_OPT_T1) | SEEN(DHCP_OPT_T2))

struct opt_state {
	struct dhcp_msg *msg;
	uint64_t seen;		/* SEEN() of the INTERPRETED codes met */
	uint8_t overload;	/* option 52's value, 0 if absent */
};

static int read_addr(const uint8_t *v, uint8_t len, uint32_t *addr)
{
	if (len != 4)
		return -EBADMSG;
	memcpy(addr, v, 4);
	return 0;
}

static int read_secs(const uint8_t *v, uint8_t len, uint32_t *secs)
{
	if (len != 4)
		return -EBADMSG;
	*secs = get_be32(v);
	return 0;
}

/* One option we interpret; in_options: found in the options field. */
static int take_opt(struct opt_state *st, uint8_t code, const uint8_t *v,
		    uint8_t len, bool in_options)
{
	struct dhcp_msg *m = st->msg;

	switch (code) {
	case DHCP_OPT_MSG_TYPE:
		if (len != 1)
			return -EBADMSG;
		m->type = v[0];
		return 0;
	case DHCP_OPT_SERVER_ID:
		m->have |= DHCP_HAVE_SERVER_ID;
		return read_addr(v, len, &m->server_id);
	case DHCP_OPT_LEASE_TIME:
		m->have |= DHCP_HAVE_LEASE;
		return read_secs(v, len, &m->lease_s);
	case DHCP_OPT_T1:
		m->have |= DHCP_HAVE_T1;
		return read_secs(v, len, &m->t1_s);
	case DHCP_OPT_T2:
		m->have |= DHCP_HAVE_T2;
		return read_secs(v, len, &m->t2_s);
	case DHCP_OPT_SUBNET_MASK:
		m->have |= DHCP_HAVE_SUBNET;
		return read_addr(v, len, &m->subnet_mask);
	case DHCP_OPT_ROUTER:
		/* A list of addresses; the first is the default router. */
		if (len < 4 || len % 4)
			return -EBADMSG;
		m->have |= DHCP_HAVE_ROUTER;
		memcpy(&m->router, v, 4);
		return 0;
	case DHCP_OPT_OVERLOAD:
		/* Only the options field may extend into file and sname: an
		 * overload inside them could only point back (a loop). */
		if (!in_options || len != 1 || v[0] < 1 || v[0] > 3)
			return -EBADMSG;
		st->overload = v[0];
		return 0;
	default:
		return 0;
	}
}

/* Walks the options in [p, e): code, length, value, until END or e. */
static int parse_field(struct opt_state *st, const uint8_t *p,
		       const uint8_t *e, bool in_options)
{
	while (p < e) {
		uint8_t code = *p++, len;
		int err;

		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return 0;
		if (p >= e)
			return -EBADMSG;	/* no length byte */
		len = *p++;
		if (len > e - p)	/* dhcpcd's p + l > e, without overflow */
			return -EBADMSG;
		if (code < 64 && (INTERPRETED & SEEN(code))) {
			if (st->seen & SEEN(code))
				return -EBADMSG;
			st->seen |= SEEN(code);
			err = take_opt(st, code, p, len, in_options);
			if (err)
				return err;
		}
		p += len;
	}
	return 0;
}

int dhcp_msg_parse(const void *buf, size_t len, struct dhcp_msg *msg)
{
	const uint8_t *m = buf;
	struct opt_state st = { .msg = msg };
	int err;

	if (len > DHCP_MSG_MAX_LEN)
		return -EMSGSIZE;
	if (len < DHCP_MSG_OFF_OPTIONS)
		return -EBADMSG;
	if (get_be32(m + DHCP_MSG_OFF_COOKIE) != DHCP_MSG_MAGIC ||
	    m[DHCP_MSG_OFF_OP] != DHCP_BOOTREPLY ||
	    m[DHCP_MSG_OFF_HTYPE] != DHCP_HTYPE_ETHER ||
	    m[DHCP_MSG_OFF_HLEN] != 6)
		return -EBADMSG;

	memset(msg, 0, sizeof(*msg));
	msg->xid = get_be32(m + DHCP_MSG_OFF_XID);
	msg->flags = (uint16_t)(m[DHCP_MSG_OFF_FLAGS] << 8 |
				m[DHCP_MSG_OFF_FLAGS + 1]);
	memcpy(&msg->ciaddr, m + DHCP_MSG_OFF_CIADDR, 4);
	memcpy(&msg->yiaddr, m + DHCP_MSG_OFF_YIADDR, 4);
	memcpy(&msg->siaddr, m + DHCP_MSG_OFF_SIADDR, 4);
	memcpy(&msg->giaddr, m + DHCP_MSG_OFF_GIADDR, 4);
	memcpy(msg->chaddr, m + DHCP_MSG_OFF_CHADDR, 6);

	err = parse_field(&st, m + DHCP_MSG_OFF_OPTIONS, m + len, true);
	/* RFC 3396 6: options, then file, then sname. */
	if (!err && (st.overload & 1))
		err = parse_field(&st, m + DHCP_MSG_OFF_FILE,
				  m + DHCP_MSG_OFF_FILE + DHCP_MSG_FILE_LEN,
				  false);
	if (!err && (st.overload & 2))
		err = parse_field(&st, m + DHCP_MSG_OFF_SNAME,
				  m + DHCP_MSG_OFF_SNAME + DHCP_MSG_SNAME_LEN,
				  false);
	if (err)
		return err;
	if (!(st.seen & SEEN(DHCP_OPT_MSG_TYPE)))
		return -EBADMSG;
	return 0;
}

const char *dhcp_msg_type_name(int type)
{
	static const char *const names[] = {
		[DHCP_DISCOVER] = "DISCOVER", [DHCP_OFFER] = "OFFER",
		[DHCP_REQUEST] = "REQUEST",   [DHCP_DECLINE] = "DECLINE",
		[DHCP_ACK] = "ACK",	      [DHCP_NAK] = "NAK",
		[DHCP_RELEASE] = "RELEASE",   [DHCP_INFORM] = "INFORM",
	};

	if (type < 1 || type >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[type];
}
