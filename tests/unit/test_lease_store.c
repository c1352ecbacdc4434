// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Lease file: a save/load round trip, and files that must be refused. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "check.h"
#include "psvd/dhcp/lease_store.h"

static void test_round_trip(const char *dir)
{
	struct lease_record r[2] = {
		{ .id = 7, .mac = { 0x02, 1, 2, 3, 4, 5 },
		  .server_mac = { 0x0a, 9, 9, 9, 9, 9 }, .leased_at = 1764050000,
		  .lease_s = 120, .t1_s = 60, .t2_s = 105 },
		{ .id = 9, .mac = { 0x06, 6, 6, 6, 6, 6 }, .leased_at = 1,
		  .lease_s = 4294967295u, .t1_s = 1, .t2_s = 2, .pending = true },
	};
	struct lease_file out = { .next_id = 10, .count = 2, .leases = r }, in;

	inet_pton(AF_INET, "192.0.2.57", &r[0].ip);
	inet_pton(AF_INET, "192.0.2.1", &r[0].server);
	inet_pton(AF_INET, "192.0.2.58", &r[1].ip);
	CHECK_EQ(lease_store_save(dir, "eth0", &out), 0, "save two leases");
	CHECK_EQ(lease_store_load(dir, "eth0", &in), 0, "load them back");
	CHECK_EQ(in.count, 2, "two records");
	CHECK_EQ(in.next_id, 10, "next_id kept");
	CHECK(in.count == 2 && !memcmp(in.leases, r, sizeof(r)),
	      "records identical after the round trip (pending too)");
	lease_store_free(&in);
	CHECK_EQ(lease_store_load(dir, "eth9", &in), 0, "no file: empty, no error");
	CHECK_EQ(in.count, 0, "no file: no leases");
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"next_id\":1}",
		"{\"next_id\":-1,\"leases\":[]}",
		"{\"next_id\":1,\"leases\":{}}",
		"{\"next_id\":1,\"leases\":[{\"id\":1}]}",
		"{\"next_id\":1,\"leases\":[{\"id\":1,\"mac\":\"02:00:00:00:00\","
		"\"server_mac\":\"02:00:00:00:00:01\",\"ipv4\":\"192.0.2.1\","
		"\"server\":\"192.0.2.1\",\"leased_at\":1,\"lease_s\":1,"
		"\"t1_s\":1,\"t2_s\":1}]}",
		"{\"next_id\":1,\"leases\":[{\"id\":1,\"mac\":\"02:00:00:00:00:01\","
		"\"server_mac\":\"02:00:00:00:00:01\",\"ipv4\":\"192.0.2.300\","
		"\"server\":\"192.0.2.1\",\"leased_at\":1,\"lease_s\":1,"
		"\"t1_s\":1,\"t2_s\":1}]}",
		"{\"next_id\":1,\"leases\":[{\"id\":1,\"mac\":\"02:00:00:00:00:01\","
		"\"server_mac\":\"02:00:00:00:00:01\",\"ipv4\":\"192.0.2.3\","
		"\"server\":\"192.0.2.1\",\"leased_at\":1,\"lease_s\":4294967296,"
		"\"t1_s\":1,\"t2_s\":1}]}",
		"{\"next_id\":1,\"leases\":[",
		"{\"next_id\":1,\"leases\":[{\"id\":1,\"mac\":\"02:00:00:00:00:01\","
		"\"server_mac\":\"02:00:00:00:00:01\",\"ipv4\":\"192.0.2.3\","
		"\"server\":\"192.0.2.1\",\"leased_at\":1,\"lease_s\":1,"
		"\"t1_s\":1,\"t2_s\":1,\"pending\":1}]}",
	};
	struct lease_file f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(lease_store_parse(bad[i], strlen(bad[i]), &f) < 0,
		      "refuses bad lease file #%zu", i);
}

/* Files written before "pending" existed: none is pending. */
static void test_without_pending(void)
{
	static const char text[] =
		"{\"next_id\":2,\"leases\":[{\"id\":1,\"mac\":\"02:00:00:00:00:01\","
		"\"server_mac\":\"02:00:00:00:00:01\",\"ipv4\":\"192.0.2.3\","
		"\"server\":\"192.0.2.1\",\"leased_at\":1,\"lease_s\":1,"
		"\"t1_s\":1,\"t2_s\":1}]}";
	struct lease_file f;

	CHECK_EQ(lease_store_parse(text, strlen(text), &f), 0,
		 "a record without \"pending\" parses");
	CHECK(f.count == 1 && !f.leases[0].pending, "... as not pending");
	lease_store_free(&f);
}

int main(void)
{
	char dir[] = "/tmp/psv-lease-test-XXXXXX", file[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trip(dir);
	test_refused();
	test_without_pending();
	snprintf(file, sizeof(file), "%s/eth0.json", dir);
	unlink(file);
	rmdir(dir);
	return check_exit();
}
