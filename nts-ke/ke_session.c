/* ke_session: the per-connection state machine of the NTS-KE service. */
#include "build_config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/acl.h"
#include "common/buf.h"
#include "common/ke_export.h"
#include "common/proxy_v2.h"
#include "common/secmem.h"
#include "nts-ke/ke_session.h"
#include "nts-ke/tls_ctx.h"

/* Section 4: accept at least 1024 bytes; refuse more than this. */
#define KE_REQUEST_MAX 16384
#define KE_REQUEST_INITIAL 2048
/* Room for one OpenSSL error string in a session's log line. */
#define KE_REASON_MAX 256

enum ke_state {
	KE_ST_PROXY,		/* reading a load balancer's PROXY v2 header */
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
	bool waiting;		/* holds a ke_admit_wait() slot */
	bool sniff;		/* look for a PROXY header before TLS */
	SSL *ssl;
	ev_io io;
	ev_timer deadline;
	struct netaddr peer;	/* the client: the header's, behind a balancer */
	struct netaddr lb;	/* the balancer the connection came from (len 0: none) */
	struct ke_admission adm;
	uint8_t *hdr;		/* KE_ST_PROXY: the header so far, PROXY_V2_MAX bytes */
	size_t hdr_len;
	uint8_t *req;
	size_t req_len, req_cap;
	struct ke_request parse;	/* the parser's progress through req */
	uint8_t *resp;
	size_t resp_len;
	enum ke_outcome outcome;
	enum ke_request_status status;
};

static int step_proxy(struct ke_session *s);

static void session_close(struct ke_session *s)
{
	struct ke_sessions *ss = s->ss;
	const struct ke_session_env *env = ss->env;

	ev_io_stop(ss->loop, &s->io);
	ev_timer_stop(ss->loop, &s->deadline);
	/* Before close: ke_admit may be polling this socket from another
	 * thread until the session is released. */
	ke_release(env->admit, &s->adm);
	if (s->waiting)
		ke_admit_waited(env->admit);
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
	free(s->hdr);
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
	p.keys_scratch = ss->keys_scratch;
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

/* Count c, log what happened (with OpenSSL's reason if any) and close. */
static void session_refuse(struct ke_session *s, enum ke_counter c, enum log_level level,
			   const char *what)
{
	char who[NETADDR_STRLEN], reason[KE_REASON_MAX];

	counter_inc(&s->ss->cnt[c]);
	/* Drained even when not logged: the queue is this thread's. */
	log_openssl_reason(reason, sizeof(reason), "");
	log_limited(s->ss->env->rl, level, "%s: NTS-KE %s%s%s",
		    netaddr_str(&s->peer, who, sizeof(who)), what, *reason ? ": " : "", reason);
	session_close(s);
}

static void session_fail(struct ke_session *s, enum ke_counter c, const char *what)
{
	session_refuse(s, c, LOG_LVL_DEBUG, what);
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

/* When ke-proxy-protocol is configured, a PROXY header from a peer not in
 * it is refused by its name rather than as a failed handshake: a look at
 * the first bytes once they are in (a ClientHello differs from both
 * versions at its first). */
static int sniff_proxy(struct ke_session *s)
{
	uint8_t head[PROXY_V2_FIXED];
	ssize_t r = recv(s->fd, head, sizeof(head), MSG_PEEK);

	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		session_wait(s, EV_READ);
		return 0;
	}
	s->sniff = false;
	if (r > 0 && proxy_v2_looks_like(head, (size_t)r)) {
		session_refuse(s, KE_CNT_PROXY_UNEXPECTED, LOG_LVL_INFO,
			       "PROXY header from a peer not in ke-proxy-protocol");
		return -1;
	}
	return 1;	/* EOF and errors are the handshake's to see */
}

static int step_handshake(struct ke_session *s)
{
	int r;

	if (s->sniff)
		return sniff_proxy(s);
	r = SSL_do_handshake(s->ssl);

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
		[KE_ST_PROXY] = step_proxy,
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
	counter_inc(&s->ss->cnt[s->state == KE_ST_PROXY ? KE_CNT_PROXY_TIMEOUT : KE_CNT_DEADLINE]);
	log_limited(s->ss->env->rl, LOG_LVL_INFO, "%s: NTS-KE session deadline reached (%s)",
		    netaddr_str(&s->peer, who, sizeof(who)),
		    s->state == KE_ST_PROXY ? "reading PROXY header" :
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

/* Admit s->peer and set up TLS: state HANDSHAKE and 1, or the session is
 * closed (the refusal counted) and -1. */
static int session_begin(struct ke_session *s)
{
	struct ke_sessions *ss = s->ss;
	const struct ke_session_env *env = ss->env;
	enum ke_admit_verdict verdict;
	char reason[KE_REASON_MAX], who[NETADDR_STRLEN];
	int one = 1;

	verdict = ke_admit(env->admit, &s->peer, s->fd, &s->adm);
	counter_add(&ss->cnt[KE_CNT_RECLAIMED], s->adm.reclaimed);
	if (verdict != KE_ADMIT_OK) {
		counter_inc(&ss->cnt[refused_counter[verdict]]);
		session_close(s);
		return -1;
	}
	s->ssl = SSL_new(tls_store_get(env->tls));	/* takes its own reference */
	if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1) {
		log_openssl_reason(reason, sizeof(reason), "out of memory");
		counter_inc(&ss->cnt[KE_CNT_IO_ERROR]);
		log_limited(env->rl, LOG_LVL_WARN, "%s: NTS-KE: %s",
			    netaddr_str(&s->peer, who, sizeof(who)), reason);
		session_close(s);
		return -1;
	}
	/* The response and close_notify go out at once, not after an ACK. */
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	SSL_set_accept_state(s->ssl);
	s->state = KE_ST_HANDSHAKE;
	return 1;
}

/* What each refusal of proxy_v2_parse() counts. */
static const enum ke_counter proxy_counter[PROXY_V2_STATUS_COUNT] = {
	[PROXY_V2_BAD_SIGNATURE] = KE_CNT_PROXY_BAD_SIGNATURE,
	[PROXY_V2_BAD_VERSION] = KE_CNT_PROXY_BAD_VERSION,
	[PROXY_V2_BAD_COMMAND] = KE_CNT_PROXY_BAD_COMMAND,
	[PROXY_V2_BAD_FAMILY] = KE_CNT_PROXY_BAD_FAMILY,
	[PROXY_V2_TOO_LONG] = KE_CNT_PROXY_TOO_LONG,
	[PROXY_V2_BAD_ADDRESS] = KE_CNT_PROXY_BAD_ADDRESS,
	[PROXY_V2_BAD_TLV] = KE_CNT_PROXY_BAD_TLV,
};

/* The header is in: the client it names becomes the peer, then
 * admission and TLS as for a direct connection. */
static int proxy_done(struct ke_session *s, const struct proxy_v2_header *h)
{
	char who[NETADDR_STRLEN], via[NETADDR_STRLEN];

	ke_admit_waited(s->ss->env->admit);
	s->waiting = false;
	free(s->hdr);
	s->hdr = NULL;
	s->lb = s->peer;
	if (h->local) {
		counter_inc(&s->ss->cnt[KE_CNT_PROXY_LOCAL]);
	} else {
		counter_inc(&s->ss->cnt[KE_CNT_PROXY_HEADER]);
		s->peer = h->src;
	}
	log_limited(s->ss->env->rl, LOG_LVL_DEBUG, "%s: NTS-KE via %s (PROXY v2 %s)",
		    netaddr_str(&s->peer, who, sizeof(who)), netaddr_str(&s->lb, via, sizeof(via)),
		    h->local ? "LOCAL" : "PROXY");
	return session_begin(s);
}

/* Read the header, never past it (the TLS stream follows), as it comes. */
static int step_proxy(struct ke_session *s)
{
	struct proxy_v2_header h;
	enum proxy_v2_status st;
	size_t need;
	ssize_t r;

	st = proxy_v2_parse(s->hdr, s->hdr_len, &h, &need);
	if (st == PROXY_V2_OK)
		return proxy_done(s, &h);
	if (st != PROXY_V2_INCOMPLETE) {
		session_refuse(s, proxy_counter[st], LOG_LVL_INFO, proxy_v2_status_str(st));
		return -1;
	}
	r = recv(s->fd, s->hdr + s->hdr_len, need - s->hdr_len, 0);
	if (r > 0) {
		s->hdr_len += (size_t)r;
		return 1;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		session_wait(s, EV_READ);
		return 0;
	}
	session_refuse(s, KE_CNT_PROXY_TRUNCATED, LOG_LVL_INFO,
		       r == 0 ? "PROXY header cut short" : "connection lost in the PROXY header");
	return -1;
}

/* A connection from a listed load balancer waits for its header before
 * admission, in a waiting slot; 1, or closed (counted) and -1. */
static int proxy_begin(struct ke_session *s)
{
	struct ke_sessions *ss = s->ss;

	if (!ke_admit_wait(ss->env->admit, &s->peer)) {
		counter_inc(&ss->cnt[KE_CNT_PROXY_PENDING]);
		session_close(s);
		return -1;
	}
	s->waiting = true;
	s->hdr = malloc(PROXY_V2_MAX);
	if (!s->hdr) {
		session_fail(s, KE_CNT_IO_ERROR, "out of memory");
		return -1;
	}
	s->state = KE_ST_PROXY;
	return 1;
}

/* ke-proxy-protocol as loaded now; NULL when none is configured. */
static const struct acl *balancers(const struct ke_session_env *env)
{
	return env->proxy ? snapshot_get(env->proxy) : NULL;
}

/* A session for the accepted fd, linked into ss and with its watchers
 * set up (not started); NULL (fd closed, counted) without memory. */
static struct ke_session *session_new(struct ke_sessions *ss, int fd, const struct netaddr *peer)
{
	const struct ke_session_env *env = ss->env;
	struct ke_session *s = calloc(1, sizeof(*s));
	char who[NETADDR_STRLEN];

	if (!s) {
		counter_inc(&ss->cnt[KE_CNT_IO_ERROR]);
		log_limited(env->rl, LOG_LVL_WARN, "%s: NTS-KE: out of memory",
			    netaddr_str(peer, who, sizeof(who)));
		close(fd);
		return NULL;
	}
	s->ss = ss;
	s->fd = fd;
	s->peer = *peer;
	ke_request_init(&s->parse);
	ev_io_init(&s->io, session_io_cb, fd, EV_READ);
	s->io.data = s;
	ev_timer_init(&s->deadline, session_deadline_cb, env->timeout_s, 0.);
	s->deadline.data = s;
	s->next = ss->head;
	if (ss->head)
		ss->head->prev = s;
	ss->head = s;
	return s;
}

void ke_session_start(struct ke_sessions *ss, int fd, const struct sockaddr *sa,
		      socklen_t sa_len)
{
	const struct acl *bal;
	struct ke_session *s;
	struct netaddr peer;
	int r;

	counter_inc(&ss->cnt[KE_CNT_ACCEPTED]);
	if (netaddr_from_sockaddr(sa, sa_len, &peer) < 0) {
		close(fd);
		return;
	}
	s = session_new(ss, fd, &peer);
	if (!s)
		return;
	bal = balancers(ss->env);
	if (bal && acl_matches(bal, &peer)) {
		r = proxy_begin(s);
	} else {
		/* With no list configured, no peek: a PROXY header is not a
		 * TLS record, so the handshake refuses it anyway (counted as
		 * handshake_failed, not proxy_refused_unexpected). */
		s->sniff = bal != NULL;
		r = session_begin(s);
	}
	if (r < 0)
		return;
	s->events = EV_READ;
	ev_io_start(ss->loop, &s->io);
	/* One deadline for the whole session, header included, never reset
	 * by progress. */
	ev_timer_start(ss->loop, &s->deadline);
}


int ke_session_init(struct ke_sessions *ss, const struct ke_session_env *env,
		    struct ev_loop *loop, counter_t *cnt)
{
	ss->env = env;
	ss->loop = loop;
	ss->cnt = cnt;
	ss->head = NULL;
	ss->keys_scratch = secmem_alloc(sizeof(*ss->keys_scratch));
	if (!ss->keys_scratch)
		return -1;
	return nonce_gen_init(&ss->nonces);
}

void ke_session_close_all(struct ke_sessions *ss)
{
	struct ke_session *next;

	/* Each session's successor is taken before it is freed. */
	for (struct ke_session *s = ss->head; s; s = next) {
		next = s->next;
		session_close(s);
	}
}

void ke_session_shutdown(struct ke_sessions *ss)
{
	ke_session_close_all(ss);
	nonce_gen_wipe(&ss->nonces);
	secmem_free(ss->keys_scratch, sizeof(*ss->keys_scratch));
	ss->keys_scratch = NULL;
}
