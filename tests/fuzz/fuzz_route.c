// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target: the /proc/net/route parser psvd uses for the gateway. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "psvd/netdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	netdev_parse_gateway(text, "eth0");
	free(text);
	return 0;
}
