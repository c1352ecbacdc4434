// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* arp.c - see arp.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include "arp.h"
#include "log.h"

/* The whole frame: a SOCK_DGRAM socket would put the host's own MAC in
 * the Ethernet source and link the identity to the host. */
struct arp_frame {
	struct ethhdr eth;
	struct arphdr hdr;
	uint8_t sha[6];
	uint8_t spa[4];
	uint8_t tha[6];
	uint8_t tpa[4];
} __attribute__((packed));

int arp_socket_open(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = ifindex,
	};
	int fd, err;

	/* Protocol 0: send only, nothing is queued for reading. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_err("socket(AF_PACKET) for ARP: %s", strerror(-err));
		return err;
	}
	sll.sll_protocol = 0;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		log_err("bind ARP socket to ifindex %d: %s", ifindex, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int arp_send_request(int fd, int ifindex, const uint8_t mac[6], uint32_t spa,
		     uint32_t tpa)
{
	struct arp_frame f = {
		.eth.h_proto = htons(ETH_P_ARP),
		.hdr = {
			.ar_hrd = htons(ARPHRD_ETHER),
			.ar_pro = htons(ETH_P_IP),
			.ar_hln = 6,
			.ar_pln = 4,
			.ar_op = htons(ARPOP_REQUEST),
		},
	};
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = 6,
	};

	memset(f.eth.h_dest, 0xff, 6);
	memcpy(f.eth.h_source, mac, 6);
	memcpy(f.sha, mac, 6);
	memcpy(f.spa, &spa, 4);
	memcpy(f.tpa, &tpa, 4);
	memset(to.sll_addr, 0xff, 6);
	if (sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		int err = -errno;

		log_err("send ARP from ifindex %d: %s", ifindex, strerror(-err));
		return err;
	}
	return 0;
}
