/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pins.h - where psv's pinned maps live (PSV_PIN_ROOT/IF/NAME, see psv.h)
 * and how tools open them.  Every function that can fail writes a message
 * naming the path into err (no program name prefix) and returns -errno.
 */
#ifndef PSV_PINS_H
#define PSV_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>

/*
 * The pin root: $PSV_PIN_ROOT when set (for tests, which pin maps on a
 * private bpffs), else PSV_PIN_ROOT from psv.h.
 */
const char *psv_pin_root(void);

/* Whether ifname can name a pin directory: 1..IF_NAMESIZE-1 bytes, no '/'. */
bool psv_pin_ifname_ok(const char *ifname);

/* buf = ROOT/ifname; -EINVAL for a bad ifname, -ENAMETOOLONG if it does
 * not fit. */
int psv_pin_dir(char *buf, size_t len, const char *ifname);
/* buf = ROOT/ifname/name. */
int psv_pin_path(char *buf, size_t len, const char *ifname, const char *name);

/* Whether path is on a bpf filesystem. */
bool psv_pin_is_bpffs(const char *path);

/*
 * Opens the map pinned as ROOT/ifname/name: an fd, or -errno with err like
 * "cannot open /sys/fs/bpf/psv/eth0/psv_conns: No such file or directory
 * - is psvd running on eth0?".
 */
int psv_pin_open_map(const char *ifname, const char *name, char *err,
		     size_t errlen);

/*
 * Checks that fd is a map of the layout this build expects (so a tool
 * never misreads the maps of another version); fills *max_entries.
 */
int psv_pin_check_map(int fd, const char *name, __u32 type, __u32 key_size,
		      __u32 value_size, __u32 *max_entries, char *err,
		      size_t errlen);

/*
 * Interfaces with a pin directory under the root, sorted: fills up to max
 * names and returns how many there are (may exceed max), or -errno.
 */
int psv_pin_list_ifaces(char (*names)[IF_NAMESIZE], int max, char *err,
			size_t errlen);

#endif
