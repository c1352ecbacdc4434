// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pins.c - see pins.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "common/array.h"
#include "common/pins.h"
#include "psv.h"

const char *psv_pin_root(void)
{
	const char *root = getenv("PSV_PIN_ROOT");

	return root && root[0] ? root : PSV_PIN_ROOT;
}

bool psv_pin_ifname_ok(const char *ifname)
{
	size_t len = strlen(ifname);

	return len && len < IF_NAMESIZE && !strchr(ifname, '/') &&
	       strcmp(ifname, ".") && strcmp(ifname, "..");
}

int psv_pin_dir(char *buf, size_t len, const char *ifname)
{
	if (!psv_pin_ifname_ok(ifname))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", psv_pin_root(), ifname) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int psv_pin_path(char *buf, size_t len, const char *ifname, const char *name)
{
	int err = psv_pin_dir(buf, len, ifname);
	size_t n = strlen(buf);

	if (err)
		return err;
	if ((size_t)snprintf(buf + n, len - n, "/%s", name) >= len - n)
		return -ENAMETOOLONG;
	return 0;
}

bool psv_pin_is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* Why a pin may be missing, as the end of an error message. */
static void pin_hint(int err, const char *ifname, char *buf, size_t len)
{
	const char *root = psv_pin_root(), *slash = strrchr(root, '/');
	char parent[PATH_MAX];

	buf[0] = '\0';
	if (err == -EACCES || err == -EPERM) {
		snprintf(buf, len, " - reading psv's maps needs root "
			 "(CAP_BPF)");
		return;
	}
	if (err != -ENOENT)
		return;
	snprintf(parent, sizeof(parent), "%.*s",
		 slash && slash != root ? (int)(slash - root) : 1, root);
	if (!psv_pin_is_bpffs(root) && !psv_pin_is_bpffs(parent))
		snprintf(buf, len, " - no bpffs is mounted on %s; is psvd "
			 "running on %s?", parent, ifname);
	else
		snprintf(buf, len, " - is psvd running on %s?", ifname);
}

int psv_pin_open_map(const char *ifname, const char *name, char *err,
		     size_t errlen)
{
	char path[PATH_MAX], hint[PATH_MAX + 64];
	int fd, ret;

	ret = psv_pin_path(path, sizeof(path), ifname, name);
	if (ret) {
		snprintf(err, errlen, "bad interface name '%s'", ifname);
		return ret;
	}
	fd = bpf_obj_get(path);
	if (fd < 0) {
		ret = -errno;
		pin_hint(ret, ifname, hint, sizeof(hint));
		snprintf(err, errlen, "cannot open %s: %s%s", path,
			 strerror(-ret), hint);
		return ret;
	}
	return fd;
}

int psv_pin_check_map(int fd, const char *name, __u32 type, __u32 key_size,
		      __u32 value_size, __u32 *max_entries, char *err,
		      size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int ret;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ret = -errno;
		snprintf(err, errlen, "cannot get info of map %s: %s", name,
			 strerror(-ret));
		return ret;
	}
	if (info.type != type || info.key_size != key_size ||
	    info.value_size != value_size) {
		snprintf(err, errlen, "map %s has type %u, key %u and value %u "
			 "bytes where this build expects %u, %u and %u - are "
			 "psvd and this tool from different versions?", name,
			 info.type, info.key_size, info.value_size, type,
			 key_size, value_size);
		return -EPROTO;
	}
	*max_entries = info.max_entries;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int psv_pin_list_ifaces(char (*names)[IF_NAMESIZE], int max, char *err,
			size_t errlen)
{
	const char *root = psv_pin_root();
	struct dirent *de;
	struct stat st;
	int n = 0, ret;
	DIR *dir;

	dir = opendir(root);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "cannot list %s: %s", root,
			 strerror(-ret));
		return ret;
	}
	while ((de = readdir(dir))) {
		if (!psv_pin_ifname_ok(de->d_name) ||
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (n < max)
			strcpy(names[n], de->d_name);
		n++;
	}
	closedir(dir);
	array_sort(names, n < max ? n : max, IF_NAMESIZE, cmp_names);
	return n;
}
