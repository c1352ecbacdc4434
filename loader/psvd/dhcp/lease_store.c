// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lease_store.c - see lease_store.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "psvd/dhcp/lease_store.h"
#include "common/log.h"
#include "common/state_file.h"

#define LEASE_FILE_MAX (4 << 20)	/* 4096 identities fit many times */

/* The file's name in the state directory: IF.json. */
static void name_of(char *buf, size_t len, const char *ifname)
{
	snprintf(buf, len, "%s.json", ifname);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void mac_str(char buf[18], const uint8_t m[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

static struct json_object *record_json(const struct lease_record *r)
{
	struct json_object *o = json_object_new_object();
	char buf[INET_ADDRSTRLEN > 18 ? INET_ADDRSTRLEN : 18];

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "pending", json_object_new_boolean(r->pending));
	mac_str(buf, r->mac);
	add_str(o, "mac", buf);
	mac_str(buf, r->server_mac);
	add_str(o, "server_mac", buf);
	add_str(o, "ipv4", inet_ntop(AF_INET, &r->ip, buf, sizeof(buf)));
	add_str(o, "server", inet_ntop(AF_INET, &r->server, buf, sizeof(buf)));
	json_object_object_add(o, "leased_at", json_object_new_int64(r->leased_at));
	json_object_object_add(o, "lease_s", json_object_new_int64(r->lease_s));
	json_object_object_add(o, "t1_s", json_object_new_int64(r->t1_s));
	json_object_object_add(o, "t2_s", json_object_new_int64(r->t2_s));
	return o;
}

int lease_store_save(const char *dir, const char *ifname,
		     const struct lease_file *f)
{
	struct json_object *root = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char name[NAME_MAX + 1];
	const char *text;
	int err;

	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "next_id", json_object_new_int64(f->next_id));
	for (size_t i = 0; i < f->count; i++)
		json_object_array_add(arr, record_json(&f->leases[i]));
	json_object_object_add(root, "leases", arr);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	name_of(name, sizeof(name), ifname);
	err = state_file_write(dir, name, text, strlen(text));
	json_object_put(root);
	return err;
}

static int get_u32(struct json_object *o, const char *k, uint32_t *v)
{
	struct json_object *x;
	int64_t n;

	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_int))
		return -1;
	n = json_object_get_int64(x);
	if (n < 0 || n > UINT32_MAX)
		return -1;
	*v = n;
	return 0;
}

static int get_mac(struct json_object *o, const char *k, uint8_t m[6])
{
	struct json_object *x;
	unsigned int b[6];
	char end;

	if (!json_object_object_get_ex(o, k, &x) ||
	    !json_object_is_type(x, json_type_string) ||
	    sscanf(json_object_get_string(x), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0],
		   &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m[i] = b[i];
	return 0;
}

static int get_ip(struct json_object *o, const char *k, uint32_t *ip)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, k, &x) ||
	    !json_object_is_type(x, json_type_string) ||
	    inet_pton(AF_INET, json_object_get_string(x), ip) != 1)
		return -1;
	return 0;
}

static int parse_record(struct json_object *o, struct lease_record *r)
{
	struct json_object *x;

	if (!json_object_is_type(o, json_type_object) ||
	    get_u32(o, "id", &r->id) || get_mac(o, "mac", r->mac) ||
	    get_mac(o, "server_mac", r->server_mac) ||
	    get_ip(o, "ipv4", &r->ip) || get_ip(o, "server", &r->server) ||
	    get_u32(o, "lease_s", &r->lease_s) || get_u32(o, "t1_s", &r->t1_s) ||
	    get_u32(o, "t2_s", &r->t2_s) ||
	    !json_object_object_get_ex(o, "leased_at", &x) ||
	    !json_object_is_type(x, json_type_int))
		return -1;
	r->leased_at = json_object_get_int64(x);
	/* Optional: files written before it existed have none pending. */
	if (json_object_object_get_ex(o, "pending", &x)) {
		if (!json_object_is_type(x, json_type_boolean))
			return -1;
		r->pending = json_object_get_boolean(x);
	}
	return 0;
}

int lease_store_parse(const char *text, size_t len, struct lease_file *f)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *arr;
	int err = -EBADMSG;
	size_t n;

	memset(f, 0, sizeof(f[0]));
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, len);
	json_tokener_free(tok);
	if (!root || !json_object_is_type(root, json_type_object) ||
	    get_u32(root, "next_id", &f->next_id) ||
	    !json_object_object_get_ex(root, "leases", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		goto out;
	n = json_object_array_length(arr);
	f->leases = calloc(n ? n : 1, sizeof(*f->leases));
	if (!f->leases) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (parse_record(json_object_array_get_idx(arr, i), &f->leases[i])) {
			lease_store_free(f);
			goto out;
		}
	}
	f->count = n;
	err = 0;
out:
	json_object_put(root);
	return err;
}

int lease_store_load(const char *dir, const char *ifname, struct lease_file *f)
{
	char name[NAME_MAX + 1], *text;
	size_t len;
	int err;

	memset(f, 0, sizeof(*f));
	name_of(name, sizeof(name), ifname);
	err = state_file_read(dir, name, LEASE_FILE_MAX, &text, &len);
	if (err || !text)
		return err;
	err = lease_store_parse(text, len, f);
	free(text);
	if (err)
		log_err("%s/%s: not a psv lease file (%s); move it away to start "
			"fresh", dir, name, strerror(-err));
	return err;
}

void lease_store_free(struct lease_file *f)
{
	free(f->leases);
	f->leases = NULL;
	f->count = 0;
}
