/* ke_storm: the attack of faults_test.sh's ke_storm step on the NTS-KE
 * port of a running ntsd at 127.0.0.1, all at once:
 *   STALLED connections from 127.0.0.2 to 127.0.0.9 in turn, which stall:
 *     a third send nothing, a third the first two bytes of a TLS record,
 *     a third a whole ClientHello (the server answers and waits for a
 *     Finished that never comes);
 *   a one-host handshake flood from 127.0.0.10: FLOOD threads, each doing
 *     TLS 1.3 handshakes with ALPN ntske/1 over and over, dropping each
 *     connection once its handshake is done;
 *   RESETS connections from 127.0.0.11 that send a ClientHello or nothing
 *     and reset (SO_LINGER 0), made once the flood runs.
 * Usage: ke_storm PORT SECONDS STALLED RESETS FLOOD
 * Once all is in place it prints "ke_storm: ready: ..." (flushed); the
 * flood goes on for SECONDS, then a "ke_storm: done: ..." line says how
 * many stalled connections the server still held open and what the flood
 * got (handshakes completed and failed), and everything is closed.
 * Exit 0; 1 (a line saying why) when it could not set up; 2 usage.  Needs
 * a descriptor limit above STALLED + 2 * FLOOD + 16. */
#include "build_config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "tests/integration/itest.h"

#define STALL_SOURCES 8
#define FLOOD_MAX 64

static atomic_bool flood_stop;
static atomic_ulong flood_ok, flood_failed;

struct flood_thread {
	pthread_t tid;
	SSL_CTX *ctx;
	uint16_t port;
};

/* One TLS 1.3 handshake with ALPN ntske/1 from 127.0.0.10, as an attacker
 * makes it: the certificate not checked, the connection dropped (with a
 * close_notify) as soon as the server's Finished is in. */
static bool flood_handshake(const struct flood_thread *f)
{
	struct timeval tv = { 2, 0 };
	int fd = itest_tcp_connect("127.0.0.10", f->port);
	SSL *ssl;
	bool ok;

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(f->ctx);
	ok = ssl && SSL_set_fd(ssl, fd) == 1 &&
	     SSL_set_alpn_protos(ssl, (const unsigned char *)"\x07ntske/1", 8) == 0 &&
	     SSL_connect(ssl) == 1;
	if (ok)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	return ok;
}

static void *flood_run(void *arg)
{
	const struct flood_thread *f = arg;

	while (!atomic_load(&flood_stop)) {
		if (flood_handshake(f))
			atomic_fetch_add(&flood_ok, 1);
		else
			atomic_fetch_add(&flood_failed, 1);
	}
	return NULL;
}

static unsigned long number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v > max) {
		fprintf(stderr, "ke_storm: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

/* STALLED connections into fds, each stalling its way; how many opened. */
static unsigned stall(SSL_CTX *ctx, uint16_t port, int *fds, unsigned n)
{
	char src[32];
	unsigned opened = 0;

	for (unsigned i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "127.0.0.%u", 2 + i % STALL_SOURCES);
		fds[i] = itest_tcp_connect(src, port);
		if (fds[i] < 0)
			continue;
		opened++;
		if (i % 3 == 1)
			send(fds[i], "\x16\x03", 2, MSG_NOSIGNAL);
		else if (i % 3 == 2)
			itest_client_hello(ctx, fds[i]);
	}
	return opened;
}

static unsigned resets(SSL_CTX *ctx, uint16_t port, unsigned n)
{
	unsigned made = 0;
	int fd;

	for (unsigned i = 0; i < n; i++) {
		fd = itest_tcp_connect("127.0.0.11", port);
		if (fd < 0)
			continue;
		if (i % 2 == 0)
			itest_client_hello(ctx, fd);
		itest_reset(fd);
		made++;
	}
	return made;
}

int main(int argc, char **argv)
{
	static struct flood_thread flood[FLOOD_MAX];
	unsigned long seconds, n_stalled, n_resets, n_flood;
	unsigned opened, reset, started = 0, held = 0;
	uint16_t port;
	SSL_CTX *ctx;
	int *fds;

	if (argc != 6) {
		fprintf(stderr, "Usage: ke_storm PORT SECONDS STALLED RESETS FLOOD\n");
		return 2;
	}
	port = (uint16_t)number(argv[1], 65535);
	seconds = number(argv[2], 600);
	n_stalled = number(argv[3], 100000);
	n_resets = number(argv[4], 100000);
	n_flood = number(argv[5], FLOOD_MAX);
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_client_method());
	fds = calloc(n_stalled ? n_stalled : 1, sizeof(*fds));
	if (!ctx || !fds) {
		fprintf(stderr, "ke_storm: out of memory\n");
		return 1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	opened = stall(ctx, port, fds, (unsigned)n_stalled);
	if (opened < n_stalled) {
		fprintf(stderr, "ke_storm: only %u of %lu stalled connections opened: %s\n", opened,
			n_stalled, strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < n_flood; i++) {
		flood[i].ctx = ctx;
		flood[i].port = port;
		if (pthread_create(&flood[i].tid, NULL, flood_run, &flood[i]) != 0)
			break;
		started++;
	}
	reset = resets(ctx, port, (unsigned)n_resets);
	printf("ke_storm: ready: %u stalled connections from 127.0.0.2-%u open "
	       "(nothing, 2 bytes, a ClientHello), %u resets from 127.0.0.11, "
	       "%u flood threads from 127.0.0.10\n", opened, 1 + STALL_SOURCES, reset, started);
	fflush(stdout);
	sleep((unsigned)seconds);
	atomic_store(&flood_stop, true);
	for (unsigned i = 0; i < started; i++)
		pthread_join(flood[i].tid, NULL);
	for (unsigned i = 0; i < n_stalled; i++) {
		held += !itest_tcp_closed(fds[i]);
		close(fds[i]);
	}
	printf("ke_storm: done: the server held %u of %u stalled connections open; "
	       "flood: %lu handshakes completed, %lu failed in %lu s\n", held, opened,
	       atomic_load(&flood_ok), atomic_load(&flood_failed), seconds);
	free(fds);
	SSL_CTX_free(ctx);
	return 0;
}
