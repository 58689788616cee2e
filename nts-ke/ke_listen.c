/* ke_listen: accept loops, descriptor shedding, threads and binding. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "common/counters.h"
#include "common/listener.h"
#include "common/log.h"
#include "common/snapshot.h"
#include "nts-ke/ke_listen.h"

#define KE_ACCEPT_BATCH 64
#define KE_LISTEN_BACKLOG 1024
/* Out of descriptors: stop accepting this long, so the loop does not spin. */
#define KE_FD_PAUSE_S 0.1
/* TCP_DEFER_ACCEPT: a connection is handed to accept() once its first
 * data (the ClientHello, or a PROXY header) is in, so a thread wakes once
 * per connection, with work to do; one that sends nothing waits in the
 * kernel's SYN queue, holding no descriptor and no session, and is
 * accepted after about this long anyway (the kernel rounds it up to its
 * SYN-ACK retransmission schedule: 1 s, then 2 s more), so ke-timeout then
 * closes it as before. */
#define KE_DEFER_ACCEPT_S 3

struct ke_thread;

struct ke_listener {
	struct ke_thread *t;
	int fd;
	ev_io io;
};

struct ke_thread {
	struct ke_listen *kl;
	pthread_t tid;
	bool running;
	struct ev_loop *loop;
	ev_async stop;
	ev_timer fd_pause;
	ev_prepare offline;		/* common/snapshot.h: before the loop waits */
	ev_check online;		/* and first thing after */
	struct ke_listener listeners[KE_LISTEN_MAX];
	size_t n_listeners;
	int reserve_fd;			/* given up to shed a connection */
	struct ke_sessions sessions;
	counter_t cnt[KE_CNT_COUNT];
};

struct ke_listen {
	const struct ke_session_env *env;
	struct ke_thread *threads;
	unsigned n_threads;		/* set up so far */
	struct listener_steer *steer;	/* cpu-steering */
	struct thread_start thread_start;	/* each thread, before its loop */
};

/* ---- accepting ---- */

static int reserve_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
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
		t->reserve_fd = reserve_open();
	}
	log_limited(t->kl->env->rl, LOG_LVL_WARN,
		    "NTS-KE: out of file descriptors (%s): shedding connections", strerror(err));
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
		t->reserve_fd = reserve_open();
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
			log_limited(l->t->kl->env->rl, LOG_LVL_WARN, "NTS-KE accept: %s",
				    strerror(errno));
			return;
		}
	}
}

/* A KE thread reads snapshots (keys, access rules, the TLS context) only
 * inside callbacks and keeps none past them, so it is offline while its
 * loop waits; the check watcher runs before any other callback. */
static void offline_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	snapshot_offline();
}

static void online_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	snapshot_online();
}

static void stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* ---- threads ---- */

static void thread_fini(struct ke_thread *t)
{
	ke_session_shutdown(&t->sessions);
	for (size_t i = 0; i < t->n_listeners; i++) {
		if (t->loop)
			ev_io_stop(t->loop, &t->listeners[i].io);
		close(t->listeners[i].fd);
	}
	if (t->loop) {
		ev_prepare_stop(t->loop, &t->offline);
		ev_check_stop(t->loop, &t->online);
		ev_timer_stop(t->loop, &t->fd_pause);
		ev_async_stop(t->loop, &t->stop);
		ev_loop_destroy(t->loop);
	}
	if (t->reserve_fd >= 0)
		close(t->reserve_fd);
}

/* t is zeroed; thread_fini undoes whatever this did, also on failure. */
static int thread_init(struct ke_listen *kl, struct ke_thread *t)
{
	t->kl = kl;
	t->reserve_fd = reserve_open();
	t->loop = ev_loop_new(EVFLAG_AUTO);
	if (!t->loop || t->reserve_fd < 0 ||
	    ke_session_init(&t->sessions, kl->env, t->loop, t->cnt) < 0) {
		log_errno(LOG_LVL_ERR, "NTS-KE: cannot set up a worker thread");
		return -1;
	}
	ev_async_init(&t->stop, stop_cb);
	ev_async_start(t->loop, &t->stop);
	ev_timer_init(&t->fd_pause, fd_pause_cb, KE_FD_PAUSE_S, 0.);
	t->fd_pause.data = t;
	ev_prepare_init(&t->offline, offline_cb);
	ev_set_priority(&t->offline, EV_MINPRI);
	ev_prepare_start(t->loop, &t->offline);
	ev_check_init(&t->online, online_cb);
	ev_set_priority(&t->online, EV_MAXPRI);
	ev_check_start(t->loop, &t->online);
	return 0;
}

static void *thread_main(void *arg)
{
	struct ke_thread *t = arg;
	char name[16];

	snprintf(name, sizeof(name), "ntsd-ke/%u", (unsigned)(t - t->kl->threads));
	pthread_setname_np(pthread_self(), name);
	/* Before the sandbox, which has no sched_setaffinity. */
	listener_steer_pin(t->kl->steer, (unsigned)(t - t->kl->threads));
	snapshot_thread_join();
	thread_start_run(&t->kl->thread_start, (unsigned)(t - t->kl->threads));
	ev_run(t->loop, 0);
	snapshot_thread_leave();
	return NULL;
}

struct ke_listen *ke_listen_new(unsigned n_threads, bool cpu_steering,
			       const struct ke_session_env *env)
{
	struct ke_listen *kl = calloc(1, sizeof(*kl));

	if (kl) {
		kl->threads = calloc(n_threads, sizeof(*kl->threads));
		kl->steer = listener_steer_new("NTS-KE", cpu_steering, n_threads);
	}
	if (!kl || !kl->threads || !kl->steer) {
		log_err("NTS-KE: out of memory for %u threads", n_threads);
		if (kl) {
			free(kl->threads);
			listener_steer_free(kl->steer);
		}
		free(kl);
		return NULL;
	}
	kl->env = env;
	for (unsigned k = 0; k < n_threads; k++) {
		/* Counted first, so ke_listen_free undoes a half-done one. */
		kl->n_threads++;
		if (thread_init(kl, &kl->threads[k]) < 0) {
			ke_listen_free(kl);
			return NULL;
		}
	}
	return kl;
}

void ke_listen_set_thread_start(struct ke_listen *kl, const struct thread_start *ts)
{
	kl->thread_start = *ts;
}

int ke_listen_start(struct ke_listen *kl)
{
	sigset_t all, old;
	int err = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned k = 0; k < kl->n_threads && err == 0; k++) {
		struct ke_thread *t = &kl->threads[k];

		if (t->running)
			continue;
		err = pthread_create(&t->tid, NULL, thread_main, t);
		if (err == 0)
			t->running = true;
		else
			log_err("NTS-KE: cannot start thread %u of %u: %s", k + 1, kl->n_threads,
				strerror(err));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err == 0)
		return 0;
	ke_listen_stop(kl);
	return -1;
}

void ke_listen_stop(struct ke_listen *kl)
{
	if (!kl)
		return;
	for (unsigned k = 0; k < kl->n_threads; k++)
		if (kl->threads[k].running)
			ev_async_send(kl->threads[k].loop, &kl->threads[k].stop);
	for (unsigned k = 0; k < kl->n_threads; k++) {
		struct ke_thread *t = &kl->threads[k];

		if (!t->running)
			continue;
		pthread_join(t->tid, NULL);
		t->running = false;
		/* The loop is idle now: this thread may touch it. */
		ke_session_close_all(&t->sessions);
		listeners_set(t, false);
	}
}

void ke_listen_free(struct ke_listen *kl)
{
	if (!kl)
		return;
	ke_listen_stop(kl);
	for (unsigned k = 0; k < kl->n_threads; k++)
		thread_fini(&kl->threads[k]);
	free(kl->threads);
	listener_steer_free(kl->steer);
	free(kl);
}

void ke_listen_counters(const struct ke_listen *kl, uint64_t out[KE_CNT_COUNT])
{
	memset(out, 0, sizeof(uint64_t) * KE_CNT_COUNT);
	for (unsigned k = 0; k < kl->n_threads; k++)
		for (int c = 0; c < KE_CNT_COUNT; c++)
			out[c] += counter_get(&kl->threads[k].cnt[c]);
}

bool ke_listen_steered(const struct ke_listen *kl)
{
	return listener_steer_on(kl->steer);
}

unsigned ke_listen_threads(const struct ke_listen *kl, struct listener_thread_view *v,
			   unsigned max)
{
	unsigned k;

	for (k = 0; k < kl->n_threads && k < max; k++) {
		v[k].served = counter_get(&kl->threads[k].cnt[KE_CNT_ACCEPTED]);
		v[k].cpu = listener_steer_cpu(kl->steer, k);
	}
	return k;
}

/* ---- binding ---- */

/* -1 with errno set; the caller logs. */
static int listen_socket(const struct netaddr *addr)
{
	int fd, err, one = 1, defer = KE_DEFER_ACCEPT_S;

	fd = socket(netaddr_family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto out;
	if (netaddr_family(addr) == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto out;
	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) < 0 ||
	    bind(fd, &addr->u.sa, addr->len) < 0)
		goto out;
	/* The group's k-th member is thread k's: listen() joins it. */
	if (listen(fd, KE_LISTEN_BACKLOG) < 0)
		goto out;
	return fd;
out:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static void add_listener(struct ke_thread *t, int fd)
{
	struct ke_listener *l = &t->listeners[t->n_listeners++];

	l->t = t;
	l->fd = fd;
	ev_io_init(&l->io, listener_cb, fd, EV_READ);
	l->io.data = l;
	ev_io_start(t->loop, &l->io);
}

int ke_listen_bind(struct ke_listen *kl, struct netaddr *addrs, size_t n)
{
	char who[NETADDR_STRLEN];

	if (n == 0 || n > KE_LISTEN_MAX) {
		log_err("NTS-KE: %zu addresses to listen on (1 to %d)", n, KE_LISTEN_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct netaddr *a = &addrs[i];

		/* The first socket picks the port when the configured one is 0;
		 * the others share it. */
		if (listener_check_free(a, SOCK_STREAM, "ke-listen") < 0)
			return -1;
		for (unsigned k = 0; k < kl->n_threads; k++) {
			int fd = listen_socket(a);

			if (fd < 0) {
				log_errno(LOG_LVL_ERR, "ke-listen %s", netaddr_str(a, who, sizeof(who)));
				return -1;
			}
			add_listener(&kl->threads[k], fd);
			if (k == 0 && netaddr_port(a) == 0 && listener_bound_port(fd, a) < 0) {
				log_errno(LOG_LVL_ERR, "ke-listen %s: getsockname",
					  netaddr_str(a, who, sizeof(who)));
				return -1;
			}
		}
		/* Every thread's socket is in the group: steer it. */
		listener_steer_group(kl->steer, kl->threads[0].listeners[i].fd, a);
		log_info("NTS-KE listening on %s (%u threads)", netaddr_str(a, who, sizeof(who)),
			 kl->n_threads);
	}
	listener_steer_log(kl->steer);
	return 0;
}
