// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* local_addrs6.c - see local_addrs6.h. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "psvd/local_addrs6.h"
#include "psvd/local_routes.h"
#include "common/log.h"
#include "common/nl.h"

/* What `ip addr` calls forever (include/net/addrconf.h). */
#define INFINITY_LIFE_TIME 0xffffffffu

/* Sends one address request and waits for the kernel's answer. */
static int addr_request(struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl;
	int err = nl_open(&nl, NETLINK_ROUTE, 0, 0, "lo addresses");

	if (err)
		return err;
	err = nl_request(nl, req, cb, data);
	mnl_socket_close(nl);
	return err;
}

static int lo_index(void)
{
	unsigned int lo = if_nametoindex("lo");

	if (!lo) {
		int err = -errno;

		log_err("cannot find the ifindex of lo: %s", strerror(-err));
		return err;
	}
	return lo;
}

/* RTM_NEWADDR or RTM_DELADDR of addr/128 on lo into buf. */
static int build_addr(char *buf, uint16_t type, uint16_t flags,
		      const uint8_t addr[16], bool preferred)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifa_cacheinfo ci = {
		.ifa_prefered = preferred ? INFINITY_LIFE_TIME : 0,
		.ifa_valid = INFINITY_LIFE_TIME,
	};
	struct ifaddrmsg *ifa;
	int lo = lo_index();

	if (lo < 0)
		return lo;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 128;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = lo;
	mnl_attr_put(nlh, IFA_LOCAL, 16, addr);
	if (type == RTM_NEWADDR) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
		/*
		 * Valid until psvd removes it; preferred as its prefix:
		 * getaddrinfo sorts a destination reached from a deprecated
		 * source after IPv4 (RFC 6724 rule 3).  Never the host's
		 * source: netdev_ipv6_own_sources().
		 */
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
		mnl_attr_put_u8(nlh, IFA_PROTO, PSV_RTPROT);
	}
	return 0;
}

static void log_failure(const char *what, const uint8_t addr[16], int err)
{
	char a[INET6_ADDRSTRLEN];

	log_err("cannot %s %s/128 on lo: %s", what,
		inet_ntop(AF_INET6, addr, a, sizeof(a)), strerror(-err));
}

int local_addr6_add(const uint8_t addr[16], bool preferred)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int err;

	err = build_addr(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, addr,
			 preferred);
	if (!err)
		err = addr_request((struct nlmsghdr *)buf, NULL, NULL);
	if (err)
		log_failure("add", addr, err);
	return err;
}

int local_addr6_del(const uint8_t addr[16])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int err;

	err = build_addr(buf, RTM_DELADDR, 0, addr, false);
	if (!err)
		err = addr_request((struct nlmsghdr *)buf, NULL, NULL);
	/* The kernel says EADDRNOTAVAIL for an address it does not have. */
	if (err == -EADDRNOTAVAIL || err == -ENOENT || err == -ESRCH)
		return 0;
	if (err)
		log_failure("delete", addr, err);
	return err;
}

struct listing {
	struct nl_vec addrs;	/* of uint8_t[16] */
	int lo;
};

static int addr_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	switch (type) {
	case IFA_ADDRESS:
	case IFA_LOCAL:
		if (mnl_attr_get_payload_len(attr) != 16)
			return MNL_CB_ERROR;
		break;
	case IFA_PROTO:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static int collect_addr(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 }, *a;
	const struct ifaddrmsg *ifa;
	struct listing *l = data;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	ifa = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (ifa->ifa_family != AF_INET6 || (int)ifa->ifa_index != l->lo ||
	    ifa->ifa_prefixlen != 128 || !a || !tb[IFA_PROTO] ||
	    mnl_attr_get_u8(tb[IFA_PROTO]) != PSV_RTPROT)
		return MNL_CB_OK;
	return nl_vec_push(&l->addrs, mnl_attr_get_payload(a)) ?
	       MNL_CB_ERROR : MNL_CB_OK;
}

int local_addrs6_list(void (*cb)(void *ctx, const uint8_t addr[16]),
		      void *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct listing l = { .addrs.size = 16 };
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh = nl_dump_header(buf, RTM_GETADDR, sizeof(*ifa),
					      (void **)&ifa);
	int err;

	l.lo = lo_index();
	if (l.lo < 0)
		return l.lo;
	ifa->ifa_family = AF_INET6;
	err = addr_request(nlh, collect_addr, &l);
	if (err) {
		log_err("cannot list psv's IPv6 addresses on lo: %s",
			strerror(-err));
	} else {
		for (size_t i = 0; i < l.addrs.len; i++)
			cb(ctx, (const uint8_t *)l.addrs.items + 16 * i);
	}
	nl_vec_free(&l.addrs);
	return err;
}
