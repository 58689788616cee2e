/* unit tests for config: every directive valid and invalid, the exact
 * "FILE:LINE: message" of each error, defaults, "*" listen, durations,
 * validation and loading from a file. */
#include "build_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/aead.h"
#include "common/config.h"
#include "common/log.h"
#include "unit.h"

static int parse(struct config *c, const char *text, struct config_error *err)
{
	config_init(c);
	return config_parse(c, text, strlen(text), "t.conf", err);
}

/* Parse text that must be accepted; the caller frees c. */
static void ok(struct config *c, const char *text)
{
	struct config_error err = { "" };
	int ret = parse(c, text, &err);

	if (ret != 0)
		fprintf(stderr, "\nunexpected error: %s\n", err.msg);
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_STRING_EQUAL(err.msg, "");
}

/* Parse text that must be refused with exactly `msg`. */
static void bad(const char *text, const char *msg)
{
	struct config c;
	struct config_error err = { "" };
	int ret = parse(&c, text, &err);

	CU_ASSERT_EQUAL(ret, -1);
	if (strcmp(err.msg, msg) != 0)
		fprintf(stderr, "\n  input: %s\n  want:  %s\n  got:   %s\n", text, msg, err.msg);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	config_free(&c);
}

static void test_defaults(void)
{
	struct config c;

	config_init(&c);
	CU_ASSERT_TRUE(c.ntp_enabled);
	CU_ASSERT_TRUE(c.ke_enabled);
	CU_ASSERT_EQUAL(c.n_ntp_listen, 0);
	CU_ASSERT_EQUAL(c.n_ke_listen, 0);
	CU_ASSERT_EQUAL(c.threads, 0);
	CU_ASSERT_TRUE(c.cpu_steering);
	CU_ASSERT_EQUAL(c.ntp_busy_poll_us, 0);
	CU_ASSERT_EQUAL(c.local_stratum, -1);
	CU_ASSERT_EQUAL(c.stratum, 2);
	CU_ASSERT_EQUAL(c.refid, 0x4e545344u);	/* "NTSD" */
	CU_ASSERT_FALSE(c.rate_limit);
	CU_ASSERT_EQUAL(c.rate_limit_table, 65536);
	CU_ASSERT_EQUAL(c.rate_limit_prefix.v4, 32);
	CU_ASSERT_EQUAL(c.rate_limit_prefix.v6, 64);
	CU_ASSERT_PTR_NULL(c.ke_certificate);
	CU_ASSERT_PTR_NULL(c.ke_private_key);
	CU_ASSERT_EQUAL(c.n_ke_ntp_servers, 0);
	CU_ASSERT_EQUAL(c.ke_ntp_port, -1);
	CU_ASSERT_EQUAL(c.ke_threads, 0);
	CU_ASSERT_EQUAL(c.ke_timeout_ms, 5000);
	CU_ASSERT_EQUAL(c.ke_max_sessions, 4096);
	CU_ASSERT_EQUAL(c.ke_max_sessions_per_address, 16);
	CU_ASSERT_STRING_EQUAL(c.key_file, LOCALSTATEDIR "/lib/ntsd/keys");
	CU_ASSERT_TRUE(c.key_file_create);
	CU_ASSERT_EQUAL(c.key_propagation_s, 3600);
	CU_ASSERT_EQUAL(c.key_max_age_s, 0);
	CU_ASSERT_PTR_NULL(c.user);
	CU_ASSERT_STRING_EQUAL(c.pid_file, RUNSTATEDIR "/ntsd/ntsd.pid");
	CU_ASSERT_EQUAL(c.log_level, LOG_LVL_INFO);
	CU_ASSERT_EQUAL(c.shutdown_drain_s, 5);
	CU_ASSERT_PTR_NULL(c.ntp_acl);
	CU_ASSERT_PTR_NULL(c.ke_acl);
	CU_ASSERT_EQUAL(c.metrics_listen.len, 0);
	/* Freeing defaults must not free the built-in strings (ASan checks). */
	config_free(&c);
	CU_ASSERT_PTR_NULL(c.key_file);
	CU_ASSERT_PTR_NULL(c.pid_file);
	config_free(&c);
	config_free(NULL);
}

static void test_every_directive(void)
{
	static const char text[] =
		"# a full configuration\n"
		"ntp-service yes\n"
		"ke-service on\n"
		"ntp-listen 192.0.2.1\n"
		"ntp-listen ::1 1123\n"
		"threads 4\n"
		"local-stratum 10\n"
		"stratum 3\n"
		"refid GPS\n"
		"rate-limit 2.5 16\n"
		"rate-limit-table 4096\n"
		"ke-listen 127.0.0.1 4461\n"
		"ke-listen [::1]\n"
		"ke-certificate /etc/ntsd/cert.pem\n"
		"ke-private-key /etc/ntsd/key.pem\n"
		"ke-ntp-server ntp.example.net\n"
		"ke-ntp-port 1123\n"
		"ke-threads 2\n"
		"ke-timeout 2.5\n"
		"ke-max-sessions 100\n"
		"ke-max-sessions-per-address 4\n"
		"key-file /var/lib/ntsd/keys\n"
		"key-propagation 2h\n"
		"user _ntsd\n"
		"pid-file /run/ntsd/ntsd.pid\n"
		"log-level debug\n"
		"shutdown-drain 30s\n"
		"ntp-allow 192.0.2.0/24\n"
		"ntp-deny 192.0.2.128/25\n"
		"ke-allow 2001:db8::/32\n"
		"ke-deny ::/0\n"
		"metrics-listen 127.0.0.1 9123\n";
	struct config c;
	char s[NETADDR_STRLEN];
	struct netaddr a;

	ok(&c, text);
	CU_ASSERT_TRUE(c.ntp_enabled);
	CU_ASSERT_TRUE(c.ke_enabled);
	CU_ASSERT_EQUAL_FATAL(c.n_ntp_listen, 2);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.ntp_listen[0].addr, s, sizeof(s)), "192.0.2.1:123");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.ntp_listen[1].addr, s, sizeof(s)), "[::1]:1123");
	CU_ASSERT_EQUAL(c.threads, 4);
	CU_ASSERT_EQUAL(c.local_stratum, 10);
	CU_ASSERT_EQUAL(c.stratum, 3);
	CU_ASSERT_EQUAL(c.refid, 0x47505300u);
	CU_ASSERT_TRUE(c.rate_limit);
	CU_ASSERT_DOUBLE_EQUAL(c.rate_limit_rate, 2.5, 1e-9);
	CU_ASSERT_EQUAL(c.rate_limit_burst, 16);
	CU_ASSERT_EQUAL(c.rate_limit_table, 4096);
	CU_ASSERT_EQUAL_FATAL(c.n_ke_listen, 2);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.ke_listen[0].addr, s, sizeof(s)), "127.0.0.1:4461");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.ke_listen[1].addr, s, sizeof(s)), "[::1]:4460");
	CU_ASSERT_STRING_EQUAL(c.ke_certificate, "/etc/ntsd/cert.pem");
	CU_ASSERT_STRING_EQUAL(c.ke_private_key, "/etc/ntsd/key.pem");
	CU_ASSERT_EQUAL_FATAL(c.n_ke_ntp_servers, 1);
	CU_ASSERT_STRING_EQUAL(c.ke_ntp_servers[0], "ntp.example.net");
	CU_ASSERT_EQUAL(c.ke_ntp_port, 1123);
	CU_ASSERT_EQUAL(c.ke_threads, 2);
	CU_ASSERT_EQUAL(c.ke_timeout_ms, 2500);
	CU_ASSERT_EQUAL(c.ke_max_sessions, 100);
	CU_ASSERT_EQUAL(c.ke_max_sessions_per_address, 4);
	CU_ASSERT_STRING_EQUAL(c.key_file, "/var/lib/ntsd/keys");
	CU_ASSERT_EQUAL(c.key_propagation_s, 7200);
	CU_ASSERT_STRING_EQUAL(c.user, "_ntsd");
	CU_ASSERT_STRING_EQUAL(c.pid_file, "/run/ntsd/ntsd.pid");
	CU_ASSERT_EQUAL(c.log_level, LOG_LVL_DEBUG);
	CU_ASSERT_EQUAL(c.shutdown_drain_s, 30);
	CU_ASSERT_EQUAL(acl_count(c.ntp_acl), 2);
	CU_ASSERT_EQUAL(acl_count(c.ke_acl), 2);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.1", 123, &a), 0);
	CU_ASSERT_TRUE(acl_allows(c.ntp_acl, &a));
	CU_ASSERT_TRUE(acl_allows(c.ke_acl, &a));	/* no IPv4 rule for KE */
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("192.0.2.129", 123, &a), 0);
	CU_ASSERT_FALSE(acl_allows(c.ntp_acl, &a));
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("2001:db8::1", 123, &a), 0);
	CU_ASSERT_TRUE(acl_allows(c.ke_acl, &a));
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("2001:db9::1", 123, &a), 0);
	CU_ASSERT_FALSE(acl_allows(c.ke_acl, &a));
	CU_ASSERT_TRUE(acl_allows(c.ntp_acl, &a));	/* no IPv6 rule for NTP */
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.metrics_listen, s, sizeof(s)), "127.0.0.1:9123");
	CU_ASSERT_EQUAL(config_validate(&c, "t.conf", NULL), 0);
	config_free(&c);
}

static void test_syntax(void)
{
	struct config c;

	/* Blank lines, comments, tabs, CRLF, no final newline. */
	ok(&c, "\n   \n# comment\n\tstratum\t 4   # trailing comment\r\n  threads 3");
	CU_ASSERT_EQUAL(c.stratum, 4);
	CU_ASSERT_EQUAL(c.threads, 3);
	config_free(&c);
	ok(&c, "");
	config_free(&c);
	ok(&c, "#only a comment");
	config_free(&c);
	/* A '#' inside a word is part of it. */
	ok(&c, "refid A#\n");
	CU_ASSERT_EQUAL(c.refid, 0x41230000u);
	config_free(&c);
	bad("stratum 2#x\n", "t.conf:1: stratum: '2#x' is not a number");
}

static void test_errors(void)
{
	bad("# one\n\nbogus 1\n", "t.conf:3: unknown directive 'bogus'");
	bad("Stratum 2\n", "t.conf:1: unknown directive 'Stratum'");
	bad("stratum\n", "t.conf:1: stratum: missing argument (usage: stratum N)");
	bad("stratum 2 3\n", "t.conf:1: stratum: too many arguments (usage: stratum N)");
	bad("stratum 1 2 3 4 5 6 7 8 9\n",
	    "t.conf:1: stratum: too many arguments (usage: stratum N)");
	bad("ntp-listen\n",
	    "t.conf:1: ntp-listen: missing argument (usage: ntp-listen ADDRESS [PORT])");
	bad("ntp-listen ::1 123 x\n",
	    "t.conf:1: ntp-listen: too many arguments (usage: ntp-listen ADDRESS [PORT])");
	bad("threads 1\nstratum 2\nthreads 1\nstratum 3\n",
	    "t.conf:3: threads: duplicate directive (first set on line 1)");
	bad("user a\n#\nuser b\n", "t.conf:3: user: duplicate directive (first set on line 1)");
	bad("key-file /a\nkey-file /b\n",
	    "t.conf:2: key-file: duplicate directive (first set on line 1)");
}

static void test_line_limits(void)
{
	char text[1200];
	struct config c;

	/* 1024 bytes is the longest line; CR of a CRLF does not count. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "stratum 2\n#", 11);
	memcpy(text + 10 + 1024, "\r\nthreads 1\n", 13);
	ok(&c, text);
	CU_ASSERT_EQUAL(c.threads, 1);
	config_free(&c);
	text[10 + 1024] = ' ';
	memcpy(text + 10 + 1025, "\nthreads 1\n", 12);
	bad(text, "t.conf:2: line too long (at most 1024 bytes)");

	{
		static const char nul[] = "stratum 2\nthreads\0 1\n";
		struct config_error err;

		config_init(&c);
		CU_ASSERT_EQUAL(config_parse(&c, nul, sizeof(nul) - 1, "n.conf", &err), -1);
		CU_ASSERT_STRING_EQUAL(err.msg, "n.conf:2: NUL byte in line");
		config_free(&c);
	}
	bad("stratum 2\x1b[31m\n", "t.conf:1: control character 0x1b in line");
	bad("\x7f\n", "t.conf:1: control character 0x7f in line");
	bad("a\rb\n", "t.conf:1: control character 0x0d in line");
}

static void test_bools(void)
{
	struct config c;

	ok(&c, "ntp-service no\nke-service off\n");
	CU_ASSERT_FALSE(c.ntp_enabled);
	CU_ASSERT_FALSE(c.ke_enabled);
	config_free(&c);
	ok(&c, "ntp-service on\nke-service yes\n");
	CU_ASSERT_TRUE(c.ntp_enabled);
	CU_ASSERT_TRUE(c.ke_enabled);
	config_free(&c);
	bad("ntp-service true\n", "t.conf:1: ntp-service: 'true' is not yes, no, on or off");
	bad("ke-service YES\n", "t.conf:1: ke-service: 'YES' is not yes, no, on or off");
	bad("ke-service 1\n", "t.conf:1: ke-service: '1' is not yes, no, on or off");
	ok(&c, "key-file-create no\n");
	CU_ASSERT_FALSE(c.key_file_create);
	config_free(&c);
	bad("key-file-create maybe\n",
	    "t.conf:1: key-file-create: 'maybe' is not yes, no, on or off");
	ok(&c, "\n");
	CU_ASSERT_TRUE(c.sandbox);	/* the default */
	config_free(&c);
	ok(&c, "sandbox no\n");
	CU_ASSERT_FALSE(c.sandbox);
	config_free(&c);
	bad("threads 1\nsandbox strict\n",
	    "t.conf:2: sandbox: 'strict' is not yes, no, on or off");
}

static void test_numbers(void)
{
	struct config c;

	ok(&c, "threads 0\nke-threads 256\nke-max-sessions 1\n"
	       "ke-max-sessions-per-address 1048576\nrate-limit-table 256\n");
	CU_ASSERT_EQUAL(c.threads, 0);
	CU_ASSERT_EQUAL(c.ke_threads, 256);
	CU_ASSERT_EQUAL(c.ke_max_sessions, 1);
	CU_ASSERT_EQUAL(c.ke_max_sessions_per_address, 1048576);
	CU_ASSERT_EQUAL(c.rate_limit_table, 256);
	config_free(&c);
	bad("threads 257\n", "t.conf:1: threads: 257 out of range (0-256)");
	bad("threads -1\n", "t.conf:1: threads: '-1' is not a number");
	bad("threads +1\n", "t.conf:1: threads: '+1' is not a number");
	bad("threads 0x10\n", "t.conf:1: threads: '0x10' is not a number");
	bad("threads 99999999999999999999999\n",
	    "t.conf:1: threads: '99999999999999999999999' is not a number");
	bad("ke-threads 1000\n", "t.conf:1: ke-threads: 1000 out of range (0-256)");
	bad("ke-max-sessions 0\n", "t.conf:1: ke-max-sessions: 0 out of range (1-1048576)");
	bad("ke-max-sessions-per-address 1048577\n",
	    "t.conf:1: ke-max-sessions-per-address: 1048577 out of range (1-1048576)");
	bad("rate-limit-table 255\n",
	    "t.conf:1: rate-limit-table: 255 out of range (256-16777216)");
	bad("rate-limit-table 16777217\n",
	    "t.conf:1: rate-limit-table: 16777217 out of range (256-16777216)");
	bad("ke-ntp-port 0\n", "t.conf:1: ke-ntp-port: 0 out of range (1-65535)");
	bad("ke-ntp-port 65536\n", "t.conf:1: ke-ntp-port: 65536 out of range (1-65535)");
	bad("ke-ntp-port http\n", "t.conf:1: ke-ntp-port: 'http' is not a number");
	ok(&c, "ke-ntp-port 65535\n");
	CU_ASSERT_EQUAL(c.ke_ntp_port, 65535);
	config_free(&c);
}

/* Interleaved mode and hardware timestamps (RFC 9769). */
/* cpu-steering and ntp-busy-poll: values, range, file:line errors. */
static void test_steering(void)
{
	struct config c;

	ok(&c, "cpu-steering no\nntp-busy-poll 50\n");
	CU_ASSERT_FALSE(c.cpu_steering);
	CU_ASSERT_EQUAL(c.ntp_busy_poll_us, 50);
	config_free(&c);
	ok(&c, "cpu-steering yes\nntp-busy-poll 0\n");
	CU_ASSERT_TRUE(c.cpu_steering);
	CU_ASSERT_EQUAL(c.ntp_busy_poll_us, 0);
	config_free(&c);
	ok(&c, "ntp-busy-poll 10000\n");
	CU_ASSERT_EQUAL(c.ntp_busy_poll_us, 10000);
	config_free(&c);
	bad("threads 1\nntp-busy-poll 10001\n",
	    "t.conf:2: ntp-busy-poll: 10001 out of range (0-10000)");
	bad("ntp-busy-poll -5\n", "t.conf:1: ntp-busy-poll: '-5' is not a number");
	bad("ntp-busy-poll 50us\n", "t.conf:1: ntp-busy-poll: '50us' is not a number");
	bad("ntp-busy-poll 1 2\n", "t.conf:1: ntp-busy-poll: too many arguments (usage: "
				  "ntp-busy-poll USEC)");
	bad("cpu-steering maybe\n", "t.conf:1: cpu-steering: 'maybe' is not yes, no, on or off");
}

static void test_timestamping(void)
{
	struct config c;

	ok(&c, "");
	CU_ASSERT_EQUAL(c.interleaved_table, 65536);
	CU_ASSERT_EQUAL(c.n_hw_timestamp, 0);
	config_free(&c);
	ok(&c, "interleaved-table 0\nhw-timestamp eth0\nhw-timestamp enp1s0f1.100\n");
	CU_ASSERT_EQUAL(c.interleaved_table, 0);
	CU_ASSERT_EQUAL_FATAL(c.n_hw_timestamp, 2);
	CU_ASSERT_STRING_EQUAL(c.hw_timestamp[0], "eth0");
	CU_ASSERT_STRING_EQUAL(c.hw_timestamp[1], "enp1s0f1.100");
	config_free(&c);
	ok(&c, "interleaved-table 1048576\nhw-timestamp 0123456789abcde\n");
	config_free(&c);
	bad("interleaved-table 1048577\n",
	    "t.conf:1: interleaved-table: 1048577 out of range (0-1048576)");
	bad("hw-timestamp 0123456789abcdef\n",
	    "t.conf:1: hw-timestamp: bad interface name '0123456789abcdef'");
	bad("hw-timestamp a/b\n", "t.conf:1: hw-timestamp: bad interface name 'a/b'");
	bad("hw-timestamp ..\n", "t.conf:1: hw-timestamp: bad interface name '..'");
	bad("hw-timestamp eth0\nhw-timestamp eth0\n",
	    "t.conf:2: hw-timestamp: 'eth0' listed twice");
	bad("hw-timestamp a\nhw-timestamp b\nhw-timestamp c\nhw-timestamp d\n"
	    "hw-timestamp e\nhw-timestamp f\nhw-timestamp g\nhw-timestamp h\nhw-timestamp i\n",
	    "t.conf:9: hw-timestamp: too many entries (at most 8)");
	bad("hw-timestamp eth0 eth1\n", "t.conf:1: hw-timestamp: too many arguments (usage: hw-timestamp IFACE)");
}

/* ntp-xdp IFACE [QUEUES]: the AF_XDP data path. */
static void test_xdp(void)
{
	struct config c;

	ok(&c, "");
	CU_ASSERT_EQUAL(c.n_ntp_xdp, 0);
	config_free(&c);
	ok(&c, "ntp-xdp eth0\nntp-xdp veth-a 4\nntp-xdp 0123456789abcde 64\nntp-xdp x 0\n");
	CU_ASSERT_EQUAL_FATAL(c.n_ntp_xdp, 4);
	CU_ASSERT_STRING_EQUAL(c.ntp_xdp[0].ifname, "eth0");
	CU_ASSERT_EQUAL(c.ntp_xdp[0].queues, 0);
	CU_ASSERT_STRING_EQUAL(c.ntp_xdp[1].ifname, "veth-a");
	CU_ASSERT_EQUAL(c.ntp_xdp[1].queues, 4);
	CU_ASSERT_EQUAL(c.ntp_xdp[2].queues, 64);
	CU_ASSERT_EQUAL(c.ntp_xdp[3].queues, 0);
	config_free(&c);
	bad("ntp-xdp 0123456789abcdef\n",
	    "t.conf:1: ntp-xdp: bad interface name '0123456789abcdef'");
	bad("\nntp-xdp a/b 2\n", "t.conf:2: ntp-xdp: bad interface name 'a/b'");
	bad("ntp-xdp .\n", "t.conf:1: ntp-xdp: bad interface name '.'");
	bad("ntp-xdp eth0 65\n", "t.conf:1: ntp-xdp: 65 out of range (0-64)");
	bad("ntp-xdp eth0 -1\n", "t.conf:1: ntp-xdp: '-1' is not a number");
	bad("ntp-xdp eth0 two\n", "t.conf:1: ntp-xdp: 'two' is not a number");
	bad("ntp-xdp eth0\nntp-xdp eth0 2\n", "t.conf:2: ntp-xdp: 'eth0' listed twice");
	bad("ntp-xdp a\nntp-xdp b\nntp-xdp c\nntp-xdp d\nntp-xdp e\n",
	    "t.conf:5: ntp-xdp: too many entries (at most 4)");
	bad("ntp-xdp\n", "t.conf:1: ntp-xdp: missing argument (usage: ntp-xdp IFACE [QUEUES])");
	bad("ntp-xdp eth0 1 2\n",
	    "t.conf:1: ntp-xdp: too many arguments (usage: ntp-xdp IFACE [QUEUES])");
}

static void test_strata(void)
{
	struct config c;

	ok(&c, "stratum 1\nlocal-stratum 15\n");
	CU_ASSERT_EQUAL(c.stratum, 1);
	CU_ASSERT_EQUAL(c.local_stratum, 15);
	config_free(&c);
	ok(&c, "local-stratum off\n");
	CU_ASSERT_EQUAL(c.local_stratum, -1);
	config_free(&c);
	bad("stratum 0\n", "t.conf:1: stratum: 0 out of range (1-15)");
	bad("stratum 16\n", "t.conf:1: stratum: 16 out of range (1-15)");
	bad("local-stratum 0\n", "t.conf:1: local-stratum: 0 out of range (1-15)");
	bad("local-stratum 16\n", "t.conf:1: local-stratum: 16 out of range (1-15)");
	bad("local-stratum no\n", "t.conf:1: local-stratum: 'no' is not a number");
}

static void test_listen(void)
{
	struct config c;
	char s[NETADDR_STRLEN];
	char text[1024];
	size_t off = 0;

	ok(&c, "ntp-listen *\nke-listen * 4461\n");
	CU_ASSERT_EQUAL_FATAL(c.n_ntp_listen, 2);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.ntp_listen[0].addr, s, sizeof(s)), "0.0.0.0:123");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.ntp_listen[1].addr, s, sizeof(s)), "[::]:123");
	CU_ASSERT_EQUAL(netaddr_family(&c.ntp_listen[0].addr), AF_INET);
	CU_ASSERT_EQUAL(netaddr_family(&c.ntp_listen[1].addr), AF_INET6);
	CU_ASSERT_EQUAL_FATAL(c.n_ke_listen, 2);
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.ke_listen[0].addr, s, sizeof(s)), "0.0.0.0:4461");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.ke_listen[1].addr, s, sizeof(s)), "[::]:4461");
	config_free(&c);

	/* Repeatable; the same address on two ports is two entries. */
	ok(&c, "ntp-listen 127.0.0.1\nntp-listen 127.0.0.1 124\nntp-listen ::1\n");
	CU_ASSERT_EQUAL(c.n_ntp_listen, 3);
	CU_ASSERT_EQUAL(c.n_ke_listen, 0);
	config_free(&c);

	bad("ntp-listen localhost\n",
	    "t.conf:1: ntp-listen: bad address 'localhost' (an IPv4 or IPv6 literal, or *)");
	bad("ke-listen 300.1.1.1\n",
	    "t.conf:1: ke-listen: bad address '300.1.1.1' (an IPv4 or IPv6 literal, or *)");
	bad("ntp-listen ::1 0\n", "t.conf:1: ntp-listen: 0 out of range (1-65535)");
	bad("ke-listen ::1 65536\n", "t.conf:1: ke-listen: 65536 out of range (1-65535)");
	bad("ke-listen ::1 ntske\n", "t.conf:1: ke-listen: 'ntske' is not a number");
	bad("ntp-listen 127.0.0.1\nntp-listen 127.0.0.1 123\n",
	    "t.conf:2: ntp-listen: address '127.0.0.1' port 123 listed twice");
	bad("ke-listen *\nke-listen ::\n",
	    "t.conf:2: ke-listen: address '::' port 4460 listed twice");

	/* 16 entries fit, the 17th does not. */
	for (int i = 1; i <= CONFIG_MAX_LISTEN; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "ke-listen 10.0.0.%d\n", i);
	ok(&c, text);
	CU_ASSERT_EQUAL(c.n_ke_listen, CONFIG_MAX_LISTEN);
	config_free(&c);
	snprintf(text + off, sizeof(text) - off, "ke-listen 10.0.1.1\n");
	bad(text, "t.conf:17: ke-listen: too many entries (at most 16)");
	/* "*" takes two. */
	off = 0;
	for (int i = 1; i < CONFIG_MAX_LISTEN; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "ntp-listen 10.0.0.%d\n", i);
	snprintf(text + off, sizeof(text) - off, "ntp-listen *\n");
	bad(text, "t.conf:16: ntp-listen: too many entries (at most 16)");
}

static void test_refid(void)
{
	struct config c;

	ok(&c, "refid NTSD\n");
	CU_ASSERT_EQUAL(c.refid, 0x4e545344u);
	config_free(&c);
	ok(&c, "refid X\n");
	CU_ASSERT_EQUAL(c.refid, 0x58000000u);
	config_free(&c);
	ok(&c, "refid 192.0.2.1\n");
	CU_ASSERT_EQUAL(c.refid, 0xc0000201u);
	config_free(&c);
	bad("refid ABCDE\n",
	    "t.conf:1: refid: 'ABCDE' is neither 1-4 characters nor an IPv4 address");
	bad("refid 1.2.3.4.5\n",
	    "t.conf:1: refid: '1.2.3.4.5' is neither 1-4 characters nor an IPv4 address");
	bad("refid \xc3\xa9\n", "t.conf:1: refid: '\xc3\xa9' is not printable ASCII");
}

static void test_rate_limit(void)
{
	struct config c;

	ok(&c, "rate-limit 0.5 4\n");
	CU_ASSERT_TRUE(c.rate_limit);
	CU_ASSERT_DOUBLE_EQUAL(c.rate_limit_rate, 0.5, 1e-12);
	CU_ASSERT_EQUAL(c.rate_limit_burst, 4);
	config_free(&c);
	ok(&c, "rate-limit 1000000 1000000\n");
	CU_ASSERT_DOUBLE_EQUAL(c.rate_limit_rate, 1e6, 1e-6);
	config_free(&c);
	ok(&c, "rate-limit off\n");
	CU_ASSERT_FALSE(c.rate_limit);
	config_free(&c);
	bad("rate-limit 10\n", "t.conf:1: rate-limit: missing BURST (usage: rate-limit RATE BURST|off)");
	bad("rate-limit off 5\n",
	    "t.conf:1: rate-limit: too many arguments (usage: rate-limit RATE BURST|off)");
	bad("rate-limit 0 5\n", "t.conf:1: rate-limit: rate 0 out of range (0.000001-1000000)");
	bad("rate-limit 1000001 5\n",
	    "t.conf:1: rate-limit: rate 1000001 out of range (0.000001-1000000)");
	bad("rate-limit 0.0000001 5\n",
	    "t.conf:1: rate-limit: bad rate '0.0000001' (a decimal number, at most 6 decimal places)");
	bad("rate-limit 1e3 5\n",
	    "t.conf:1: rate-limit: bad rate '1e3' (a decimal number, at most 6 decimal places)");
	bad("rate-limit 10 0\n", "t.conf:1: rate-limit: 0 out of range (1-1000000)");
	bad("rate-limit 10 x\n", "t.conf:1: rate-limit: 'x' is not a number");
}

/* ke-rate-limit takes what rate-limit takes, into its own fields. */
static void test_ke_rate_limit(void)
{
	struct config c;

	ok(&c, "ke-rate-limit 0.25 8\n");
	CU_ASSERT_TRUE(c.ke_rate_limit);
	CU_ASSERT_DOUBLE_EQUAL(c.ke_rate_limit_rate, 0.25, 1e-12);
	CU_ASSERT_EQUAL(c.ke_rate_limit_burst, 8);
	CU_ASSERT_FALSE(c.rate_limit);
	config_free(&c);
	ok(&c, "ke-rate-limit off\nrate-limit 3 4\n");
	CU_ASSERT_FALSE(c.ke_rate_limit);
	CU_ASSERT_TRUE(c.rate_limit);
	CU_ASSERT_DOUBLE_EQUAL(c.rate_limit_rate, 3, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(c.ke_rate_limit_rate, 10, 1e-12);
	CU_ASSERT_EQUAL(c.ke_rate_limit_burst, 500);
	config_free(&c);
	bad("ke-rate-limit 10\n",
	    "t.conf:1: ke-rate-limit: missing BURST (usage: ke-rate-limit RATE BURST|off)");
	bad("ke-rate-limit off 1\n",
	    "t.conf:1: ke-rate-limit: too many arguments (usage: ke-rate-limit RATE BURST|off)");
	bad("ke-rate-limit 0 5\n",
	    "t.conf:1: ke-rate-limit: rate 0 out of range (0.000001-1000000)");
	bad("ke-rate-limit 1 0\n", "t.conf:1: ke-rate-limit: 0 out of range (1-1000000)");
	bad("ke-rate-limit 1 2\nke-rate-limit off\n",
	    "t.conf:2: ke-rate-limit: duplicate directive (first set on line 1)");
}

static void test_rate_limit_prefix(void)
{
	struct config c;

	ok(&c, "rate-limit-prefix 24 56\n");
	CU_ASSERT_EQUAL(c.rate_limit_prefix.v4, 24);
	CU_ASSERT_EQUAL(c.rate_limit_prefix.v6, 56);
	config_free(&c);
	ok(&c, "rate-limit-prefix 8 16\nthreads 1\n");
	CU_ASSERT_EQUAL(c.rate_limit_prefix.v4, 8);
	CU_ASSERT_EQUAL(c.rate_limit_prefix.v6, 16);
	config_free(&c);
	ok(&c, "rate-limit-prefix 32 128\n");
	CU_ASSERT_EQUAL(c.rate_limit_prefix.v4, 32);
	CU_ASSERT_EQUAL(c.rate_limit_prefix.v6, 128);
	config_free(&c);
	bad("rate-limit-prefix 32\n",
	    "t.conf:1: rate-limit-prefix: missing argument (usage: rate-limit-prefix V4LEN V6LEN)");
	bad("rate-limit-prefix 33 64\n", "t.conf:1: rate-limit-prefix: 33 out of range (8-32)");
	bad("rate-limit-prefix 7 64\n", "t.conf:1: rate-limit-prefix: 7 out of range (8-32)");
	bad("rate-limit-prefix 32 129\n", "t.conf:1: rate-limit-prefix: 129 out of range (16-128)");
	bad("rate-limit-prefix 32 /64\n", "t.conf:1: rate-limit-prefix: '/64' is not a number");
	bad("rate-limit-prefix 32 64\nrate-limit-prefix 24 48\n",
	    "t.conf:2: rate-limit-prefix: duplicate directive (first set on line 1)");
}

static void test_ke_timeout(void)
{
	struct config c;

	ok(&c, "ke-timeout 0.1\n");
	CU_ASSERT_EQUAL(c.ke_timeout_ms, 100);
	config_free(&c);
	ok(&c, "ke-timeout 300\n");
	CU_ASSERT_EQUAL(c.ke_timeout_ms, 300000);
	config_free(&c);
	ok(&c, "ke-timeout 1.25\n");
	CU_ASSERT_EQUAL(c.ke_timeout_ms, 1250);
	config_free(&c);
	bad("ke-timeout 0.05\n", "t.conf:1: ke-timeout: 0.05 out of range (0.1-300 seconds)");
	bad("ke-timeout 301\n", "t.conf:1: ke-timeout: 301 out of range (0.1-300 seconds)");
	bad("ke-timeout 1.0001\n", "t.conf:1: ke-timeout: bad number of seconds '1.0001'");
	bad("ke-timeout 5s\n", "t.conf:1: ke-timeout: bad number of seconds '5s'");
	bad("ke-timeout 1.\n", "t.conf:1: ke-timeout: bad number of seconds '1.'");
	bad("ke-timeout 1.2.3\n", "t.conf:1: ke-timeout: bad number of seconds '1.2.3'");
}

/* ke-aead: a set of supported AEADs with 15 in it; the default leaves
 * out 30 (AES-128-GCM-SIV) and is every other supported one. */
static void test_ke_aead(void)
{
	struct config c;
	size_t n;
	const uint16_t *ids = aead_supported(&n);

	config_init(&c);
	CU_ASSERT_EQUAL(c.n_ke_aeads, 2);
	CU_ASSERT_EQUAL(c.ke_aeads[0], AEAD_AES_SIV_CMAC_256);
	CU_ASSERT_EQUAL(c.ke_aeads[1], AEAD_AES_SIV_CMAC_512);
	for (size_t i = 0; i < n; i++) {
		bool listed = false;

		for (size_t j = 0; j < c.n_ke_aeads; j++)
			listed = listed || c.ke_aeads[j] == ids[i];
		CU_ASSERT_EQUAL(listed, ids[i] != AEAD_AES_128_GCM_SIV);
	}
	config_free(&c);
	ok(&c, "ke-aead 15\n");
	CU_ASSERT_EQUAL(c.n_ke_aeads, 1);
	CU_ASSERT_EQUAL(c.ke_aeads[0], AEAD_AES_SIV_CMAC_256);
	config_free(&c);
	ok(&c, "ke-aead aead_aes_siv_cmac_512 AEAD_AES_SIV_CMAC_256\n");
	CU_ASSERT_EQUAL(c.n_ke_aeads, 2);
	CU_ASSERT_EQUAL(c.ke_aeads[0], AEAD_AES_SIV_CMAC_512);
	CU_ASSERT_EQUAL(c.ke_aeads[1], AEAD_AES_SIV_CMAC_256);
	config_free(&c);
#ifdef HAVE_GCM_SIV
	ok(&c, "ke-aead 30 15\n");
	CU_ASSERT_EQUAL(c.n_ke_aeads, 2);
	CU_ASSERT_EQUAL(c.ke_aeads[0], AEAD_AES_128_GCM_SIV);
	config_free(&c);
#else
	bad("ke-aead 30 15\n", "t.conf:1: ke-aead: AEAD 30 (AEAD_AES_128_GCM_SIV) is not "
	    "supported by this build (it needs nettle 3.9 or later)");
#endif
	bad("ke-aead 15 16\n", "t.conf:1: ke-aead: AEAD 16 (AEAD_AES_SIV_CMAC_384) is not "
	    "supported by this build");
	bad("ke-aead 15 31\n", "t.conf:1: ke-aead: unknown AEAD '31' (an IANA name such as "
	    "AEAD_AES_SIV_CMAC_256, or its number)");
	bad("ke-aead AES-SIV\n", "t.conf:1: ke-aead: unknown AEAD 'AES-SIV' (an IANA name "
	    "such as AEAD_AES_SIV_CMAC_256, or its number)");
	/* the unit runner's private-use test AEAD is no configurable one */
	bad("ke-aead 15 65292\n", "t.conf:1: ke-aead: unknown AEAD '65292' (an IANA name "
	    "such as AEAD_AES_SIV_CMAC_256, or its number)");
	bad("ke-aead 15 65536\n", "t.conf:1: ke-aead: 65536 out of range (0-65535)");
	bad("ke-aead 15 17 15\n", "t.conf:1: ke-aead: AEAD 15 listed twice");
	bad("ke-aead 17\n", "t.conf:1: ke-aead: the list must include AEAD_AES_SIV_CMAC_256 "
	    "(15), which RFC 8915 requires every server to support");
	bad("ke-aead 15\nke-aead 17\n", "t.conf:2: ke-aead: duplicate directive (first set on line 1)");
}

static void test_durations(void)
{
	struct config c;

	CU_ASSERT_EQUAL(config_parse_duration("0"), 0);
	CU_ASSERT_EQUAL(config_parse_duration("30"), 30);
	CU_ASSERT_EQUAL(config_parse_duration("30s"), 30);
	CU_ASSERT_EQUAL(config_parse_duration("15m"), 900);
	CU_ASSERT_EQUAL(config_parse_duration("12h"), 43200);
	CU_ASSERT_EQUAL(config_parse_duration("7d"), 604800);
	CU_ASSERT_EQUAL(config_parse_duration("2w"), 1209600);
	CU_ASSERT_EQUAL(config_parse_duration(""), -1);
	CU_ASSERT_EQUAL(config_parse_duration("s"), -1);
	CU_ASSERT_EQUAL(config_parse_duration("-5"), -1);
	CU_ASSERT_EQUAL(config_parse_duration("5x"), -1);
	CU_ASSERT_EQUAL(config_parse_duration("5ss"), -1);
	CU_ASSERT_EQUAL(config_parse_duration("5 s"), -1);
	CU_ASSERT_EQUAL(config_parse_duration("1.5h"), -1);
	CU_ASSERT_EQUAL(config_parse_duration("9223372036854775807"), INT64_MAX);
	CU_ASSERT_EQUAL(config_parse_duration("9223372036854775808"), -1);
	CU_ASSERT_EQUAL(config_parse_duration("9223372036854775807w"), -1);
	CU_ASSERT_EQUAL(config_parse_duration(NULL), -1);

	ok(&c, "key-propagation 0\n");
	CU_ASSERT_EQUAL(c.key_propagation_s, 0);
	config_free(&c);
	ok(&c, "key-propagation 365d\n");
	CU_ASSERT_EQUAL(c.key_propagation_s, 365 * 86400);
	config_free(&c);
	bad("key-propagation 366d\n", "t.conf:1: key-propagation: 366d out of range (at most 365d)");
	bad("key-propagation 1y\n",
	    "t.conf:1: key-propagation: bad duration '1y' (e.g. 30s, 15m, 12h, 7d, 2w)");

	ok(&c, "key-max-age 26h\n");
	CU_ASSERT_EQUAL(c.key_max_age_s, 26 * 3600);
	config_free(&c);
	ok(&c, "key-max-age off\n");
	CU_ASSERT_EQUAL(c.key_max_age_s, 0);
	config_free(&c);
	bad("key-max-age 366d\n", "t.conf:1: key-max-age: 366d out of range (at most 365d)");
	bad("key-max-age never\n",
	    "t.conf:1: key-max-age: bad duration 'never' (e.g. off, 26h, 2d)");

	ok(&c, "shutdown-drain 0\n");
	CU_ASSERT_EQUAL(c.shutdown_drain_s, 0);
	config_free(&c);
	ok(&c, "shutdown-drain 1h\n");
	CU_ASSERT_EQUAL(c.shutdown_drain_s, 3600);
	config_free(&c);
	bad("shutdown-drain 3601\n", "t.conf:1: shutdown-drain: 3601 out of range (at most 1h)");
	bad("shutdown-drain -1\n",
	    "t.conf:1: shutdown-drain: bad duration '-1' (e.g. 0, 5s, 30s, 2m)");
}

static void test_strings(void)
{
	struct config c;

	ok(&c, "pid-file none\n");
	CU_ASSERT_PTR_NULL(c.pid_file);
	config_free(&c);
	ok(&c, "user _ntsd-1.x\nke-ntp-server 2001:db8::123\n");
	CU_ASSERT_STRING_EQUAL(c.user, "_ntsd-1.x");
	CU_ASSERT_EQUAL_FATAL(c.n_ke_ntp_servers, 1);
	CU_ASSERT_STRING_EQUAL(c.ke_ntp_servers[0], "2001:db8::123");
	config_free(&c);
	bad("user -x\n", "t.conf:1: user: bad user name '-x'");
	bad("user a/b\n", "t.conf:1: user: bad user name 'a/b'");
	bad("user aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "t.conf:1: user: bad user name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'");
}

/* ke-ntp-server: repeatable, each a name section 4.1.7 allows, once. */
static void test_ke_ntp_servers(void)
{
	static const char *const bad_hosts[] = {
		"[::1]", "a,b", "fe80::1%eth0", "192.0.2.300", "1.2.3", "-a.example",
		"a-.example", "a..example", "a_b.example", ".",
	};
	struct config c;
	char text[400], want[400];

	ok(&c, "ke-ntp-server ntp.example.net.\nke-ntp-server 192.0.2.1\n"
	       "ke-ntp-server 2001:DB8::1\nke-ntp-server xn--bcher-kva.example\n");
	CU_ASSERT_EQUAL_FATAL(c.n_ke_ntp_servers, 4);
	CU_ASSERT_STRING_EQUAL(c.ke_ntp_servers[0], "ntp.example.net.");
	CU_ASSERT_STRING_EQUAL(c.ke_ntp_servers[2], "2001:DB8::1");
	config_free(&c);
	CU_ASSERT_EQUAL(c.n_ke_ntp_servers, 0);
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
		snprintf(text, sizeof(text), "ke-ntp-server %s\n", bad_hosts[i]);
		snprintf(want, sizeof(want), "t.conf:1: ke-ntp-server: bad host '%s' (a domain "
			 "name, an IPv4 address or an IPv6 address without brackets or zone)",
			 bad_hosts[i]);
		bad(text, want);
	}
	bad("ke-ntp-server NTP.example.net\nke-ntp-server ntp.example.net.\n",
	    "t.conf:2: ke-ntp-server: 'ntp.example.net.' listed twice");
	bad("ke-ntp-server 2001:db8::1\nke-ntp-server 2001:db8:0::1\n",
	    "t.conf:2: ke-ntp-server: '2001:db8:0::1' listed twice");
	bad("ke-ntp-server a1\nke-ntp-server a2\nke-ntp-server a3\nke-ntp-server a4\n"
	    "ke-ntp-server a5\nke-ntp-server a6\nke-ntp-server a7\nke-ntp-server a8\n"
	    "ke-ntp-server a9\n",
	    "t.conf:9: ke-ntp-server: too many entries (at most 8)");

	/* 253 octets in labels of 63 is the longest name; 256 is too long. */
	memcpy(text, "ke-ntp-server ", 14);
	memset(text + 14, 'a', 253);
	for (size_t i = 63; i < 253; i += 64)
		text[14 + i] = '.';
	strcpy(text + 14 + 253, "\n");
	ok(&c, text);
	CU_ASSERT_EQUAL_FATAL(c.n_ke_ntp_servers, 1);
	CU_ASSERT_EQUAL(strlen(c.ke_ntp_servers[0]), 253);
	config_free(&c);
	memset(text + 14, 'a', 256);
	strcpy(text + 14 + 256, "\n");
	bad(text, "t.conf:1: ke-ntp-server: host longer than 255 bytes");
}

static void test_log_level(void)
{
	struct config c;

	bad("log-level warn\n",
	    "t.conf:1: log-level: unknown level 'warn' (error, warning, notice, info, debug)");
	ok(&c, "log-level error\n");
	CU_ASSERT_EQUAL(c.log_level, LOG_LVL_ERR);
	config_free(&c);
	ok(&c, "log-level notice\n");
	CU_ASSERT_EQUAL(c.log_level, LOG_LVL_NOTICE);
	config_free(&c);
}

static void test_error_quotes_are_bounded(void)
{
	/* A long bad value is quoted in part; the message stays one line. */
	char text[1100];
	struct config c;
	struct config_error err;

	memcpy(text, "ntp-service ", 12);
	memset(text + 12, 'z', 1000);
	text[1012] = '\0';
	config_init(&c);
	CU_ASSERT_EQUAL(config_parse(&c, text, strlen(text), "t.conf", &err), -1);
	CU_ASSERT_EQUAL(strncmp(err.msg, "t.conf:1: ntp-service: 'zzzz", 28), 0);
	CU_ASSERT_TRUE(strlen(err.msg) < 200);
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
	config_free(&c);
	/* No error struct: still -1, no crash. */
	config_init(&c);
	CU_ASSERT_EQUAL(config_parse(&c, "bogus\n", 6, "t.conf", NULL), -1);
	config_free(&c);
}

static void test_partial_parse_freed(void)
{
	/* On error the strings parsed so far belong to the caller. */
	struct config c;
	struct config_error err;

	CU_ASSERT_EQUAL(parse(&c, "ke-certificate /a\nuser u\nkey-file /k\nbogus\n", &err), -1);
	CU_ASSERT_STRING_EQUAL(c.ke_certificate, "/a");
	CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:4: unknown directive 'bogus'");
	config_free(&c);
	CU_ASSERT_PTR_NULL(c.ke_certificate);
	CU_ASSERT_PTR_NULL(c.user);
}

static bool client_allowed(const struct acl *acl, const char *addr)
{
	struct netaddr a;

	CU_ASSERT_EQUAL_FATAL(netaddr_parse(addr, 123, &a), 0);
	return acl_allows(acl, &a);
}

static void test_access_rules(void)
{
	struct config c;

	/* A private network: deny everything, allow one prefix per family. */
	ok(&c, "ntp-deny 0.0.0.0/0\nntp-deny ::/0\nntp-allow 10.0.0.0/16\n"
	       "ntp-allow fd00:10::/48\nntp-allow 127.0.0.1\n");
	CU_ASSERT_PTR_NULL(c.ke_acl);
	CU_ASSERT_EQUAL(acl_count(c.ntp_acl), 5);
	CU_ASSERT_TRUE(client_allowed(c.ntp_acl, "10.0.255.1"));
	CU_ASSERT_TRUE(client_allowed(c.ntp_acl, "127.0.0.1"));
	CU_ASSERT_TRUE(client_allowed(c.ntp_acl, "::ffff:10.0.3.4"));
	CU_ASSERT_TRUE(client_allowed(c.ntp_acl, "fd00:10:0:1::5"));
	CU_ASSERT_FALSE(client_allowed(c.ntp_acl, "10.1.0.1"));
	CU_ASSERT_FALSE(client_allowed(c.ntp_acl, "127.0.0.2"));
	CU_ASSERT_FALSE(client_allowed(c.ntp_acl, "2001:db8::1"));
	CU_ASSERT_TRUE(client_allowed(c.ke_acl, "2001:db8::1"));	/* NULL: no rules */
	config_free(&c);
	CU_ASSERT_PTR_NULL(c.ntp_acl);

	/* Most specific wins whatever the order of the lines; an IPv4 allow
	 * rule without one for 0.0.0.0/0 denies the rest of IPv4. */
	ok(&c, "ke-allow 192.0.2.7\nke-deny 192.0.2.0/24\n");
	CU_ASSERT_TRUE(client_allowed(c.ke_acl, "192.0.2.7"));
	CU_ASSERT_FALSE(client_allowed(c.ke_acl, "192.0.2.8"));
	CU_ASSERT_FALSE(client_allowed(c.ke_acl, "192.0.3.1"));
	CU_ASSERT_TRUE(client_allowed(c.ke_acl, "2001:db8::1"));	/* no IPv6 rule */
	CU_ASSERT_PTR_NULL(c.ntp_acl);
	config_free(&c);

	/* The same prefix in the two services is two rules. */
	ok(&c, "ntp-deny 198.51.100.0/24\nke-deny 198.51.100.0/24\n");
	CU_ASSERT_EQUAL(acl_count(c.ntp_acl), 1);
	CU_ASSERT_EQUAL(acl_count(c.ke_acl), 1);
	config_free(&c);

	bad("ntp-deny 10.0.0.1/8\n", "t.conf:1: ntp-deny: bad prefix '10.0.0.1/8' (an IPv4 or "
	    "IPv6 address, optionally /LENGTH, with no bits set past LENGTH)");
	bad("#\nntp-allow 10.0.0.0/33\n", "t.conf:2: ntp-allow: bad prefix '10.0.0.0/33' (an IPv4 "
	    "or IPv6 address, optionally /LENGTH, with no bits set past LENGTH)");
	bad("ke-allow localhost\n", "t.conf:1: ke-allow: bad prefix 'localhost' (an IPv4 or "
	    "IPv6 address, optionally /LENGTH, with no bits set past LENGTH)");
	bad("ke-deny 2001:db8::/129\n", "t.conf:1: ke-deny: bad prefix '2001:db8::/129' (an "
	    "IPv4 or IPv6 address, optionally /LENGTH, with no bits set past LENGTH)");
	bad("ke-deny 10.0.0.0/\n", "t.conf:1: ke-deny: bad prefix '10.0.0.0/' (an IPv4 or IPv6 "
	    "address, optionally /LENGTH, with no bits set past LENGTH)");
	bad("ke-deny 10.0.0.0/-8\n", "t.conf:1: ke-deny: bad prefix '10.0.0.0/-8' (an IPv4 or "
	    "IPv6 address, optionally /LENGTH, with no bits set past LENGTH)");
	bad("ntp-deny ::ffff:10.0.0.0/104\n", "t.conf:1: ntp-deny: bad prefix "
	    "'::ffff:10.0.0.0/104' (write IPv4-mapped prefixes in IPv4 form)");
	/* the same prefix in hex: it too would never match (fuzz_netaddr) */
	bad("ntp-deny ::ffff:a00:0/104\n", "t.conf:1: ntp-deny: bad prefix "
	    "'::ffff:a00:0/104' (write IPv4-mapped prefixes in IPv4 form)");
	bad("ntp-allow 10.0.0.0/8\nntp-deny 10.0.0.0/8\n",
	    "t.conf:2: ntp-deny: prefix '10.0.0.0/8' already has a rule");
	bad("ke-deny ::/0\nke-deny ::/0\n", "t.conf:2: ke-deny: prefix '::/0' already has a rule");
	bad("ntp-allow\n", "t.conf:1: ntp-allow: missing argument (usage: ntp-allow CIDR)");
	bad("ntp-allow 10.0.0.0/8 10.1.0.0/16\n",
	    "t.conf:1: ntp-allow: too many arguments (usage: ntp-allow CIDR)");
}

/* ke-proxy-protocol CIDR...: several on a line, repeatable; an address
 * no prefix covers is not a balancer whatever its family. */
static void test_ke_proxy_protocol(void)
{
	struct config c;
	struct netaddr a;

	ok(&c, "ke-service no\n");
	CU_ASSERT_PTR_NULL(c.ke_proxy);
	config_free(&c);
	ok(&c, "ke-proxy-protocol 10.0.0.5 10.1.0.0/16\nke-proxy-protocol fd00::/8\n");
	CU_ASSERT_EQUAL(acl_count(c.ke_proxy), 3);
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("10.1.2.3", 4460, &a), 0);
	CU_ASSERT_TRUE(acl_matches(c.ke_proxy, &a));
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("10.0.0.6", 4460, &a), 0);
	CU_ASSERT_FALSE(acl_matches(c.ke_proxy, &a));
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("fd12::1", 4460, &a), 0);
	CU_ASSERT_TRUE(acl_matches(c.ke_proxy, &a));
	CU_ASSERT_EQUAL_FATAL(netaddr_parse("2001:db8::1", 4460, &a), 0);
	CU_ASSERT_FALSE(acl_matches(c.ke_proxy, &a));
	CU_ASSERT_PTR_NULL(c.ke_acl);
	config_free(&c);
	CU_ASSERT_PTR_NULL(c.ke_proxy);
	bad("#\nke-proxy-protocol\n", "t.conf:2: ke-proxy-protocol: missing argument (usage: "
	    "ke-proxy-protocol CIDR...)");
	bad("ke-proxy-protocol 10.0.0.5 lb.example\n", "t.conf:1: ke-proxy-protocol: bad prefix "
	    "'lb.example' (an IPv4 or IPv6 address, optionally /LENGTH, with no bits set past "
	    "LENGTH)");
	bad("ke-proxy-protocol 10.0.0.0/8\nke-proxy-protocol ::/0 10.0.0.0/8\n",
	    "t.conf:2: ke-proxy-protocol: prefix '10.0.0.0/8' already listed");
	bad("ke-proxy-protocol ::ffff:10.0.0.1\n", "t.conf:1: ke-proxy-protocol: bad prefix "
	    "'::ffff:10.0.0.1' (write IPv4-mapped prefixes in IPv4 form)");
}

static void test_metrics_listen(void)
{
	struct config c;
	char s[NETADDR_STRLEN];

	ok(&c, "metrics-listen ::1 65535\n");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.metrics_listen, s, sizeof(s)), "[::1]:65535");
	config_free(&c);
	ok(&c, "metrics-listen [fe80::1%2] 1\n");
	CU_ASSERT_EQUAL(netaddr_family(&c.metrics_listen), AF_INET6);
	CU_ASSERT_EQUAL(netaddr_port(&c.metrics_listen), 1);
	config_free(&c);
	bad("metrics-listen 127.0.0.1\n",
	    "t.conf:1: metrics-listen: missing argument (usage: metrics-listen ADDRESS PORT)");
	bad("metrics-listen 127.0.0.1 0\n", "t.conf:1: metrics-listen: 0 out of range (1-65535)");
	bad("metrics-listen 127.0.0.1 http\n",
	    "t.conf:1: metrics-listen: 'http' is not a number");
	bad("metrics-listen * 9123\n",
	    "t.conf:1: metrics-listen: bad address '*' (an IPv4 or IPv6 literal)");
	bad("metrics-listen localhost 9123\n",
	    "t.conf:1: metrics-listen: bad address 'localhost' (an IPv4 or IPv6 literal)");
	bad("metrics-listen 127.0.0.1 9123\nmetrics-listen ::1 9123\n",
	    "t.conf:2: metrics-listen: duplicate directive (first set on line 1)");
}

static void test_clock_source(void)
{
	struct config c;
	char s[NETADDR_STRLEN];

	config_init(&c);
	CU_ASSERT_EQUAL(c.clock_source.len, 0);	/* kernel */
	CU_ASSERT_EQUAL(c.clock_source_poll_s, 4);
	ok(&c, "clock-source ntp 127.0.0.1 11123\nclock-source-poll 1\n");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.clock_source, s, sizeof(s)), "127.0.0.1:11123");
	CU_ASSERT_EQUAL(c.clock_source_line, 1);
	CU_ASSERT_EQUAL(c.clock_source_poll_s, 1);
	config_free(&c);
	ok(&c, "clock-source ntp ::1\n");
	CU_ASSERT_STRING_EQUAL(netaddr_str(&c.clock_source, s, sizeof(s)), "[::1]:123");
	config_free(&c);
	ok(&c, "clock-source kernel\n");
	CU_ASSERT_EQUAL(c.clock_source.len, 0);
	config_free(&c);
	bad("clock-source\n", "t.conf:1: clock-source: missing argument (usage: clock-source "
	    "kernel|ntp ADDRESS [PORT])");
	bad("clock-source ntp\n", "t.conf:1: clock-source: ntp needs an ADDRESS (usage: "
	    "clock-source kernel|ntp ADDRESS [PORT])");
	bad("clock-source kernel 1\n", "t.conf:1: clock-source: kernel takes no argument (usage: "
	    "clock-source kernel|ntp ADDRESS [PORT])");
	bad("clock-source chrony\n", "t.conf:1: clock-source: 'chrony' is neither kernel nor ntp "
	    "(usage: clock-source kernel|ntp ADDRESS [PORT])");
	bad("clock-source ntp localhost\n",
	    "t.conf:1: clock-source: bad address 'localhost' (an IPv4 or IPv6 literal)");
	bad("clock-source ntp 127.0.0.1 0\n", "t.conf:1: clock-source: 0 out of range (1-65535)");
	bad("clock-source ntp 127.0.0.1 1 2\n", "t.conf:1: clock-source: too many arguments "
	    "(usage: clock-source kernel|ntp ADDRESS [PORT])");
	bad("clock-source kernel\nclock-source kernel\n",
	    "t.conf:2: clock-source: duplicate directive (first set on line 1)");
	bad("clock-source-poll 0\n", "t.conf:1: clock-source-poll: 0 out of range (1-64)");
	bad("clock-source-poll 65\n", "t.conf:1: clock-source-poll: 65 out of range (1-64)");
}

/* clock-source naming ntsd's own NTP listener is refused: it would serve
 * its own answers back to itself. */
static void test_clock_source_not_self(void)
{
	static const struct {
		const char *text;
		const char *msg;	/* NULL: valid */
	} cases[] = {
		{ "ke-service no\nclock-source ntp 127.0.0.1\n",
		  "v.conf:2: clock-source: 127.0.0.1:123 is ntsd's own ntp-listen address; point "
		  "it at the discipline daemon (e.g. chronyd with port 11123)" },
		{ "ke-service no\nclock-source ntp ::1\n",
		  "v.conf:2: clock-source: [::1]:123 is ntsd's own ntp-listen address; point it at "
		  "the discipline daemon (e.g. chronyd with port 11123)" },
		{ "ke-service no\nclock-source ntp 127.0.0.1 11123\n", NULL },
		{ "ke-service no\nntp-listen 127.0.0.1 11123\nclock-source ntp 127.0.0.1 11123\n",
		  "v.conf:3: clock-source: 127.0.0.1:11123 is ntsd's own ntp-listen address; point "
		  "it at the discipline daemon (e.g. chronyd with port 11123)" },
		{ "ke-service no\nntp-listen 127.0.0.2 11123\nclock-source ntp 127.0.0.1 11123\n",
		  NULL },
		{ "ke-service no\nntp-listen 0.0.0.0 123\nclock-source ntp 127.0.0.5 123\n",
		  "v.conf:3: clock-source: 127.0.0.5:123 is ntsd's own ntp-listen address; point "
		  "it at the discipline daemon (e.g. chronyd with port 11123)" },
		/* A wildcard listener does not take another host's packets. */
		{ "ke-service no\nntp-listen 0.0.0.0 123\nclock-source ntp 192.0.2.1\n", NULL },
		{ "ke-service no\nntp-listen :: 123\nclock-source ntp 127.0.0.1\n", NULL },
		{ "ke-service no\nntp-listen :: 123\nclock-source ntp ::1\n",
		  "v.conf:3: clock-source: [::1]:123 is ntsd's own ntp-listen address; point it at "
		  "the discipline daemon (e.g. chronyd with port 11123)" },
		/* Nothing served, nothing looped. */
		{ "ke-certificate /c\nke-private-key /k\nntp-service no\n"
		  "clock-source ntp 127.0.0.1\n", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		struct config_error err = { "" };
		int rc;

		ok(&c, cases[i].text);
		rc = config_validate(&c, "v.conf", &err);
		CU_ASSERT_EQUAL(rc, cases[i].msg ? -1 : 0);
		if (cases[i].msg && strcmp(err.msg, cases[i].msg) != 0)
			fprintf(stderr, "\n  case %zu: got %s\n", i, err.msg);
		if (cases[i].msg)
			CU_ASSERT_STRING_EQUAL(err.msg, cases[i].msg);
		config_free(&c);
	}
}

static void test_validate(void)
{
	struct config c;
	struct config_error err;

	config_init(&c);
	CU_ASSERT_EQUAL(config_validate(&c, "v.conf", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "v.conf: ke-service is on but ke-certificate is not set");
	config_free(&c);

	ok(&c, "ke-certificate /c\n");
	CU_ASSERT_EQUAL(config_validate(&c, "v.conf", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "v.conf: ke-service is on but ke-private-key is not set");
	config_free(&c);

	ok(&c, "ke-certificate /c\nke-private-key /k\n");
	CU_ASSERT_EQUAL(config_validate(&c, "v.conf", &err), 0);
	config_free(&c);

	ok(&c, "ke-service no\n");
	CU_ASSERT_EQUAL(config_validate(&c, "v.conf", &err), 0);
	config_free(&c);

	ok(&c, "ke-service no\nntp-service no\n");
	CU_ASSERT_EQUAL(config_validate(&c, "v.conf", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg,
			       "v.conf: ntp-service and ke-service are both off: nothing to run");
	config_free(&c);

	/* Structs built in code get the same range checks. */
	ok(&c, "ke-service no\n");
	c.stratum = 16;
	CU_ASSERT_EQUAL(config_validate(&c, "v.conf", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "v.conf: stratum 16 out of range (1-15)");
	c.stratum = 2;
	c.local_stratum = 0;
	CU_ASSERT_EQUAL(config_validate(&c, "v.conf", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "v.conf: local-stratum 0 out of range (1-15)");
	c.local_stratum = 5;
	CU_ASSERT_EQUAL(config_validate(&c, "v.conf", &err), 0);
	config_free(&c);
}

static int write_temp(char *path, const void *data, size_t len)
{
	int fd = mkstemp(path);
	int ret = -1;

	if (fd < 0)
		return -1;
	if (write(fd, data, len) == (ssize_t)len)
		ret = 0;
	close(fd);
	return ret;
}

static void test_load(void)
{
	char path[] = "/tmp/ntsd-test-config-XXXXXX";
	char want[512];
	struct config c;
	struct config_error err;
	static const char text[] = "stratum 5\nbogus\n";
	size_t big = 1024 * 1024 + 1;
	char *buf;

	CU_ASSERT_EQUAL_FATAL(write_temp(path, "stratum 5\nthreads 2\n", 20), 0);
	CU_ASSERT_EQUAL(config_load(&c, path, &err), 0);
	CU_ASSERT_EQUAL(c.stratum, 5);
	CU_ASSERT_EQUAL(c.threads, 2);
	config_free(&c);
	unlink(path);

	strcpy(path, "/tmp/ntsd-test-config-XXXXXX");
	CU_ASSERT_EQUAL_FATAL(write_temp(path, text, sizeof(text) - 1), 0);
	CU_ASSERT_EQUAL(config_load(&c, path, &err), -1);
	snprintf(want, sizeof(want), "%s:2: unknown directive 'bogus'", path);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	config_free(&c);
	unlink(path);

	CU_ASSERT_EQUAL(config_load(&c, "/nonexistent/ntsd.conf", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg,
			       "/nonexistent/ntsd.conf: cannot open: No such file or directory");
	config_free(&c);
	CU_ASSERT_EQUAL(config_load(&c, "/tmp", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "/tmp: cannot read: Is a directory");
	config_free(&c);

	/* Exactly 1 MiB of comments is fine; one byte more is not. */
	buf = malloc(big);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	memset(buf, '#', big);
	for (size_t i = 1000; i < big; i += 1000)
		buf[i] = '\n';
	strcpy(path, "/tmp/ntsd-test-config-XXXXXX");
	CU_ASSERT_EQUAL_FATAL(write_temp(path, buf, big - 1), 0);
	CU_ASSERT_EQUAL(config_load(&c, path, &err), 0);
	config_free(&c);
	unlink(path);
	strcpy(path, "/tmp/ntsd-test-config-XXXXXX");
	CU_ASSERT_EQUAL_FATAL(write_temp(path, buf, big), 0);
	CU_ASSERT_EQUAL(config_load(&c, path, &err), -1);
	snprintf(want, sizeof(want), "%s: file too large (at most 1048576 bytes)", path);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	config_free(&c);
	unlink(path);
	free(buf);
}

/* Every directive the parser knows, in the order of its table. */
static const char *const all_directives[] = {
	"clock-source", "clock-source-poll", "cpu-steering", "hw-timestamp", "interleaved-table",
	"ke-aead", "ke-allow", "ke-certificate", "ke-deny", "ke-listen", "ke-max-sessions",
	"ke-max-sessions-per-address", "ke-ntp-port", "ke-ntp-server", "ke-private-key",
	"ke-proxy-protocol", "ke-rate-limit", "ke-service", "ke-threads", "ke-timeout", "key-file",
	"key-file-create", "key-max-age", "key-propagation",
	"local-stratum", "log-level", "metrics-listen", "ntp-allow", "ntp-busy-poll", "ntp-deny",
	"ntp-listen", "ntp-service", "ntp-xdp", "pid-file", "rate-limit", "rate-limit-prefix",
	"rate-limit-table", "refid",
	"sandbox", "shutdown-drain", "stratum", "threads", "user",
};

static char *read_man_page(void)
{
	char path[4096];
	FILE *f;
	char *text;
	size_t n;

	snprintf(path, sizeof(path), "%s/doc/ntsd.conf.5", unit_srcdir());
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	text = calloc(1, 256 * 1024);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	n = fread(text, 1, 256 * 1024 - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* The man page documents each directive the parser knows, as a tagged
 * paragraph of its own, and its examples parse. */
static void test_man_page_matches(void)
{
	char *man = read_man_page();
	char want[128];
	size_t n_tags = 0;

	for (size_t i = 0; i < sizeof(all_directives) / sizeof(all_directives[0]); i++) {
		const char *d = all_directives[i];
		struct config c;
		struct config_error err;
		char line[64];
		bool found = false;

		/* Known to the parser: no argument gives "missing argument". */
		snprintf(line, sizeof(line), "%s\n", d);
		CU_ASSERT_EQUAL(parse(&c, line, &err), -1);
		snprintf(want, sizeof(want), "t.conf:1: %s: missing argument", d);
		CU_ASSERT_EQUAL(strncmp(err.msg, want, strlen(want)), 0);
		config_free(&c);

		/* Documented: ".TP" then a line ".B name", ".BI name" or ".BR name". */
		for (const char *p = strstr(man, ".TP\n"); p; p = strstr(p + 1, ".TP\n")) {
			const char *tag = p + 4;
			const char *sp = strchr(tag, ' ');
			size_t len = strlen(d);

			if (!sp || sp - tag > 3 || strncmp(sp + 1, d, len) != 0)
				continue;
			if (sp[1 + len] == ' ' || sp[1 + len] == '\n')
				found = true;
		}
		if (!found)
			fprintf(stderr, "\nnot documented in doc/ntsd.conf.5: %s\n", d);
		CU_ASSERT_TRUE(found);
	}
	/* No directive documented that the parser does not know: every tag
	 * from SERVICES up to EXAMPLE names one. */
	{
		const char *p = strstr(man, "\n.SH SERVICES");
		const char *stop = strstr(man, "\n.SH EXAMPLE");

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_PTR_NOT_NULL_FATAL(stop);
		while ((p = strstr(p, "\n.TP\n")) && p < stop) {
			struct config c;
			struct config_error err;
			char word[64];

			p += 5;
			if (sscanf(p, "%*s %63s", word) != 1)
				continue;
			n_tags++;
			snprintf(want, sizeof(want), "%s\n", word);
			CU_ASSERT_EQUAL(parse(&c, want, &err), -1);
			if (strstr(err.msg, "unknown directive"))
				fprintf(stderr, "\ndocumented but unknown: %s\n", word);
			CU_ASSERT_PTR_NULL(strstr(err.msg, "unknown directive"));
			config_free(&c);
		}
	}
	CU_ASSERT_EQUAL(n_tags, sizeof(all_directives) / sizeof(all_directives[0]));

	/* Each example between .RS and .RE parses and validates. */
	{
		size_t n_examples = 0;

		for (const char *p = strstr(man, "\n.SH EXAMPLE"); p && (p = strstr(p, ".RS\n"));) {
			const char *end = strstr(p, ".RE\n");
			struct config c;
			struct config_error err = { "" };

			CU_ASSERT_PTR_NOT_NULL_FATAL(end);
			p += 4;
			config_init(&c);
			CU_ASSERT_EQUAL(config_parse(&c, p, (size_t)(end - p), "example", &err), 0);
			CU_ASSERT_EQUAL(config_validate(&c, "example", &err), 0);
			if (err.msg[0])
				fprintf(stderr, "\nexample: %s\n", err.msg);
			config_free(&c);
			n_examples++;
			p = end;
		}
		CU_ASSERT_EQUAL(n_examples, 3);
	}
	free(man);
}

/* What SIGHUP names as needing a restart (issue 17 part 4). */
static void test_changed(void)
{
	struct config a, b;
	const char *names[8];

	ok(&a, "threads 2\nntp-listen 127.0.0.1 123\nntp-listen ::1\nntp-allow 10.0.0.0/8\n"
	       "log-level info\n");
	/* Spacing, comments and the order of different directives: no change. */
	ok(&b, "ntp-allow 10.0.0.0/8   # ours\nthreads\t2\nntp-listen 127.0.0.1 123\n"
	       "log-level info\nntp-listen ::1\n");
	CU_ASSERT_EQUAL(config_changed(&a, &b, names, 8), 0);
	config_free(&b);

	/* A changed value, one added, one removed, a repeated line changed. */
	ok(&b, "threads 4\nntp-listen 127.0.0.1 123\nntp-listen ::1 1123\nntp-allow 10.0.0.0/8\n"
	       "ke-timeout 2\n");
	CU_ASSERT_EQUAL_FATAL(config_changed(&a, &b, names, 8), 4);
	CU_ASSERT_STRING_EQUAL(names[0], "ke-timeout");
	CU_ASSERT_STRING_EQUAL(names[1], "log-level");
	CU_ASSERT_STRING_EQUAL(names[2], "ntp-listen");
	CU_ASSERT_STRING_EQUAL(names[3], "threads");
	/* At most max names, but the count of them all. */
	CU_ASSERT_EQUAL(config_changed(&a, &b, names, 1), 4);
	CU_ASSERT_STRING_EQUAL(names[0], "ke-timeout");
	config_free(&b);

	/* Repeated lines in another order are another list. */
	ok(&b, "threads 2\nntp-listen ::1\nntp-listen 127.0.0.1 123\nntp-allow 10.0.0.0/8\n"
	       "log-level info\n");
	CU_ASSERT_EQUAL_FATAL(config_changed(&a, &b, names, 8), 1);
	CU_ASSERT_STRING_EQUAL(names[0], "ntp-listen");
	config_free(&b);
	config_free(&a);
	for (size_t i = 0; i < CONFIG_MAX_DIRECTIVES; i++)
		CU_ASSERT_PTR_NULL(a.given[i]);
}

UNIT_SUITE(config, NULL, NULL,
	UNIT_TEST(test_defaults),
	UNIT_TEST(test_every_directive),
	UNIT_TEST(test_syntax),
	UNIT_TEST(test_errors),
	UNIT_TEST(test_line_limits),
	UNIT_TEST(test_bools),
	UNIT_TEST(test_numbers),
	UNIT_TEST(test_steering),
	UNIT_TEST(test_timestamping),
	UNIT_TEST(test_xdp),
	UNIT_TEST(test_strata),
	UNIT_TEST(test_listen),
	UNIT_TEST(test_refid),
	UNIT_TEST(test_rate_limit),
	UNIT_TEST(test_rate_limit_prefix),
	UNIT_TEST(test_ke_rate_limit),
	UNIT_TEST(test_ke_timeout),
	UNIT_TEST(test_ke_aead),
	UNIT_TEST(test_durations),
	UNIT_TEST(test_strings),
	UNIT_TEST(test_ke_ntp_servers),
	UNIT_TEST(test_log_level),
	UNIT_TEST(test_error_quotes_are_bounded),
	UNIT_TEST(test_partial_parse_freed),
	UNIT_TEST(test_access_rules),
	UNIT_TEST(test_ke_proxy_protocol),
	UNIT_TEST(test_metrics_listen),
	UNIT_TEST(test_clock_source),
	UNIT_TEST(test_clock_source_not_self),
	UNIT_TEST(test_validate),
	UNIT_TEST(test_load),
	UNIT_TEST(test_man_page_matches),
	UNIT_TEST(test_changed))
