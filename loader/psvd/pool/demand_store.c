// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* demand_store.c - see demand_store.h. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "psvd/pool/demand_store.h"
#include "common/log.h"
#include "common/state_file.h"

#define DEMAND_FILE_MAX 4096

static void name_of(char *buf, size_t len, const char *ifname)
{
	snprintf(buf, len, "%s.demand.json", ifname);
}

int demand_store_save(const char *dir, const char *ifname, double peak)
{
	struct json_object *root = json_object_new_object();
	char name[NAME_MAX + 1];
	const char *text;
	int err;

	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "peak", json_object_new_double(peak));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	name_of(name, sizeof(name), ifname);
	err = state_file_write(dir, name, text, strlen(text));
	json_object_put(root);
	return err;
}

int demand_store_parse(const char *text, size_t len, double *peak)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *v, *p;
	int err = -EINVAL;

	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, len);
	json_tokener_free(tok);
	if (root && json_object_is_type(root, json_type_object) &&
	    json_object_object_get_ex(root, "version", &v) &&
	    json_object_is_type(v, json_type_int) && json_object_get_int(v) == 1 &&
	    json_object_object_get_ex(root, "peak", &p) &&
	    (json_object_is_type(p, json_type_double) ||
	     json_object_is_type(p, json_type_int))) {
		*peak = json_object_get_double(p);
		if (isfinite(*peak) && *peak >= 0 && *peak <= DEMAND_STORE_PEAK_MAX)
			err = 0;
	}
	json_object_put(root);
	return err;
}

int demand_store_load(const char *dir, const char *ifname, double *peak)
{
	char name[NAME_MAX + 1], *text;
	size_t len;
	int err;

	*peak = 0.0;
	name_of(name, sizeof(name), ifname);
	err = state_file_read(dir, name, DEMAND_FILE_MAX, &text, &len);
	if (err || !text)
		return err;
	err = demand_store_parse(text, len, peak);
	free(text);
	if (err) {
		*peak = 0.0;
		log_err("%s/%s: not a psv demand file; the ready target starts "
			"at the floor", dir, name);
	}
	return err;
}
