// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_config.c - libFuzzer target for the psv.conf parser.  Besides not
 * crashing, a parse must either succeed with a config that keeps every
 * invariant the daemon relies on, or fail with a "name:LINE: " message.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "psvd/config.h"

static void check_conf(const struct psv_conf *c)
{
	if (c->ready > c->max || c->max < 1 || c->max > PSV_MAX_IDENTITIES ||
	    c->max_flows > PSV_CONF_MAX_FLOWS || c->n_apps > PSV_CONF_MAX_APPS ||
	    c->state_dir[0] != '/')
		abort();
	if (c->source == PSV_SOURCE_STATIC &&
	    (!c->static_first || ntohl(c->static_first) > ntohl(c->static_last)))
		abort();
	for (unsigned int i = 0; i < c->n_apps; i++) {
		const struct psv_conf_app *a = &c->apps[i];

		if (!a->name[0] || a->match == PSV_MATCH_NONE ||
		    (a->match == PSV_MATCH_COMM &&
		     strlen(a->value) > PSV_CONF_COMM_MAX))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256];
	struct psv_conf c;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (psv_conf_parse_string(text, "f", &c, err, sizeof(err)) == 0)
		check_conf(&c);
	else if (strncmp(err, "f:", 2))
		abort();
	free(text);
	return 0;
}
