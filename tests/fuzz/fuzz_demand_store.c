// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target: the demand file parser psvd reads at start-up. */
#include <stddef.h>
#include <stdint.h>

#include "psvd/pool/demand_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double peak;

	demand_store_parse((const char *)data, size, &peak);
	return 0;
}
