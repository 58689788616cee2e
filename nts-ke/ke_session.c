/* ke_session: the per-connection state machine of the NTS-KE service. */
#include "build_config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/buf.h"
#include "common/ke_export.h"
#include "nts-ke/ke_session.h"
#include "nts-ke/tls_ctx.h"

/* Section 4: accept at least 1024 bytes; refuse more than this. */
#define KE_REQUEST_MAX 16384
#define KE_REQUEST_INITIAL 2048
/* Room for one OpenSSL error string in a session's log line. */
#define KE_REASON_MAX 256

enum ke_state {
	KE_ST_HANDSHAKE,
	KE_ST_READ,
	KE_ST_WRITE,
	KE_ST_SHUTDOWN,
};

struct ke_session {
	struct ke_sessions *ss;
	struct ke_session *prev, *next;
	enum ke_state state;
	int fd;
	int events;		/* what io waits for */
	bool shutdown_sent;
	SSL *ssl;
	ev_io io;
	ev_timer deadline;
	struct netaddr peer;
	struct ke_admission adm;
	uint8_t *req;
	size_t req_len, req_cap;
	struct ke_request parse;	/* the parser's progress through req */
	uint8_t *resp;
	size_t resp_len;
	enum ke_outcome outcome;
	enum ke_request_status status;
};

static void session_close(struct ke_session *s)
{
	struct ke_sessions *ss = s->ss;
	const struct ke_session_env *env = ss->env;

	ev_io_stop(ss->loop, &s->io);
	ev_timer_stop(ss->loop, &s->deadline);
	/* Before close: ke_admit may be polling this socket from another
	 * thread until the session is released. */
	ke_release(env->admit, &s->adm);
	SSL_free(s->ssl);
	close(s->fd);
	/* Whatever failed left its reason in this thread's queue. */
	ERR_clear_error();
	if (s->prev)
		s->prev->next = s->next;
	else
		ss->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s->req);
	free(s->resp);
	free(s);
}

static void session_wait(struct ke_session *s, int events)
{
	if (s->events == events)
		return;
	ev_io_stop(s->ss->loop, &s->io);
	ev_io_set(&s->io, s->fd, events);
	ev_io_start(s->ss->loop, &s->io);
	s->events = events;
}

/* true when OpenSSL only needs the socket to become ready */
static bool session_want(struct ke_session *s, int err)
{
	if (err == SSL_ERROR_WANT_READ) {
		session_wait(s, EV_READ);
		return true;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		session_wait(s, EV_WRITE);
		return true;
	}
	return false;
}

static int export_cb(void *arg, const uint8_t context[KE_EXPORT_CONTEXT_LEN],
		     uint8_t *out, size_t len)
{
	return ke_export(arg, context, out, len);
}

/* Run the handler on what has arrived.  true when a response is ready
 * (state WRITE), false when more bytes are needed or on failure. */
static bool session_handle(struct ke_session *s, bool final)
{
	struct ke_sessions *ss = s->ss;
	const struct ke_session_env *env = ss->env;
	struct ke_handler_params p;
	struct buf_writer w;
	char who[NETADDR_STRLEN];

	memset(&p, 0, sizeof(p));
	p.keys = snapshot_get(env->keys);
	p.now = (int64_t)time(NULL);
	p.propagation_s = env->propagation_s;
	p.ntp_servers = env->ntp_servers;
	p.n_ntp_servers = env->n_ntp_servers;
	p.family = netaddr_host_family(&s->peer);
	p.ntp_port = env->ntp_port;
	p.aeads = env->aeads;
	p.n_aeads = env->n_aeads;
	p.nonces = &ss->nonces;
	p.export_keys = export_cb;
	p.export_arg = s->ssl;
	buf_writer_init(&w, ss->scratch, sizeof(ss->scratch));
	s->outcome = ke_handler_process(&p, &s->parse, s->req, s->req_len, final, &w,
					&s->status);
	if (s->outcome == KE_OUT_INCOMPLETE)
		return false;
	s->resp = malloc(w.off);
	if (!s->resp)
		return false;
	memcpy(s->resp, ss->scratch, w.off);
	s->resp_len = w.off;
	free(s->req);
	s->req = NULL;
	s->req_len = s->req_cap = 0;
	if (s->outcome == KE_OUT_ERROR_INTERNAL)
		log_limited(env->rl, LOG_LVL_WARN, "%s: NTS-KE internal error (no key set or sealing key?)",
			    netaddr_str(&s->peer, who, sizeof(who)));
	else if (s->outcome != KE_OUT_COOKIES)
		log_limited(env->rl, LOG_LVL_INFO, "%s: NTS-KE request: %s (%s)",
			    netaddr_str(&s->peer, who, sizeof(who)),
			    ke_outcome_str(s->outcome), ke_request_status_str(s->status));
	s->state = KE_ST_WRITE;
	return true;
}

/* What each answer sent counts. */
static const enum ke_counter outcome_counter[] = {
	[KE_OUT_COOKIES] = KE_CNT_RESPONSES,
	[KE_OUT_NO_COMMON] = KE_CNT_NO_COMMON,
	[KE_OUT_ERROR_UNRECOGNIZED] = KE_CNT_ERROR_UNRECOGNIZED,
	[KE_OUT_ERROR_BAD_REQUEST] = KE_CNT_ERROR_BAD_REQUEST,
	[KE_OUT_ERROR_INTERNAL] = KE_CNT_ERROR_INTERNAL,
};

static void count_outcome(struct ke_sessions *ss, enum ke_outcome o)
{
	if (o != KE_OUT_INCOMPLETE)
		counter_inc(&ss->cnt[outcome_counter[o]]);
}

static void session_fail(struct ke_session *s, enum ke_counter c, const char *what)
{
	char who[NETADDR_STRLEN], reason[KE_REASON_MAX];

	counter_inc(&s->ss->cnt[c]);
	/* Drained even when not logged: the queue is this thread's. */
	log_openssl_reason(reason, sizeof(reason), "");
	log_limited(s->ss->env->rl, LOG_LVL_DEBUG, "%s: NTS-KE %s%s%s",
		    netaddr_str(&s->peer, who, sizeof(who)), what, *reason ? ": " : "", reason);
	session_close(s);
}

/* A step that did not get through: 0 when OpenSSL only waits for the
 * socket (err), else the session fails (counted in c) and -1. */
static int step_stalled(struct ke_session *s, int err, enum ke_counter c, const char *what)
{
	if (session_want(s, err))
		return 0;
	session_fail(s, c, what);
	return -1;
}

static int step_read(struct ke_session *s)
{
	int r, err;

	if (s->req_len == s->req_cap) {
		uint8_t *p;
		size_t cap;

		if (s->req_cap >= KE_REQUEST_MAX) {
			counter_inc(&s->ss->cnt[KE_CNT_TOO_LARGE]);
			if (!session_handle(s, true)) {
				session_fail(s, KE_CNT_IO_ERROR, "out of memory");
				return -1;
			}
			return 1;
		}
		cap = s->req_cap ? s->req_cap * 2 : KE_REQUEST_INITIAL;
		if (cap > KE_REQUEST_MAX)
			cap = KE_REQUEST_MAX;
		p = realloc(s->req, cap);
		if (!p) {
			session_fail(s, KE_CNT_IO_ERROR, "out of memory");
			return -1;
		}
		s->req = p;
		s->req_cap = cap;
	}
	r = SSL_read(s->ssl, s->req + s->req_len, (int)(s->req_cap - s->req_len));
	if (r > 0) {
		s->req_len += (size_t)r;
		if (!session_handle(s, false) && s->outcome != KE_OUT_INCOMPLETE) {
			session_fail(s, KE_CNT_IO_ERROR, "out of memory");
			return -1;
		}
		return 1;
	}
	err = SSL_get_error(s->ssl, r);
	if (err == SSL_ERROR_ZERO_RETURN) {
		/* close_notify: the client sent all it will; answer anyway. */
		if (session_handle(s, true))
			return 1;
		session_fail(s, KE_CNT_IO_ERROR, "out of memory");
		return -1;
	}
	return step_stalled(s, err, KE_CNT_IO_ERROR,
			    "connection lost before the request was complete");
}

static int step_handshake(struct ke_session *s)
{
	int r = SSL_do_handshake(s->ssl);

	if (r == 1) {
		/* The client hello callback refuses a missing ALPN; check
		 * again rather than trust one path. */
		if (!tls_session_ok(s->ssl)) {
			session_fail(s, KE_CNT_HANDSHAKE_FAILED, "no ntske/1 ALPN");
			return -1;
		}
		counter_inc(&s->ss->cnt[KE_CNT_HANDSHAKE_OK]);
		s->state = KE_ST_READ;
		return 1;
	}
	return step_stalled(s, SSL_get_error(s->ssl, r), KE_CNT_HANDSHAKE_FAILED,
			    "TLS handshake failed");
}

static int step_write(struct ke_session *s)
{
	/* The whole response in one SSL_write: one TLS record. */
	int r = SSL_write(s->ssl, s->resp, (int)s->resp_len);

	if (r > 0) {
		count_outcome(s->ss, s->outcome);
		s->state = KE_ST_SHUTDOWN;
		return 1;
	}
	return step_stalled(s, SSL_get_error(s->ssl, r), KE_CNT_IO_ERROR, "write failed");
}

static int step_shutdown(struct ke_session *s)
{
	int r = SSL_shutdown(s->ssl), err;

	if (r == 1) {
		session_close(s);
		return -1;
	}
	if (r == 0 && !s->shutdown_sent) {
		/* close_notify is out; wait (within the deadline) for the
		 * peer's, so our close cannot reset data it has not read yet. */
		s->shutdown_sent = true;
		return 1;
	}
	err = r == 0 ? SSL_ERROR_WANT_READ : SSL_get_error(s->ssl, r);
	if (session_want(s, err))
		return 0;
	/* EOF without close_notify after our answer: done. */
	session_close(s);
	return -1;
}

/* Each step returns -1 when the session is gone, 0 when it waits for the
 * socket, 1 to go on (in the state it moved to). */
static void session_run(struct ke_session *s)
{
	static int (*const step[])(struct ke_session *) = {
		[KE_ST_HANDSHAKE] = step_handshake,
		[KE_ST_READ] = step_read,
		[KE_ST_WRITE] = step_write,
		[KE_ST_SHUTDOWN] = step_shutdown,
	};

	while (step[s->state](s) > 0)
		;
}

static void session_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	session_run(w->data);
}

static void session_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ke_session *s = w->data;
	char who[NETADDR_STRLEN];

	(void)loop;
	(void)revents;
	if (s->state == KE_ST_SHUTDOWN) {
		session_close(s);
		return;
	}
	counter_inc(&s->ss->cnt[KE_CNT_DEADLINE]);
	log_limited(s->ss->env->rl, LOG_LVL_INFO, "%s: NTS-KE session deadline reached (%s)",
		    netaddr_str(&s->peer, who, sizeof(who)),
		    s->state == KE_ST_HANDSHAKE ? "handshake" :
		    s->state == KE_ST_READ ? "reading request" : "writing response");
	/* Section 4.1.3: no complete request in time is a Bad Request.  One
	 * attempt, no waiting. */
	if (s->state == KE_ST_READ && session_handle(s, true) &&
	    SSL_write(s->ssl, s->resp, (int)s->resp_len) > 0) {
		count_outcome(s->ss, s->outcome);
		SSL_shutdown(s->ssl);
	}
	session_close(s);
}

/* ---- start and end ---- */

/* What each refusal of ke_admit() counts. */
static const enum ke_counter refused_counter[] = {
	[KE_ADMIT_DENIED] = KE_CNT_REFUSED_DENIED,
	[KE_ADMIT_RATE] = KE_CNT_REFUSED_RATE,
	[KE_ADMIT_FULL] = KE_CNT_REFUSED_TOTAL,
	[KE_ADMIT_ADDRESS_FULL] = KE_CNT_REFUSED_PER_ADDRESS,
};

/* Admit the connection into a new session (which holds the admission
 * from here on), or close it and count why; NULL then. */
static struct ke_session *session_admit(struct ke_sessions *ss, int fd,
					const struct netaddr *peer)
{
	const struct ke_session_env *env = ss->env;
	struct ke_session *s = calloc(1, sizeof(*s));
	enum ke_admit_verdict verdict;
	char who[NETADDR_STRLEN];

	if (!s) {
		counter_inc(&ss->cnt[KE_CNT_IO_ERROR]);
		log_limited(env->rl, LOG_LVL_WARN, "%s: NTS-KE: out of memory",
			    netaddr_str(peer, who, sizeof(who)));
		close(fd);
		return NULL;
	}
	verdict = ke_admit(env->admit, peer, fd, &s->adm);
	counter_add(&ss->cnt[KE_CNT_RECLAIMED], s->adm.reclaimed);
	if (verdict != KE_ADMIT_OK) {
		counter_inc(&ss->cnt[refused_counter[verdict]]);
		free(s);
		close(fd);
		return NULL;
	}
	return s;
}

void ke_session_start(struct ke_sessions *ss, int fd, const struct sockaddr *sa,
		      socklen_t sa_len)
{
	const struct ke_session_env *env = ss->env;
	struct ke_session *s;
	char who[NETADDR_STRLEN];
	struct netaddr peer;
	int one = 1;

	counter_inc(&ss->cnt[KE_CNT_ACCEPTED]);
	if (netaddr_from_sockaddr(sa, sa_len, &peer) < 0) {
		close(fd);
		return;
	}
	s = session_admit(ss, fd, &peer);
	if (!s)
		return;
	s->ssl = SSL_new(tls_store_get(env->tls));	/* takes its own reference */
	if (!s->ssl || SSL_set_fd(s->ssl, fd) != 1) {
		char reason[KE_REASON_MAX];

		SSL_free(s->ssl);
		log_openssl_reason(reason, sizeof(reason), "out of memory");
		ke_release(env->admit, &s->adm);
		free(s);
		counter_inc(&ss->cnt[KE_CNT_IO_ERROR]);
		log_limited(env->rl, LOG_LVL_WARN, "%s: NTS-KE: %s",
			    netaddr_str(&peer, who, sizeof(who)), reason);
		close(fd);
		return;
	}
	/* The response and close_notify go out at once, not after an ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	SSL_set_accept_state(s->ssl);
	s->ss = ss;
	s->fd = fd;
	s->peer = peer;
	ke_request_init(&s->parse);
	s->state = KE_ST_HANDSHAKE;
	s->events = EV_READ;
	ev_io_init(&s->io, session_io_cb, fd, EV_READ);
	s->io.data = s;
	ev_io_start(ss->loop, &s->io);
	/* One deadline for the whole session, never reset by progress. */
	ev_timer_init(&s->deadline, session_deadline_cb, env->timeout_s, 0.);
	s->deadline.data = s;
	ev_timer_start(ss->loop, &s->deadline);
	s->next = ss->head;
	if (ss->head)
		ss->head->prev = s;
	ss->head = s;
}


int ke_session_init(struct ke_sessions *ss, const struct ke_session_env *env,
		    struct ev_loop *loop, counter_t *cnt)
{
	ss->env = env;
	ss->loop = loop;
	ss->cnt = cnt;
	ss->head = NULL;
	return nonce_gen_init(&ss->nonces);
}

void ke_session_close_all(struct ke_sessions *ss)
{
	while (ss->head)
		session_close(ss->head);
}

void ke_session_shutdown(struct ke_sessions *ss)
{
	ke_session_close_all(ss);
	nonce_gen_wipe(&ss->nonces);
}
