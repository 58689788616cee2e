/* ke_service: the NTS-KE server (RFC 8915 section 4).
 *
 * N threads, each with its own libev loop and its own SO_REUSEPORT
 * listening socket per address, so the kernel spreads connections over the
 * threads and no lock sits on the accept path.  Each connection is a
 * ke_session; ke_admit decides at accept, tls_store holds the context. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "common/counters.h"
#include "common/log.h"
#include "nts-ke/ke_admit.h"
#include "nts-ke/ke_service.h"
#include "nts-ke/ke_session.h"
#include "nts-ke/tls_store.h"

#define KE_ACCEPT_BATCH 64
#define KE_LISTEN_BACKLOG 1024
/* Out of descriptors: stop accepting this long, so the loop does not spin. */
#define KE_FD_PAUSE_S 0.1
#define KE_MAX_THREADS 256
#define KE_MAX_LISTEN (CONFIG_MAX_LISTEN > 2 ? CONFIG_MAX_LISTEN : 2)

struct ke_thread;

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
	struct ke_sessions sessions;
	counter_t cnt[KE_CNT_COUNT];
};

struct ke_service {
	struct ke_session_env env;	/* its pointers are owned here */
	char *ntp_server;
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

/* ---- accepting ---- */

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
			ke_session_start(&l->t->sessions, fd, (struct sockaddr *)&ss, ss_len);
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
	ke_session_shutdown(&t->sessions);
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
	if (!t->loop || t->reserve_fd < 0 ||
	    ke_session_init(&t->sessions, &svc->env, t->loop, t->cnt) < 0) {
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
	svc->env.keys = keys;
	svc->env.timeout_s = (cfg->ke_timeout_ms ? cfg->ke_timeout_ms : 5000) / 1000.0;
	svc->env.propagation_s = cfg->key_propagation_s;
	if (cfg->ke_ntp_port >= 0)
		svc->env.ntp_port = cfg->ke_ntp_port;
	else
		svc->env.ntp_port = ntp_port ? ntp_port : -1;
	if (!cfg->ke_certificate || !cfg->ke_private_key) {
		log_err("NTS-KE needs ke-certificate and ke-private-key");
		goto out;
	}
	if (cfg->ke_ntp_server)
		svc->ntp_server = strdup(cfg->ke_ntp_server);
	if (cfg->ke_ntp_server && !svc->ntp_server)
		goto out;
	svc->env.ntp_server = svc->ntp_server;
	svc->env.rl = &svc->rl;
	svc->env.admit = ke_admit_new(cfg->ke_max_sessions ? cfg->ke_max_sessions : 1,
				  cfg->ke_max_sessions_per_address ?
				  cfg->ke_max_sessions_per_address : 1, &svc->rl);
	if (!svc->env.admit)
		goto out;
	svc->env.tls = tls_store_new(cfg->ke_certificate, cfg->ke_private_key);
	if (!svc->env.tls)
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
	ke_admit_set_acl(ks->env.admit, acl);
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
	return tls_store_reload(ks->env.tls);
}

int ke_service_check_tls(struct ke_service *ks)
{
	return tls_store_check(ks->env.tls);
}

int64_t ke_service_cert_expiry(const struct ke_service *ks)
{
	return tls_store_not_after(ks->env.tls) - (int64_t)time(NULL);
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
	return ke_admit_sessions(ks->env.admit);
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
		ke_session_close_all(&t->sessions);
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
	tls_store_free(ks->env.tls);
	ke_admit_free(ks->env.admit);
	free(ks->ntp_server);
	free(ks);
}
