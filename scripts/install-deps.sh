#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Installs every Debian package psv's build, tests, demo, benchmarks and
# package (make deb: debhelper, dpkg-dev, lintian; its test: systemd-analyze) use.
# Idempotent: apt-get skips what is already there.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	make gcc clang llvm libclang-rt-14-dev pkg-config \
	libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev \
	libinih-dev libjson-c-dev libmnl-dev libsystemd-dev \
	iproute2 ethtool iputils-ping iputils-tracepath busybox traceroute dnsutils curl lftp iperf3 \
	nmap dnsmasq-base nginx-light vsftpd socat ncat tcpdump tshark \
	python3 python3-scapy nftables gnuplot-nox xdp-tools jq procps \
	apache2-utils chromium \
	debhelper dpkg-dev lintian systemd
