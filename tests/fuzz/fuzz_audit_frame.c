// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: psvctl audit's classifier of the frames the host
 * sends (any application's, so any bytes).  The host's identity is fixed;
 * seeds in corpus/fuzz_audit_frame are the unit test's frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "psvctl/audit_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct audit_host host = { .mac = { 2, 0, 0, 0, 0, 0x0a },
					  .n_ip4 = 1, .n_ip6 = 1 };
	struct audit_frame f;

	host.ip4[0].s_addr = htonl(0xc000020a);	/* 192.0.2.10 */
	inet_pton(AF_INET6, "2001:db8:1::10", &host.ip6[0]);
	audit_classify(&host, data, size, &f);
	if (strlen(f.name) >= AUDIT_NAME_MAX)
		abort();
	return 0;
}
