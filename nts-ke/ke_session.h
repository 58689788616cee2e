/* ke_session: one NTS-KE connection from accept to close (RFC 8915
 * section 4): the PROXY v2 header when the peer is a listed load
 * balancer (then admission, with the header's client), TLS handshake, read the request, handle it (ke_handler),
 * write the response in one TLS record, shut down; one deadline bounds
 * the whole session.  Non-blocking OpenSSL on the thread's libev loop.
 * A thread's sessions live in its struct ke_sessions and only that thread
 * touches them (or another once the loop has stopped). */
#ifndef NTSD_KE_SESSION_H
#define NTSD_KE_SESSION_H

#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>

#include "common/counters.h"
#include "common/log.h"
#include "common/rng.h"
#include "common/snapshot.h"
#include "nts-ke/ke_admit.h"
#include "nts-ke/ke_handler.h"
#include "nts-ke/ke_service.h"
#include "nts-ke/tls_store.h"

/* ke_session_env.ntp_port: send no Port Negotiation record. */
#define KE_SESSION_NO_PORT (-1)

/* What every session of the service uses; borrowed, fixed once threads
 * run. */
struct ke_session_env {
	struct snapshot *keys;		/* struct keyset (the daemon's) */
	struct tls_store *tls;
	struct ke_admit *admit;
	struct snapshot *proxy;		/* struct acl: ke-proxy-protocol; NULL: none */
	const char *const *ntp_servers;	/* ke-ntp-server names, n_ntp_servers */
	size_t n_ntp_servers;
	int ntp_port;			/* or KE_SESSION_NO_PORT */
	const uint16_t *aeads;		/* ke-aead: the AEADs offered */
	size_t n_aeads;
	int64_t propagation_s;
	double timeout_s;		/* the deadline of one session */
	struct log_ratelimit *rl;	/* every line caused by a client */
};

struct ke_session;

/* One thread's sessions: its loop, nonce generator, scratch buffer for
 * responses and counters are theirs to share. */
struct ke_sessions {
	const struct ke_session_env *env;
	struct ev_loop *loop;
	counter_t *cnt;			/* the thread's KE_CNT_COUNT counters */
	struct nonce_gen nonces;
	/* secmem, allocated once: a system call per request would cost
	 * every handshake an mmap, a page fault and an munmap (and the
	 * munmap a TLB shootdown on every core the process runs on). */
	struct cookie_keys *keys_scratch;
	struct ke_session *head;
	uint8_t scratch[KE_RESPONSE_MAX];
};

/* -1 when the nonce generator has no randomness or the session keys'
 * secmem cannot be mapped (errno set). */
int ke_session_init(struct ke_sessions *ss, const struct ke_session_env *env,
		    struct ev_loop *loop, counter_t *cnt);
/* A connection just accepted (fd non-blocking, ownership passes): admit
 * it (ke_admit) and start the handshake, or close it and count why. */
void ke_session_start(struct ke_sessions *ss, int fd, const struct sockaddr *sa,
		      socklen_t sa_len);
/* Close every session (when the loop is not running). */
void ke_session_close_all(struct ke_sessions *ss);
/* ke_session_close_all, then wipe the nonce key.  Safe after a failed
 * init and on a zeroed struct. */
void ke_session_shutdown(struct ke_sessions *ss);

#endif
