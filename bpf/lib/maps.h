/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - every map of psv, declared once and included by both BPF
 * objects.  LIBBPF_PIN_BY_NAME makes the egress and the ingress object
 * share one instance of each map through the pin directory psvd passes
 * as bpf_object_open_opts.pin_root_path.  Types and sizes: include/psv.h.
 */
#ifndef PSV_BPF_MAPS_H
#define PSV_BPF_MAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct psv_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PSV_MAX_IDENTITIES);
	__type(key, __be32);
	__type(value, struct psv_identity);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_identities SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, PSV_MAX_IDENTITIES);
	__type(value, __be32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_ready SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PSV_MAX_GROUPS);
	__type(key, struct psv_group_key);
	__type(value, struct psv_group);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_groups SEC(".maps");

/* A hint for on_exhausted = link (psv.h): LRU, an eviction leaks nothing. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PSV_MAX_LINKS);
	__type(key, struct psv_group_key);
	__type(value, __be32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_links SEC(".maps");

/*
 * Deliberately not LRU: an evicted entry would send the rest of a
 * virtualized flow on the host's real identity, a leak.  psvd expires
 * entries; when the table is full new flows are dropped.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PSV_MAX_CONNS);
	__type(key, struct psv_conn_key);
	__type(value, struct psv_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_conns SEC(".maps");

/* Value: last seen, flow_now(). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PSV_MAX_HOST_CONNS);
	__type(key, struct psv_conn_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_host_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PSV_MAX_FRAGS);
	__type(key, struct psv_frag_key);
	__type(value, struct psv_frag);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PSV_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PSV_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PSV_MAX_APP_RULES);
	__type(key, __u32);
	__type(value, struct psv_app_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_app_rules SEC(".maps");

/* Entries outlive their sockets: their ids name the app's groups. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PSV_MAX_APPS);
	__type(key, struct psv_app_key);
	__type(value, struct psv_app);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_apps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_app_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct psv_sock);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_sockets SEC(".maps");

/* Mirrored by psvd from the main table (psv.h); value PSV_ROUTE_*. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PSV_MAX_ROUTES);
	__type(key, struct psv_route_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PSV_MAX_ROUTES6);
	__type(key, struct psv_route6_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_routes6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PSV_MAX_ADDRS6);
	__type(key, struct psv_addr6);
	__type(value, struct psv_addr6_owner);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_addrs6 SEC(".maps");

/* Not LRU, as psv_conns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PSV_MAX_CONNS);
	__type(key, struct psv_conn6_key);
	__type(value, struct psv_conn6);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} psv_conns6 SEC(".maps");

/* psvd's configuration, or NULL while psv is attached but disabled. */
static __always_inline struct psv_config *config_get(void)
{
	struct psv_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&psv_config, &zero);
	return cfg && cfg->enabled ? cfg : NULL;
}

#endif /* PSV_BPF_MAPS_H */
