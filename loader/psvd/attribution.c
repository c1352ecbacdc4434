// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* attribution.c - see attribution.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "psvd/attribution.h"
#include "common/log.h"
#include "common/mkdir_p.h"
#include "attribution.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define PSV_CGROUP2_MOUNT "/run/psv/cgroup2"

static const char *const cgroup2_places[] = {
	"/sys/fs/cgroup", "/sys/fs/cgroup/unified", PSV_CGROUP2_MOUNT,
};

static const char *const link_pins[ATTRIBUTION_HOOKS] = {
	"link_sock_create", "link_connect4", "link_sendmsg4",
	"link_connect6", "link_sendmsg6", "link_sock_release",
};

static bool is_cgroup2(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		log_err("cannot open %s: %s", path, strerror(errno));
	return fd < 0 ? -errno : fd;
}

int attribution_cgroup_open(void)
{
	int fd, err;

	for (size_t i = 0; i < sizeof(cgroup2_places) / sizeof(cgroup2_places[0]); i++)
		if (is_cgroup2(cgroup2_places[i]))
			return open_dir(cgroup2_places[i]);
	err = mkdir_p(PSV_CGROUP2_MOUNT);
	if (err) {
		log_err("cannot create %s: %s", PSV_CGROUP2_MOUNT, strerror(-err));
		return err;
	}
	if (mount("cgroup2", PSV_CGROUP2_MOUNT, "cgroup2", 0, NULL)) {
		err = -errno;
		log_err("cannot mount cgroup2 on %s: %s", PSV_CGROUP2_MOUNT,
			strerror(-err));
		return err;
	}
	fd = open_dir(PSV_CGROUP2_MOUNT);
	/* The fd keeps the tree reachable: leave no mount behind. */
	if (umount2(PSV_CGROUP2_MOUNT, MNT_DETACH))
		log_warn("cannot unmount %s: %s", PSV_CGROUP2_MOUNT, strerror(errno));
	return fd;
}

int attribution_netns_cookie(__u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len)) {
		err = -errno;
		log_err("cannot read the network namespace cookie: %s",
			strerror(-err));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * The hooks share maps.h with the dataplane, whose object sized some of
 * the maps: take every size from the pin, or libbpf refuses to reuse it.
 */
static void adopt_sizes(struct bpf_object *obj, const char *pin_dir)
{
	struct bpf_map_info info;
	char path[PATH_MAX];
	struct bpf_map *map;
	__u32 len;
	int fd;

	bpf_object__for_each_map(map, obj) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type != BPF_MAP_TYPE_RINGBUF)
			bpf_map__set_max_entries(map, info.max_entries);
		close(fd);
	}
}

int attribution_load(struct attribution *at, const char *pin_dir)
{
	int err;

	memset(at, 0, sizeof(*at));
	snprintf(at->pin_dir, sizeof(at->pin_dir), "%s", pin_dir);

	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = at->pin_dir);

	at->skel = attribution_bpf__open_opts(&oo);
	if (!at->skel) {
		err = -errno;
		log_err("cannot open attribution BPF object: %s", strerror(-err));
		return err;
	}
	adopt_sizes(at->skel->obj, at->pin_dir);
	err = attribution_bpf__load(at->skel);
	if (err) {
		log_err("cannot load attribution BPF object (pins in %s): %s",
			at->pin_dir, strerror(-err));
		return err;
	}
	at->rules_fd = bpf_map__fd(at->skel->maps.psv_app_rules);
	at->apps_fd = bpf_map__fd(at->skel->maps.psv_apps);
	return 0;
}

/* Takes over the link a previous psvd pinned, or makes and pins one. */
static struct bpf_link *hook_link(struct attribution *at,
				  struct bpf_program *prog, int cgroup_fd,
				  const char *pin)
{
	struct bpf_link *link;
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%s", at->pin_dir, pin);
	/* A link pinned by a psvd before (a crash, --keep-attached). */
	link = access(path, F_OK) ? NULL : bpf_link__open(path);
	if (link) {
		err = bpf_link__update_program(link, prog);
		if (!err)
			return link;
		log_warn("cannot switch link %s to the new program (%s): "
			 "replacing it", path, strerror(-err));
		bpf_link__unpin(link);
		bpf_link__destroy(link);
	}
	link = bpf_program__attach_cgroup(prog, cgroup_fd);
	if (!link) {
		log_err("cannot attach %s to the cgroup: %s",
			bpf_program__name(prog), strerror(errno));
		return NULL;
	}
	err = bpf_link__pin(link, path);
	if (err) {
		log_err("cannot pin link of %s at %s: %s",
			bpf_program__name(prog), path, strerror(-err));
		bpf_link__destroy(link);
		return NULL;
	}
	return link;
}

int attribution_attach(struct attribution *at, int cgroup_fd)
{
	struct bpf_program *progs[ATTRIBUTION_HOOKS] = {
		at->skel->progs.psv_sock_create, at->skel->progs.psv_connect4,
		at->skel->progs.psv_sendmsg4, at->skel->progs.psv_connect6,
		at->skel->progs.psv_sendmsg6, at->skel->progs.psv_sock_release,
	};

	for (int i = 0; i < ATTRIBUTION_HOOKS; i++) {
		at->links[i] = hook_link(at, progs[i], cgroup_fd, link_pins[i]);
		if (!at->links[i])
			return -EIO;
	}
	return 0;
}

/* Closes our link fds: a link still pinned stays attached. */
static void close_links(struct attribution *at)
{
	for (int i = 0; i < ATTRIBUTION_HOOKS; i++) {
		bpf_link__destroy(at->links[i]);
		at->links[i] = NULL;
	}
}

void attribution_detach(struct attribution *at)
{
	char path[PATH_MAX];

	/* Also the pins of a psvd that crashed before we took over. */
	for (int i = 0; i < ATTRIBUTION_HOOKS; i++) {
		snprintf(path, sizeof(path), "%s/%s", at->pin_dir, link_pins[i]);
		if (unlink(path) && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	close_links(at);
}

void attribution_close(struct attribution *at)
{
	close_links(at);
	attribution_bpf__destroy(at->skel);
	at->skel = NULL;
}

/* A cgroup's depth below the root: "/" is 0, "/a/b" is 2. */
static __u16 cgroup_level(const char *path)
{
	__u16 level = 0;

	for (const char *p = path; *p; p++)
		if (*p != '/' && (p == path || p[-1] == '/'))
			level++;
	return level;
}

void attribution_rule(const struct psv_conf_app *app, int cgroup_fd,
		      struct psv_app_rule *rule)
{
	int dirfd = AT_FDCWD;
	const char *path;
	struct stat st;

	memset(rule, 0, sizeof(*rule));
	rule->match = app->match;
	rule->granularity = app->granularity;
	snprintf(rule->name, sizeof(rule->name), "%s", app->name);
	switch (app->match) {
	case PSV_MATCH_COMM:
		/* config.c caps comm= at 15 bytes; the rest stays NUL. */
		memcpy(rule->comm, app->value,
		       strnlen(app->value, sizeof(rule->comm) - 1));
		return;
	case PSV_MATCH_UID:
		rule->uid = app->uid;
		return;
	case PSV_MATCH_EXE:
		path = app->value;
		break;
	case PSV_MATCH_CGROUP:
		rule->cgroup_level = cgroup_level(app->value);
		if (cgroup_fd < 0)
			return;
		/* config.c: an absolute path from the tree's root. */
		dirfd = cgroup_fd;
		path = app->value[1] ? app->value + 1 : ".";
		break;
	default:
		return;
	}
	/* ino 0 matches nothing (BPF checks). */
	if (fstatat(dirfd, path, &st, 0)) {
		log_warn("app \"%s\": %s=%s: %s; the rule matches nothing",
			 app->name, app->match == PSV_MATCH_EXE ? "exe" : "cgroup",
			 app->value, strerror(errno));
		return;
	}
	rule->ino = st.st_ino;
	/* The kernel's dev_t: 20 bits of minor, not glibc's encoding. */
	rule->dev = major(st.st_dev) << 20 | minor(st.st_dev);
}

/* Deletes the application of rule slot i, whatever its id. */
static void forget_rule_app(struct attribution *at, __u32 i)
{
	struct psv_app_key key = { .rule = i + 1 };

	if (bpf_map_delete_elem(at->apps_fd, &key) && errno != ENOENT)
		log_warn("cannot forget the application of rule %u: %s", i + 1,
			 strerror(errno));
}

int attribution_set_rules(struct attribution *at, const struct psv_conf *conf)
{
	struct psv_app_rule old, rule;
	bool need_root = false;
	int cgroup_fd = -1, err = 0;

	for (unsigned int i = 0; i < conf->n_apps; i++)
		need_root |= conf->apps[i].match == PSV_MATCH_CGROUP;
	if (need_root && (cgroup_fd = attribution_cgroup_open()) < 0)
		log_warn("cgroup= rules match nothing without a cgroup2 tree");
	for (__u32 i = 0; i < PSV_MAX_APP_RULES && !err; i++) {
		if (i < conf->n_apps)
			attribution_rule(&conf->apps[i], cgroup_fd, &rule);
		else
			memset(&rule, 0, sizeof(rule));
		if (!bpf_map_lookup_elem(at->rules_fd, &i, &old) &&
		    !memcmp(&old, &rule, sizeof(rule)))
			continue;
		if (bpf_map_update_elem(at->rules_fd, &i, &rule, BPF_ANY)) {
			err = -errno;
			log_err("cannot write %s/%s: %s", at->pin_dir,
				PSV_MAP_APP_RULES, strerror(-err));
			break;
		}
		forget_rule_app(at, i);
	}
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	return err;
}
