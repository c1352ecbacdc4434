/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * one_client_rx.h - the receive side of a link socket in a test with one
 * DHCP client, as psvd's DHCP source is with many: DHCP replies for the
 * client's MAC and ARP about its address go to it.  The socket's ctx is
 * a struct one_client; with any set, every frame goes to the client
 * whatever it names (a fuzzer wants the client to see all).
 */
#ifndef PSV_TEST_ONE_CLIENT_RX_H
#define PSV_TEST_ONE_CLIENT_RX_H

#include <stdbool.h>

#include "psvd/dhcp/dhcp_client.h"
#include "psvd/link/link_socket.h"

struct one_client {
	struct dhcp_client *c;
	bool any;
};

extern const struct link_rx one_client_rx;

#endif /* PSV_TEST_ONE_CLIENT_RX_H */
