// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* netdev.c - see netdev.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <net/route.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "common/log.h"
#include "psvd/netdev.h"

/* From linux/wireless.h, which clashes with net/if.h. */
#ifndef SIOCGIWNAME
#define SIOCGIWNAME 0x8B01
#endif

static int ifreq_ioctl(int fd, unsigned long req, struct ifreq *ifr,
		       const char *what)
{
	if (ioctl(fd, req, ifr) < 0) {
		int err = -errno;

		log_err("%s: cannot read %s: %s", ifr->ifr_name, what,
			strerror(-err));
		return err;
	}
	return 0;
}

static void init_ifreq(struct ifreq *ifr, const char *ifname)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
}

static uint32_t sockaddr_ip(const struct sockaddr *sa)
{
	return ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
}

/* A socket for interface ioctls; -errno, logged, naming what it was for. */
static int ioctl_socket(const char *what)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fd = -errno;
		log_err("socket(AF_INET) for %s: %s", what, strerror(-fd));
	}
	return fd;
}

/* No address is legal (dev->ip 0): psv then has no real identity to hide. */
static int read_addr(int fd, struct netdev *dev)
{
	struct ifreq ifr;
	int err;

	dev->ip = 0;
	dev->netmask = 0;
	init_ifreq(&ifr, dev->name);
	if (ioctl(fd, SIOCGIFADDR, &ifr) < 0) {
		if (errno == EADDRNOTAVAIL)
			return 0;
		err = -errno;
		log_err("%s: cannot read IPv4 address: %s", dev->name,
			strerror(-err));
		return err;
	}
	dev->ip = sockaddr_ip(&ifr.ifr_addr);
	init_ifreq(&ifr, dev->name);
	err = ifreq_ioctl(fd, SIOCGIFNETMASK, &ifr, "netmask");
	if (!err)
		dev->netmask = sockaddr_ip(&ifr.ifr_netmask);
	return err;
}

int netdev_query_addr(struct netdev *dev)
{
	int fd = ioctl_socket("interface queries"), err;

	if (fd < 0)
		return fd;
	err = read_addr(fd, dev);
	close(fd);
	return err;
}

bool netdev_moved(const struct netdev *was, const struct netdev *now)
{
	return now->netmask != was->netmask ||
	       !netdev_in_subnet(now->ip, was->ip, was->netmask);
}

int netdev_query(const char *ifname, struct netdev *dev)
{
	struct ethtool_drvinfo drv = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	int fd, err;

	memset(dev, 0, sizeof(*dev));
	if (strlen(ifname) >= IF_NAMESIZE) {
		log_err("%s: interface name too long", ifname);
		return -EINVAL;
	}
	strcpy(dev->name, ifname);
	fd = ioctl_socket("interface queries");
	if (fd < 0)
		return fd;

	init_ifreq(&ifr, ifname);
	err = ifreq_ioctl(fd, SIOCGIFINDEX, &ifr, "ifindex");
	if (err)
		goto out;
	dev->ifindex = ifr.ifr_ifindex;

	init_ifreq(&ifr, ifname);
	err = ifreq_ioctl(fd, SIOCGIFHWADDR, &ifr, "MAC address");
	if (err)
		goto out;
	memcpy(dev->mac, ifr.ifr_hwaddr.sa_data, 6);

	err = read_addr(fd, dev);
	if (err)
		goto out;

	init_ifreq(&ifr, ifname);
	ifr.ifr_data = (void *)&drv;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		snprintf(dev->driver, sizeof(dev->driver), "%.*s",
			 (int)sizeof(dev->driver) - 1, drv.driver);

	/* Only wireless drivers answer SIOCGIWNAME. */
	init_ifreq(&ifr, ifname);
	dev->wireless = ioctl(fd, SIOCGIWNAME, &ifr) == 0;
	err = 0;
out:
	close(fd);
	return err;
}

int netdev_set_promisc(const char *ifname, bool on)
{
	struct ifreq ifr;
	int fd, err;

	fd = ioctl_socket("promiscuous mode");
	if (fd < 0)
		return fd;
	init_ifreq(&ifr, ifname);
	err = ifreq_ioctl(fd, SIOCGIFFLAGS, &ifr, "flags");
	if (!err) {
		if (on)
			ifr.ifr_flags |= IFF_PROMISC;
		else
			ifr.ifr_flags &= ~IFF_PROMISC;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
			err = -errno;
			log_err("%s: cannot %s promiscuous mode: %s", ifname,
				on ? "enable" : "disable", strerror(-err));
		}
	}
	close(fd);
	return err;
}

int netdev_ipv6_own_sources(const char *ifname)
{
	char path[96];
	int fd, err = 0;

	snprintf(path, sizeof(path),
		 "/proc/sys/net/ipv6/conf/%s/use_oif_addrs_only", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		/* No IPv6 on the interface: no source to choose. */
		if (err == -ENOENT)
			return 0;
		log_err("%s: cannot open %s: %s", ifname, path, strerror(-err));
		return err;
	}
	if (write(fd, "1", 1) != 1) {
		err = -errno;
		log_err("%s: cannot write %s: %s", ifname, path, strerror(-err));
	}
	close(fd);
	return err;
}

bool netdev_is_eui64(const uint8_t addr[16], const uint8_t mac[6])
{
	const uint8_t iid[8] = { mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe,
				 mac[3], mac[4], mac[5] };

	return !memcmp(addr + 8, iid, sizeof(iid));
}

int netdev_eui64_addrs(const struct netdev *dev)
{
	struct ifaddrs *list, *a;
	int n = 0;

	if (getifaddrs(&list)) {
		int err = -errno;

		log_err("getifaddrs, for %s's IPv6 addresses: %s", dev->name,
			strerror(-err));
		return err;
	}
	for (a = list; a; a = a->ifa_next)
		n += a->ifa_addr && a->ifa_addr->sa_family == AF_INET6 &&
		     !strcmp(a->ifa_name, dev->name) &&
		     netdev_is_eui64(((struct sockaddr_in6 *)a->ifa_addr)
					     ->sin6_addr.s6_addr, dev->mac);
	freeifaddrs(list);
	return n;
}

bool netdev_is_veth(const struct netdev *dev)
{
	return !strcmp(dev->driver, "veth");
}

uint32_t netdev_parse_gateway(const char *text, const char *ifname)
{
	const char *line = text;

	/* "Iface Destination Gateway Flags ...", addresses in hex as stored
	 * (network order read as a host integer); the first line is a header. */
	while ((line = strchr(line, '\n'))) {
		char name[IF_NAMESIZE + 1];
		unsigned int dst, gw, flags;

		line++;
		if (sscanf(line, "%16s %x %x %x", name, &dst, &gw, &flags) != 4)
			continue;
		if (!strcmp(name, ifname) && dst == 0 && (flags & RTF_GATEWAY) &&
		    (flags & RTF_UP))
			return gw;
	}
	return 0;
}

uint32_t netdev_default_gateway(const char *ifname)
{
	char buf[16384];
	size_t n;
	FILE *f = fopen("/proc/net/route", "re");

	if (!f) {
		log_warn("cannot read /proc/net/route: %s", strerror(errno));
		return 0;
	}
	/* The default route comes first in practice; a long table is cut. */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return netdev_parse_gateway(buf, ifname);
}
