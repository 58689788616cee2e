/* itest: the few helpers the C integration tests share: one PASS/FAIL
 * line per case and the closing "N passed, N failed" line, and the plain
 * TCP clients that stall or reset NTS-KE connections. */
#ifndef NTSD_ITEST_H
#define NTSD_ITEST_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

void itest_report(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print the totals; the process exit status (0 when nothing failed). */
int itest_finish(void);

/* A plain TCP connection from src (an IPv4 literal; NULL: any) to
 * 127.0.0.1:port, blocking; the descriptor or -1. */
int itest_tcp_connect(const char *src, uint16_t port);
/* 1 when the peer has closed (EOF or reset), 0 when still open; what it
 * sent (an alert, an Error record, a ServerHello) is drained. */
int itest_tcp_closed(int fd);
/* Send a TLS 1.3 ClientHello with ALPN ntske/1 on fd (made non-blocking)
 * from ctx and leave the handshake there: the server's answer is never
 * read.  fd stays open. */
void itest_client_hello(SSL_CTX *ctx, int fd);
/* Close fd with a reset (SO_LINGER 0). */
void itest_reset(int fd);

#endif
