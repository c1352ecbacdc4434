// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* local_routes.c - see local_routes.h. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/rtnetlink.h>

#include "psvd/local_routes.h"
#include "common/log.h"
#include "common/nl.h"

/* Sends one route request and waits for the kernel's answer. */
static int route_request(struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl;
	int err = nl_open(&nl, NETLINK_ROUTE, 0, 0, "local routes");

	if (err)
		return err;
	err = nl_request(nl, req, cb, data);
	mnl_socket_close(nl);
	return err;
}

/* Builds RTM_NEWROUTE or RTM_DELROUTE of ip's local route into buf. */
static int build_route(char *buf, uint16_t type, uint16_t flags, uint32_t ip)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int lo = if_nametoindex("lo");
	struct rtmsg *rtm;

	if (!lo) {
		int err = -errno;

		log_err("cannot find the ifindex of lo: %s", strerror(-err));
		return err;
	}
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_table = RT_TABLE_LOCAL;
	rtm->rtm_protocol = PSV_RTPROT;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	mnl_attr_put_u32(nlh, RTA_DST, ip);
	mnl_attr_put_u32(nlh, RTA_OIF, lo);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, PSV_RTMETRIC);
	return 0;
}

int local_route_add(uint32_t ip)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], addr[INET_ADDRSTRLEN];
	int err;

	err = build_route(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ip);
	if (!err)
		err = route_request((struct nlmsghdr *)buf, NULL, NULL);
	if (err)
		log_err("cannot add the local route of %s: %s",
			inet_ntop(AF_INET, &ip, addr, sizeof(addr)),
			strerror(-err));
	return err;
}

int local_route_del(uint32_t ip)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], addr[INET_ADDRSTRLEN];
	int err;

	err = build_route(buf, RTM_DELROUTE, 0, ip);
	if (!err)
		err = route_request((struct nlmsghdr *)buf, NULL, NULL);
	/* The kernel says ESRCH for a route it does not have. */
	if (err == -ESRCH || err == -ENOENT)
		return 0;
	if (err)
		log_err("cannot delete the local route of %s: %s",
			inet_ntop(AF_INET, &ip, addr, sizeof(addr)),
			strerror(-err));
	return err;
}

static int route_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type != RTA_DST && type != RTA_TABLE)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

/* Collects the addresses of psv's local routes into a vec of uint32_t. */
static int collect_route(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	uint32_t ip;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	rtm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb) < 0)
		return MNL_CB_ERROR;
	if (rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_LOCAL ||
	    rtm->rtm_protocol != PSV_RTPROT || rtm->rtm_dst_len != 32 ||
	    !tb[RTA_DST] ||
	    nl_route_table(nlh, tb[RTA_TABLE]) != RT_TABLE_LOCAL)
		return MNL_CB_OK;
	ip = mnl_attr_get_u32(tb[RTA_DST]);
	return nl_vec_push(data, &ip) ? MNL_CB_ERROR : MNL_CB_OK;
}

int local_routes_list(void (*cb)(void *ctx, uint32_t ip), void *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_vec ips = { .size = sizeof(uint32_t) };
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = nl_dump_header(buf, RTM_GETROUTE, sizeof(*rtm),
					      (void **)&rtm);
	int err;

	rtm->rtm_family = AF_INET;
	err = route_request(nlh, collect_route, &ips);
	if (err) {
		log_err("cannot list psv's local routes: %s", strerror(-err));
	} else {
		for (size_t i = 0; i < ips.len; i++)
			cb(ctx, ((uint32_t *)ips.items)[i]);
	}
	nl_vec_free(&ips);
	return err;
}
