/* itest: shared helpers for the C integration tests. */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "itest.h"

static unsigned n_passed, n_failed;

void itest_report(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s: ", ok ? "PASS" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		n_passed++;
	else
		n_failed++;
}

int itest_finish(void)
{
	printf("%u passed, %u failed\n", n_passed, n_failed);
	return n_failed ? 1 : 0;
}

int itest_tcp_connect(const char *src, uint16_t port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (src) {
		inet_pton(AF_INET, src, &sa.sin_addr);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto out;
	}
	sa.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	return fd;
out:
	close(fd);
	return -1;
}

int itest_tcp_closed(int fd)
{
	char buf[512];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return 1;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
	}
}

void itest_client_hello(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return;
	/* Non-blocking: SSL_connect sends the ClientHello and returns
	 * wanting the server's answer.  SSL_set_fd's BIO does not close fd. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	SSL_set_fd(ssl, fd);
	SSL_set_alpn_protos(ssl, (const unsigned char *)"\x07ntske/1", 8);
	SSL_connect(ssl);
	SSL_free(ssl);
}

void itest_reset(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}
