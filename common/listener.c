/* listener: listen addresses, bound ports, thread counts and CPU
 * steering for both services. */
#include "build_config.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "common/listener.h"
#include "common/log.h"

unsigned listener_threads(unsigned configured)
{
	cpu_set_t set;
	long cores;

	if (configured == 0) {
		/* The CPUs we may run on, not all the host has: under taskset
		 * or a CPUAffinity= the others would only share these. */
		if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
			configured = (unsigned)CPU_COUNT(&set);
		} else {
			cores = sysconf(_SC_NPROCESSORS_ONLN);
			configured = cores > 0 ? (unsigned)cores : 1;
		}
	}
	return configured > LISTENER_MAX_THREADS ? LISTENER_MAX_THREADS : configured;
}

size_t listener_default_addrs(struct netaddr out[2], uint16_t port, int socktype,
			      const char *service)
{
	size_t n = 0;
	int fd;

	if (netaddr_parse("0.0.0.0", port, &out[n]) == 0)
		n++;
	/* A host without IPv6 still serves IPv4. */
	fd = socket(AF_INET6, socktype | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_notice("%s: no IPv6 on this host, listening on IPv4 only", service);
		return n;
	}
	close(fd);
	if (netaddr_parse("::", port, &out[n]) == 0)
		n++;
	return n;
}

size_t listener_addrs(const struct config_listen *listen, size_t n_listen,
		      struct netaddr *out, size_t max, uint16_t port, int socktype,
		      const char *service)
{
	size_t i;

	if (n_listen == 0)
		return listener_default_addrs(out, port, socktype, service);
	for (i = 0; i < n_listen && i < max; i++)
		out[i] = listen[i].addr;
	return i;
}

int listener_bound_port(int fd, struct netaddr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct netaddr bound;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (netaddr_from_sockaddr((struct sockaddr *)&ss, len, &bound) < 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	netaddr_set_port(a, netaddr_port(&bound));
	return 0;
}

int listener_check_free(const struct netaddr *a, int socktype, const char *directive)
{
	int fd, one = 1, rc = 0, family = netaddr_family(a);
	char buf[NETADDR_STRLEN];

	if (netaddr_port(a) == 0)
		return 0;
	fd = socket(family, socktype | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	/* The same address space as the real sockets: IPv6 only on IPv6, and
	 * for TCP connections left in TIME_WAIT by an earlier run do not count. */
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (socktype == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &a->u.sa, a->len) < 0 && errno == EADDRINUSE) {
		log_err("%s %s: address already in use by another process (a second ntsd?); "
			"refusing to start beside it, as SO_REUSEPORT would split the traffic",
			directive, netaddr_str(a, buf, sizeof(buf)));
		rc = -1;
	}
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- steering */

int listener_cpus_allowed(struct listener_cpus *c)
{
	cpu_set_t set;

	c->n = 0;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	for (unsigned cpu = 0; cpu < CPU_SETSIZE && cpu < LISTENER_MAX_CPUS; cpu++)
		if (CPU_ISSET(cpu, &set))
			c->id[c->n++] = (uint16_t)cpu;
	if (c->n == 0) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

unsigned listener_cpu_of(const struct listener_cpus *c, unsigned index)
{
	return c->id[index % c->n];
}

unsigned listener_steer_index(const struct listener_cpus *c, unsigned cpu, unsigned n_threads)
{
	for (unsigned p = 0; p < c->n; p++)
		if (c->id[p] == cpu)
			return p % n_threads;
	return cpu % n_threads;
}

/* A = the receiving CPU; for each CPU of c whose thread is not already
 * cpu % n: if A == cpu return its thread; then return A % n.  With the
 * CPUs 0..k-1 (no taskset) that is three instructions. */
size_t listener_steer_prog(const struct listener_cpus *c, unsigned n_threads,
			   struct sock_filter *out, size_t max)
{
	size_t len = 0;

	if (max < 3)
		return 0;
	out[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_CPU);
	for (unsigned p = 0; p < c->n; p++) {
		unsigned want = p % n_threads;

		if (c->id[p] % n_threads == want)
			continue;
		if (max - len < 4)
			return 0;
		out[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c->id[p], 0, 1);
		out[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, want);
	}
	out[len++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n_threads);
	out[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);
	return len;
}

struct listener_steer {
	const char *service;
	bool pin;			/* cpu-steering yes and the CPU set known */
	bool steer;			/* ... and no more threads than CPUs */
	unsigned n_threads;
	unsigned n_groups, n_failed;	/* groups seen, groups left unsteered */
	char why[192];			/* why not, when !pin or !steer */
	atomic_bool pin_warned;
	_Atomic int cpu[LISTENER_MAX_THREADS];	/* -1: not pinned */
	struct listener_cpus cpus;
};

struct listener_steer *listener_steer_new(const char *service, bool enabled, unsigned n_threads)
{
	struct listener_steer *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->service = service;
	s->n_threads = n_threads > LISTENER_MAX_THREADS ? LISTENER_MAX_THREADS : n_threads;
	atomic_init(&s->pin_warned, false);
	for (unsigned i = 0; i < LISTENER_MAX_THREADS; i++)
		atomic_init(&s->cpu[i], -1);
	if (!enabled) {
		snprintf(s->why, sizeof(s->why), "cpu-steering no");
		return s;
	}
	if (listener_cpus_allowed(&s->cpus) < 0) {
		snprintf(s->why, sizeof(s->why), "cannot read the CPUs allowed (sched_getaffinity: %s)",
			 strerror(errno));
		return s;
	}
	s->pin = true;
	s->steer = s->n_threads <= s->cpus.n;
	if (!s->steer)
		snprintf(s->why, sizeof(s->why),
			 "%u threads on %u CPUs (a CPU's packets would reach one of its threads "
			 "only): the kernel's flow hash spreads them", s->n_threads, s->cpus.n);
	return s;
}

void listener_steer_free(struct listener_steer *s)
{
	free(s);
}

void listener_steer_group(struct listener_steer *s, int fd, const struct netaddr *a)
{
	struct sock_filter insns[2 * LISTENER_MAX_CPUS + 3];
	struct sock_fprog prog;
	char buf[NETADDR_STRLEN];

	if (!s->steer)
		return;
	s->n_groups++;
	memset(&prog, 0, sizeof(prog));	/* the padding after len goes to the kernel too */
	prog.len = (unsigned short)listener_steer_prog(&s->cpus, s->n_threads, insns,
							 sizeof(insns) / sizeof(insns[0]));
	prog.filter = insns;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) == 0)
		return;
	if (s->n_failed++ == 0)
		log_warn("%s: cannot steer %s by CPU (SO_ATTACH_REUSEPORT_CBPF: %s): the kernel's "
			 "flow hash spreads its packets over the threads", s->service,
			 netaddr_str(a, buf, sizeof(buf)), strerror(errno));
}

/* How many CPUs the threads are pinned to. */
static unsigned listener_steer_n_cpus(const struct listener_steer *s)
{
	return s->n_threads < s->cpus.n ? s->n_threads : s->cpus.n;
}

/* "0-3,6": the CPUs the threads are pinned to. */
static void threads_cpus_str(const struct listener_steer *s, char *buf, size_t len)
{
	unsigned n = listener_steer_n_cpus(s), i = 0, j;
	size_t off = 0;

	buf[0] = '\0';
	while (i < n && off < len) {
		for (j = i; j + 1 < n && s->cpus.id[j + 1] == s->cpus.id[j] + 1; j++)
			;
		off += (size_t)(j > i ? snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "",
						 s->cpus.id[i], s->cpus.id[j])
				      : snprintf(buf + off, len - off, "%s%u", off ? "," : "",
						 s->cpus.id[i]));
		i = j + 1;
	}
}

void listener_steer_log(const struct listener_steer *s)
{
	char cpus[128];

	if (!s->pin) {
		log_info("%s: threads not pinned and packets not steered by CPU: %s", s->service,
			 s->why);
		return;
	}
	threads_cpus_str(s, cpus, sizeof(cpus));
	if (!s->steer)
		log_info("%s: %u thread%s pinned to CPU%s %s; packets not steered by CPU: %s",
			 s->service, s->n_threads, s->n_threads == 1 ? "" : "s", listener_steer_n_cpus(s) == 1 ? "" : "s", cpus,
			 s->why);
	else if (s->n_failed > 0)
		log_info("%s: %u thread%s pinned to CPU%s %s; %u of %u listen addresses steered by "
			 "CPU, the others by the kernel's flow hash", s->service, s->n_threads,
			 s->n_threads == 1 ? "" : "s", listener_steer_n_cpus(s) == 1 ? "" : "s", cpus,
			 s->n_groups - s->n_failed, s->n_groups);
	else
		log_info("%s: %u thread%s pinned to CPU%s %s, each serving what its CPU receives "
			 "(cpu-steering, %u listen address%s)", s->service, s->n_threads,
			 s->n_threads == 1 ? "" : "s", listener_steer_n_cpus(s) == 1 ? "" : "s", cpus,
			 s->n_groups, s->n_groups == 1 ? "" : "es");
}

void listener_steer_pin(struct listener_steer *s, unsigned index)
{
	unsigned cpu;
	cpu_set_t set;
	int err;

	if (!s->pin || index >= LISTENER_MAX_THREADS)
		return;
	cpu = listener_cpu_of(&s->cpus, index);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err == 0) {
		atomic_store(&s->cpu[index], (int)cpu);
		return;
	}
	if (!atomic_exchange(&s->pin_warned, true))
		log_warn("%s: cannot pin thread %u to CPU %u (%s): it runs where the scheduler "
			 "puts it", s->service, index, cpu, strerror(err));
}

bool listener_steer_on(const struct listener_steer *s)
{
	return s->steer && s->n_groups > 0 && s->n_failed == 0;
}

int listener_steer_cpu(const struct listener_steer *s, unsigned index)
{
	return index < LISTENER_MAX_THREADS ? atomic_load(&s->cpu[index]) : -1;
}
