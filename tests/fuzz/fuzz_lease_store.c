// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target: the lease file parser psvd reads at start-up. */
#include <stddef.h>
#include <stdint.h>

#include "psvd/dhcp/lease_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease_file f;

	if (!lease_store_parse((const char *)data, size, &f))
		lease_store_free(&f);
	return 0;
}
