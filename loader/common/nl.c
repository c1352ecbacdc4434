// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* nl.c - see nl.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "common/log.h"
#include "common/nl.h"

int nl_open(struct mnl_socket **nl, int bus, int flags, unsigned int groups,
	    const char *what)
{
	int err;

	*nl = mnl_socket_open2(bus, SOCK_CLOEXEC | flags);
	if (!*nl) {
		err = -errno;
		log_err("cannot open a netlink socket for %s: %s", what,
			strerror(-err));
		return err;
	}
	if (mnl_socket_bind(*nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		log_err("cannot bind the netlink socket for %s: %s", what,
			strerror(-err));
		mnl_socket_close(*nl);
		*nl = NULL;
		return err;
	}
	return 0;
}

struct nlmsghdr *nl_dump_header(char *buf, uint16_t type, size_t hdr_len,
				void **hdr)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	*hdr = mnl_nlmsg_put_extra_header(nlh, hdr_len);
	return nlh;
}

int nl_request(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb,
	       void *data)
{
	static unsigned int seq;
	unsigned int portid = mnl_socket_get_portid(nl);
	char buf[NL_BUF_SIZE];
	ssize_t n;
	int ret;

	/*
	 * The rest of a dump cut short by an error would be read as answers
	 * to this request: drop it.  Sequence numbers differ from a
	 * previous run's, for the same reason.
	 */
	while (recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	if (!seq)
		seq = time(NULL);
	req->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		errno = 0;
		ret = mnl_cb_run(buf, n, req->nlmsg_seq, portid, cb, data);
	} while (ret > MNL_CB_STOP);
	if (ret < 0)
		return errno ? -errno : -EPROTO;
	return 0;
}

unsigned int nl_route_table(const struct nlmsghdr *nlh,
			    const struct nlattr *rta_table)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	return rta_table ? mnl_attr_get_u32(rta_table) : rtm->rtm_table;
}

int nl_vec_push(struct nl_vec *v, const void *item)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		void *items = reallocarray(v->items, cap, v->size);

		if (!items) {
			errno = ENOMEM;
			return -ENOMEM;
		}
		v->items = items;
		v->cap = cap;
	}
	memcpy((char *)v->items + v->len * v->size, item, v->size);
	v->len++;
	return 0;
}

void nl_vec_free(struct nl_vec *v)
{
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}
