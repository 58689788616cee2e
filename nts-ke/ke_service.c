/* ke_service: the NTS-KE server (RFC 8915 section 4).
 *
 * N threads, each with its own libev loop and its own SO_REUSEPORT
 * listening socket per address, so the kernel spreads connections over the
 * threads and no lock sits on the accept path.  One state machine per
 * session (handshake, read request, write response, shutdown) over
 * non-blocking OpenSSL; one timer per session bounds the whole session.
 * The request -> response step is the pure ke_handler. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/buf.h"
#include "common/counters.h"
#include "common/keyset.h"
#include "common/log.h"
#include "common/rng.h"
#include "nts-ke/ke_admit.h"
#include "nts-ke/ke_handler.h"
#include "nts-ke/ke_service.h"
#include "nts-ke/tls_ctx.h"
#include "nts-ke/tls_store.h"

/* Section 4: accept at least 1024 bytes; refuse more than this. */
#define KE_REQUEST_MAX 16384
#define KE_REQUEST_INITIAL 2048
#define KE_ACCEPT_BATCH 64
#define KE_LISTEN_BACKLOG 1024
/* Out of descriptors: stop accepting this long, so the loop does not spin. */
#define KE_FD_PAUSE_S 0.1
#define KE_MAX_THREADS 256
#define KE_MAX_LISTEN (CONFIG_MAX_LISTEN > 2 ? CONFIG_MAX_LISTEN : 2)
/* Room for one OpenSSL error string in a session's log line. */
#define KE_REASON_MAX 256

enum ke_state {
	KE_ST_HANDSHAKE,
	KE_ST_READ,
	KE_ST_WRITE,
	KE_ST_SHUTDOWN,
};

struct ke_thread;

struct ke_session {
	struct ke_thread *t;
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
	uint8_t *resp;
	size_t resp_len;
	enum ke_outcome outcome;
	enum ke_request_status status;
};

struct ke_listener {
	struct ke_thread *t;
	int fd;
	ev_io io;
};

struct ke_thread {
	struct ke_service *svc;
	pthread_t tid;
	bool running;
	struct ev_loop *loop;
	ev_async stop;
	ev_timer fd_pause;
	struct ke_listener listeners[KE_MAX_LISTEN];
	size_t n_listeners;
	int reserve_fd;
	struct nonce_gen nonces;
	struct ke_session *sessions;
	uint8_t scratch[KE_RESPONSE_MAX];
	counter_t cnt[KE_CNT_COUNT];
};

struct ke_service {
	char *ntp_server;
	int ntp_port;			/* -1: no Port record */
	double timeout_s;
	int64_t propagation_s;
	struct snapshot *keys;
	struct ke_admit *admit;
	struct tls_store *tls;
	struct netaddr listen[KE_MAX_LISTEN];
	size_t n_listen;
	struct ke_thread **threads;
	unsigned n_threads;
	bool started;
	struct log_ratelimit rl;
};

static const char *const counter_names[KE_CNT_COUNT] = {
	[KE_CNT_ACCEPTED] = "accepted",
	[KE_CNT_HANDSHAKE_OK] = "handshake_ok",
	[KE_CNT_HANDSHAKE_FAILED] = "handshake_failed",
	[KE_CNT_RESPONSES] = "responses",
	[KE_CNT_NO_COMMON] = "responses_no_common_algorithm",
	[KE_CNT_ERROR_UNRECOGNIZED] = "error_unrecognized_critical",
	[KE_CNT_ERROR_BAD_REQUEST] = "error_bad_request",
	[KE_CNT_ERROR_INTERNAL] = "error_internal",
	[KE_CNT_DEADLINE] = "deadline",
	[KE_CNT_TOO_LARGE] = "too_large",
	[KE_CNT_REFUSED_TOTAL] = "refused_max_sessions",
	[KE_CNT_REFUSED_PER_ADDRESS] = "refused_per_address",
	[KE_CNT_REFUSED_FD] = "refused_out_of_fds",
	[KE_CNT_REFUSED_DENIED] = "refused_denied",
	[KE_CNT_IO_ERROR] = "io_error",
};

const char *ke_counter_name(enum ke_counter c)
{
	if ((unsigned)c >= KE_CNT_COUNT)
		return "unknown";
	return counter_names[c];
}

/* ---- sessions ---- */

static void session_close(struct ke_session *s)
{
	struct ke_thread *t = s->t;
	struct ke_service *svc = t->svc;

	ev_io_stop(t->loop, &s->io);
	ev_timer_stop(t->loop, &s->deadline);
	SSL_free(s->ssl);
	close(s->fd);
	/* Whatever failed left its reason in this thread's queue. */
	ERR_clear_error();
	if (s->prev)
		s->prev->next = s->next;
	else
		t->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	ke_release(svc->admit, &s->adm);
	free(s->req);
	free(s->resp);
	free(s);
}

static void session_wait(struct ke_session *s, int events)
{
	if (s->events == events)
		return;
	ev_io_stop(s->t->loop, &s->io);
	ev_io_set(&s->io, s->fd, events);
	ev_io_start(s->t->loop, &s->io);
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
	SSL *ssl = arg;

	if (SSL_export_keying_material(ssl, out, len, KE_EXPORTER_LABEL,
				       sizeof(KE_EXPORTER_LABEL) - 1, context,
				       KE_EXPORT_CONTEXT_LEN, 1) != 1)
		return -1;
	return 0;
}

/* Run the handler on what has arrived.  true when a response is ready
 * (state WRITE), false when more bytes are needed or on failure. */
static bool session_handle(struct ke_session *s, bool final)
{
	struct ke_thread *t = s->t;
	struct ke_service *svc = t->svc;
	struct ke_handler_params p;
	struct buf_writer w;
	char who[NETADDR_STRLEN];

	memset(&p, 0, sizeof(p));
	p.keys = snapshot_get(svc->keys);
	p.now = (int64_t)time(NULL);
	p.propagation_s = svc->propagation_s;
	p.ntp_server = svc->ntp_server;
	p.ntp_port = svc->ntp_port;
	p.nonces = &t->nonces;
	p.export_keys = export_cb;
	p.export_arg = s->ssl;
	buf_writer_init(&w, t->scratch, sizeof(t->scratch));
	s->outcome = ke_handler_process(&p, s->req, s->req_len, final, &w, &s->status);
	if (s->outcome == KE_OUT_INCOMPLETE)
		return false;
	s->resp = malloc(w.off);
	if (!s->resp)
		return false;
	memcpy(s->resp, t->scratch, w.off);
	s->resp_len = w.off;
	free(s->req);
	s->req = NULL;
	s->req_len = s->req_cap = 0;
	if (s->outcome == KE_OUT_ERROR_INTERNAL)
		log_limited(&svc->rl, LOG_LVL_WARN, "%s: NTS-KE internal error (no key set or sealing key?)",
			    netaddr_str(&s->peer, who, sizeof(who)));
	else if (s->outcome != KE_OUT_COOKIES)
		log_limited(&svc->rl, LOG_LVL_INFO, "%s: NTS-KE request: %s (%s)",
			    netaddr_str(&s->peer, who, sizeof(who)),
			    ke_outcome_str(s->outcome), ke_request_status_str(s->status));
	s->state = KE_ST_WRITE;
	return true;
}

static void count_outcome(struct ke_thread *t, enum ke_outcome o)
{
	switch (o) {
	case KE_OUT_COOKIES:
		counter_inc(&t->cnt[KE_CNT_RESPONSES]);
		break;
	case KE_OUT_NO_COMMON:
		counter_inc(&t->cnt[KE_CNT_NO_COMMON]);
		break;
	case KE_OUT_ERROR_UNRECOGNIZED:
		counter_inc(&t->cnt[KE_CNT_ERROR_UNRECOGNIZED]);
		break;
	case KE_OUT_ERROR_BAD_REQUEST:
		counter_inc(&t->cnt[KE_CNT_ERROR_BAD_REQUEST]);
		break;
	case KE_OUT_ERROR_INTERNAL:
		counter_inc(&t->cnt[KE_CNT_ERROR_INTERNAL]);
		break;
	case KE_OUT_INCOMPLETE:
		break;
	}
}

static void session_fail(struct ke_session *s, enum ke_counter c, const char *what)
{
	char who[NETADDR_STRLEN], reason[KE_REASON_MAX];

	counter_inc(&s->t->cnt[c]);
	/* Drained even when not logged: the queue is this thread's. */
	log_openssl_reason(reason, sizeof(reason), "");
	log_limited(&s->t->svc->rl, LOG_LVL_DEBUG, "%s: NTS-KE %s%s%s",
		    netaddr_str(&s->peer, who, sizeof(who)), what, *reason ? ": " : "", reason);
	session_close(s);
}

/* Returns -1 when the session is gone, 0 when waiting, 1 to go on. */
static int step_read(struct ke_session *s)
{
	int r, err;

	if (s->req_len == s->req_cap) {
		uint8_t *p;
		size_t cap;

		if (s->req_cap >= KE_REQUEST_MAX) {
			counter_inc(&s->t->cnt[KE_CNT_TOO_LARGE]);
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
	if (session_want(s, err))
		return 0;
	session_fail(s, KE_CNT_IO_ERROR, "connection lost before the request was complete");
	return -1;
}

static void session_run(struct ke_session *s)
{
	struct ke_thread *t = s->t;
	int r, err;

	for (;;) {
		switch (s->state) {
		case KE_ST_HANDSHAKE:
			r = SSL_do_handshake(s->ssl);
			if (r == 1) {
				/* The client hello callback refuses a missing ALPN;
				 * check again rather than trust one path. */
				if (!tls_session_ok(s->ssl)) {
					session_fail(s, KE_CNT_HANDSHAKE_FAILED, "no ntske/1 ALPN");
					return;
				}
				counter_inc(&t->cnt[KE_CNT_HANDSHAKE_OK]);
				s->state = KE_ST_READ;
				break;
			}
			err = SSL_get_error(s->ssl, r);
			if (session_want(s, err))
				return;
			session_fail(s, KE_CNT_HANDSHAKE_FAILED, "TLS handshake failed");
			return;
		case KE_ST_READ:
			r = step_read(s);
			if (r <= 0)
				return;
			break;
		case KE_ST_WRITE:
			/* The whole response in one SSL_write: one TLS record. */
			r = SSL_write(s->ssl, s->resp, (int)s->resp_len);
			if (r > 0) {
				count_outcome(t, s->outcome);
				s->state = KE_ST_SHUTDOWN;
				break;
			}
			err = SSL_get_error(s->ssl, r);
			if (session_want(s, err))
				return;
			session_fail(s, KE_CNT_IO_ERROR, "write failed");
			return;
		case KE_ST_SHUTDOWN:
			r = SSL_shutdown(s->ssl);
			if (r == 1) {
				session_close(s);
				return;
			}
			if (r == 0 && !s->shutdown_sent) {
				/* close_notify is out; wait (within the deadline)
				 * for the peer's, so our close cannot reset data
				 * it has not read yet. */
				s->shutdown_sent = true;
				break;
			}
			err = r == 0 ? SSL_ERROR_WANT_READ : SSL_get_error(s->ssl, r);
			if (session_want(s, err))
				return;
			/* EOF without close_notify after our answer: done. */
			session_close(s);
			return;
		}
	}
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
	counter_inc(&s->t->cnt[KE_CNT_DEADLINE]);
	log_limited(&s->t->svc->rl, LOG_LVL_INFO, "%s: NTS-KE session deadline reached (%s)",
		    netaddr_str(&s->peer, who, sizeof(who)),
		    s->state == KE_ST_HANDSHAKE ? "handshake" :
		    s->state == KE_ST_READ ? "reading request" : "writing response");
	/* Section 4.1.3: no complete request in time is a Bad Request.  One
	 * attempt, no waiting. */
	if (s->state == KE_ST_READ && session_handle(s, true) &&
	    SSL_write(s->ssl, s->resp, (int)s->resp_len) > 0) {
		count_outcome(s->t, s->outcome);
		SSL_shutdown(s->ssl);
	}
	session_close(s);
}

/* ---- accepting ---- */

/* What each refusal of ke_admit() counts. */
static const enum ke_counter refused_counter[] = {
	[KE_ADMIT_DENIED] = KE_CNT_REFUSED_DENIED,
	[KE_ADMIT_FULL] = KE_CNT_REFUSED_TOTAL,
	[KE_ADMIT_ADDRESS_FULL] = KE_CNT_REFUSED_PER_ADDRESS,
};

static void session_start(struct ke_thread *t, int fd, const struct sockaddr *sa,
			  socklen_t sa_len)
{
	struct ke_service *svc = t->svc;
	struct ke_session *s;
	char who[NETADDR_STRLEN];
	enum ke_admit_verdict verdict;
	struct ke_admission adm;
	struct netaddr peer;
	SSL_CTX *ctx;
	int one = 1;

	counter_inc(&t->cnt[KE_CNT_ACCEPTED]);
	if (netaddr_from_sockaddr(sa, sa_len, &peer) < 0) {
		close(fd);
		return;
	}
	verdict = ke_admit(svc->admit, &peer, &adm);
	if (verdict != KE_ADMIT_OK) {
		counter_inc(&t->cnt[refused_counter[verdict]]);
		close(fd);
		return;
	}
	s = calloc(1, sizeof(*s));
	ctx = tls_store_get(svc->tls);
	if (s)
		s->ssl = SSL_new(ctx);	/* takes its own reference to ctx */
	if (!s || !s->ssl || SSL_set_fd(s->ssl, fd) != 1) {
		char reason[KE_REASON_MAX];

		if (s)
			SSL_free(s->ssl);
		free(s);
		log_openssl_reason(reason, sizeof(reason), "out of memory");
		ke_release(svc->admit, &adm);
		counter_inc(&t->cnt[KE_CNT_IO_ERROR]);
		log_limited(&svc->rl, LOG_LVL_WARN, "%s: NTS-KE: %s",
			    netaddr_str(&peer, who, sizeof(who)), reason);
		close(fd);
		return;
	}
	/* The response and close_notify go out at once, not after an ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	SSL_set_accept_state(s->ssl);
	s->t = t;
	s->fd = fd;
	s->peer = peer;
	s->adm = adm;
	s->state = KE_ST_HANDSHAKE;
	s->events = EV_READ;
	ev_io_init(&s->io, session_io_cb, fd, EV_READ);
	s->io.data = s;
	ev_io_start(t->loop, &s->io);
	/* One deadline for the whole session, never reset by progress. */
	ev_timer_init(&s->deadline, session_deadline_cb, svc->timeout_s, 0.);
	s->deadline.data = s;
	ev_timer_start(t->loop, &s->deadline);
	s->next = t->sessions;
	if (t->sessions)
		t->sessions->prev = s;
	t->sessions = s;
}

static void listeners_set(struct ke_thread *t, bool on)
{
	for (size_t i = 0; i < t->n_listeners; i++) {
		if (on)
			ev_io_start(t->loop, &t->listeners[i].io);
		else
			ev_io_stop(t->loop, &t->listeners[i].io);
	}
}

/* EMFILE/ENFILE: free the reserve descriptor to accept and close the
 * waiting connection, so it does not sit in the queue, then pause. */
static void shed_connection(struct ke_thread *t, struct ke_listener *l, int err)
{
	int fd;

	counter_inc(&t->cnt[KE_CNT_REFUSED_FD]);
	if (t->reserve_fd >= 0) {
		close(t->reserve_fd);
		t->reserve_fd = -1;
		fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		t->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	errno = err;
	log_limited(&t->svc->rl, LOG_LVL_WARN, "NTS-KE: out of file descriptors (%s): shedding connections",
		    strerror(err));
	listeners_set(t, false);
	if (!ev_is_active(&t->fd_pause)) {
		ev_timer_set(&t->fd_pause, KE_FD_PAUSE_S, 0.);
		ev_timer_start(t->loop, &t->fd_pause);
	}
}

static void fd_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ke_thread *t = w->data;

	(void)loop;
	(void)revents;
	if (t->reserve_fd < 0)
		t->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	listeners_set(t, true);
}

static void listener_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ke_listener *l = w->data;
	struct sockaddr_storage ss;
	socklen_t ss_len;
	int fd;

	(void)loop;
	(void)revents;
	for (int i = 0; i < KE_ACCEPT_BATCH; i++) {
		ss_len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &ss_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			session_start(l->t, fd, (struct sockaddr *)&ss, ss_len);
			continue;
		}
		switch (errno) {
		case EAGAIN:
#if EAGAIN != EWOULDBLOCK
		case EWOULDBLOCK:
#endif
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			shed_connection(l->t, l, errno);
			return;
		default:
			log_limited(&l->t->svc->rl, LOG_LVL_WARN, "NTS-KE accept: %s", strerror(errno));
			return;
		}
	}
}

static void stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* ---- setup ---- */

/* -1 with errno set; the caller logs. */
static int listen_socket(const struct netaddr *addr)
{
	int fd, err, one = 1;

	fd = socket(netaddr_family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto out;
	if (netaddr_family(addr) == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto out;
	if (bind(fd, &addr->u.sa, addr->len) < 0)
		goto out;
	if (listen(fd, KE_LISTEN_BACKLOG) < 0)
		goto out;
	return fd;
out:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static void thread_free(struct ke_thread *t)
{
	if (!t)
		return;
	while (t->sessions)
		session_close(t->sessions);
	for (size_t i = 0; i < t->n_listeners; i++) {
		if (t->loop)
			ev_io_stop(t->loop, &t->listeners[i].io);
		close(t->listeners[i].fd);
	}
	if (t->loop) {
		ev_timer_stop(t->loop, &t->fd_pause);
		ev_async_stop(t->loop, &t->stop);
		ev_loop_destroy(t->loop);
	}
	if (t->reserve_fd >= 0)
		close(t->reserve_fd);
	nonce_gen_wipe(&t->nonces);
	free(t);
}

static struct ke_thread *thread_new(struct ke_service *svc)
{
	struct ke_thread *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->svc = svc;
	t->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	t->loop = ev_loop_new(EVFLAG_AUTO);
	if (!t->loop || t->reserve_fd < 0 || nonce_gen_init(&t->nonces) < 0) {
		log_err("NTS-KE: cannot set up a worker thread");
		thread_free(t);
		return NULL;
	}
	ev_async_init(&t->stop, stop_cb);
	ev_async_start(t->loop, &t->stop);
	ev_timer_init(&t->fd_pause, fd_pause_cb, KE_FD_PAUSE_S, 0.);
	t->fd_pause.data = t;
	return t;
}

static int add_listener(struct ke_thread *t, int fd)
{
	struct ke_listener *l = &t->listeners[t->n_listeners++];

	l->t = t;
	l->fd = fd;
	ev_io_init(&l->io, listener_cb, fd, EV_READ);
	l->io.data = l;
	ev_io_start(t->loop, &l->io);
	return 0;
}

/* One socket per thread per address; the first picks the port when the
 * configured one is 0. */
static int bind_all(struct ke_service *svc, bool defaults)
{
	char who[NETADDR_STRLEN];
	size_t kept = 0;

	for (size_t i = 0; i < svc->n_listen; i++) {
		struct netaddr *a = &svc->listen[i];
		bool ok = true;

		for (unsigned k = 0; k < svc->n_threads; k++) {
			int fd = listen_socket(a);

			if (fd < 0) {
				if (defaults && k == 0 && netaddr_family(a) == AF_INET6 &&
				    errno == EAFNOSUPPORT) {
					log_notice("NTS-KE: no IPv6 here, listening on IPv4 only");
					ok = false;
					break;
				}
				log_errno(LOG_LVL_ERR, "ke-listen %s", netaddr_str(a, who, sizeof(who)));
				return -1;
			}
			if (k == 0) {
				struct sockaddr_storage ss;
				socklen_t len = sizeof(ss);

				if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
					netaddr_set_port(a, ntohs(ss.ss_family == AF_INET6 ?
						((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port));
			}
			add_listener(svc->threads[k], fd);
		}
		if (!ok)
			continue;
		log_info("NTS-KE listening on %s (%u threads)", netaddr_str(a, who, sizeof(who)),
			 svc->n_threads);
		svc->listen[kept++] = *a;
	}
	svc->n_listen = kept;
	if (kept == 0) {
		log_err("NTS-KE: no address to listen on");
		return -1;
	}
	return 0;
}

struct ke_service *ke_service_new(const struct config *cfg, struct snapshot *keys,
				  uint16_t ntp_port)
{
	struct ke_service *svc;
	long ncpu;

	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return NULL;
	atomic_init(&svc->rl.window_start, 0);
	atomic_init(&svc->rl.count, 0);
	svc->rl.burst = 20;
	svc->rl.interval_s = 60;
	svc->keys = keys;
	svc->timeout_s = (cfg->ke_timeout_ms ? cfg->ke_timeout_ms : 5000) / 1000.0;
	svc->propagation_s = cfg->key_propagation_s;
	if (cfg->ke_ntp_port >= 0)
		svc->ntp_port = cfg->ke_ntp_port;
	else
		svc->ntp_port = ntp_port ? ntp_port : -1;
	if (!cfg->ke_certificate || !cfg->ke_private_key) {
		log_err("NTS-KE needs ke-certificate and ke-private-key");
		goto out;
	}
	if (cfg->ke_ntp_server)
		svc->ntp_server = strdup(cfg->ke_ntp_server);
	if (cfg->ke_ntp_server && !svc->ntp_server)
		goto out;
	svc->admit = ke_admit_new(cfg->ke_max_sessions ? cfg->ke_max_sessions : 1,
				  cfg->ke_max_sessions_per_address ?
				  cfg->ke_max_sessions_per_address : 1, &svc->rl);
	if (!svc->admit)
		goto out;
	svc->tls = tls_store_new(cfg->ke_certificate, cfg->ke_private_key);
	if (!svc->tls)
		goto out;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	svc->n_threads = cfg->ke_threads ? cfg->ke_threads : (ncpu > 0 ? (unsigned)ncpu : 1);
	if (svc->n_threads > KE_MAX_THREADS)
		svc->n_threads = KE_MAX_THREADS;
	svc->threads = calloc(svc->n_threads, sizeof(*svc->threads));
	if (!svc->threads)
		goto out;
	for (unsigned k = 0; k < svc->n_threads; k++) {
		svc->threads[k] = thread_new(svc);
		if (!svc->threads[k])
			goto out;
	}

	if (cfg->n_ke_listen == 0) {
		netaddr_parse("0.0.0.0", CONFIG_DEFAULT_KE_PORT, &svc->listen[0]);
		netaddr_parse("::", CONFIG_DEFAULT_KE_PORT, &svc->listen[1]);
		svc->n_listen = 2;
	} else {
		for (size_t i = 0; i < cfg->n_ke_listen && i < KE_MAX_LISTEN; i++)
			svc->listen[i] = cfg->ke_listen[i].addr;
		svc->n_listen = cfg->n_ke_listen < KE_MAX_LISTEN ? cfg->n_ke_listen : KE_MAX_LISTEN;
	}
	if (bind_all(svc, cfg->n_ke_listen == 0) < 0)
		goto out;
	return svc;
out:
	ke_service_free(svc);
	return NULL;
}

static void *thread_main(void *arg)
{
	struct ke_thread *t = arg;

	ev_run(t->loop, 0);
	return NULL;
}

void ke_service_set_acl(struct ke_service *ks, struct snapshot *acl)
{
	ke_admit_set_acl(ks->admit, acl);
}

int ke_service_start(struct ke_service *ks)
{
	sigset_t all, old;
	int rc = 0;

	/* Signals belong to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned k = 0; k < ks->n_threads; k++) {
		struct ke_thread *t = ks->threads[k];

		if (t->running)
			continue;
		if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
			log_err("NTS-KE: cannot start thread %u", k);
			rc = -1;
			break;
		}
		t->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ks->started = true;
	return rc;
}

int ke_service_reload_tls(struct ke_service *ks)
{
	return tls_store_reload(ks->tls);
}

int ke_service_check_tls(struct ke_service *ks)
{
	return tls_store_check(ks->tls);
}

int64_t ke_service_cert_expiry(const struct ke_service *ks)
{
	return tls_store_not_after(ks->tls) - (int64_t)time(NULL);
}

size_t ke_service_n_listen(const struct ke_service *ks)
{
	return ks->n_listen;
}

int ke_service_listen_addr(const struct ke_service *ks, size_t i, struct netaddr *out)
{
	if (i >= ks->n_listen)
		return -1;
	*out = ks->listen[i];
	return 0;
}

unsigned ke_service_sessions(const struct ke_service *ks)
{
	return ke_admit_sessions(ks->admit);
}

void ke_service_counters(const struct ke_service *ks, uint64_t out[KE_CNT_COUNT])
{
	memset(out, 0, sizeof(uint64_t) * KE_CNT_COUNT);
	for (unsigned k = 0; k < ks->n_threads; k++) {
		if (!ks->threads[k])
			continue;
		for (int c = 0; c < KE_CNT_COUNT; c++)
			out[c] += counter_get(&ks->threads[k]->cnt[c]);
	}
}

void ke_service_stop(struct ke_service *ks)
{
	if (!ks || !ks->threads)
		return;
	for (unsigned k = 0; k < ks->n_threads; k++) {
		struct ke_thread *t = ks->threads[k];

		if (t && t->running)
			ev_async_send(t->loop, &t->stop);
	}
	for (unsigned k = 0; k < ks->n_threads; k++) {
		struct ke_thread *t = ks->threads[k];

		if (!t || !t->running)
			continue;
		pthread_join(t->tid, NULL);
		t->running = false;
		/* The loop is idle now: this thread may touch it. */
		while (t->sessions)
			session_close(t->sessions);
		listeners_set(t, false);
	}
}

void ke_service_free(struct ke_service *ks)
{
	if (!ks)
		return;
	ke_service_stop(ks);
	if (ks->threads) {
		for (unsigned k = 0; k < ks->n_threads; k++)
			thread_free(ks->threads[k]);
		free(ks->threads);
	}
	tls_store_free(ks->tls);
	ke_admit_free(ks->admit);
	free(ks->ntp_server);
	free(ks);
}
