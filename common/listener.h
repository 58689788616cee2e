/* listener: what the NTP and NTS-KE services do alike when they open
 * their listening sockets: the addresses (configured or default), the
 * port a socket got when the configured one is 0, how many threads serve
 * them, and CPU steering (cpu-steering): each thread pinned to a CPU and
 * each address's SO_REUSEPORT group handing what arrives on a CPU to the
 * thread pinned there. */
#ifndef NTSD_LISTENER_H
#define NTSD_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/netaddr.h"

struct config_listen;
struct sock_filter;

/* Most threads one service runs, whatever the configuration says. */
#define LISTENER_MAX_THREADS 256

/* `configured` threads, or one per CPU this process may run on
 * (listener_cpus_allowed) when 0; between 1 and LISTENER_MAX_THREADS. */
unsigned listener_threads(unsigned configured);
/* The default listen addresses: 0.0.0.0 and, when this host has IPv6, ::
 * (else a notice naming `service`), both on `port`.  socktype is
 * SOCK_DGRAM or SOCK_STREAM.  Returns how many (1 or 2) were written. */
size_t listener_default_addrs(struct netaddr out[2], uint16_t port, int socktype,
			      const char *service);
/* The addresses a service listens on: the n_listen configured ones (at
 * most max), or when none is configured the defaults above on `port`.
 * out holds max entries, max at least 2.  Returns how many were written. */
size_t listener_addrs(const struct config_listen *listen, size_t n_listen,
		      struct netaddr *out, size_t max, uint16_t port, int socktype,
		      const char *service);
/* Before the first SO_REUSEPORT bind of a's port: 0 when no other socket
 * holds it, -1 (logged, naming `directive` and the address) when one
 * does.  SO_REUSEPORT lets a second process owning the port join its
 * group and take a share of the traffic, so a second ntsd would start
 * silently; a bind without SO_REUSEPORT is refused where any socket is
 * bound (TCP: listening), which tells.  Port 0 and other bind errors
 * give 0: the real bind picks the port or reports the error. */
int listener_check_free(const struct netaddr *a, int socktype, const char *directive);
/* Store in a the port fd is bound to (after binding a's port 0).  0, or
 * -1 with errno set. */
int listener_bound_port(int fd, struct netaddr *a);

/* ---- CPU steering ----
 * Thread i of a service of n runs on CPU id[i % n_cpus] of the CPUs the
 * process may use, and a classic BPF program on each listen address's
 * SO_REUSEPORT group (SO_ATTACH_REUSEPORT_CBPF) returns, for the CPU that
 * received a datagram (for TCP: the SYN), the index of the socket that
 * gets it.  A group's sockets are numbered in the order they joined it
 * (bind for UDP, listen for TCP), so each service opens thread i's socket
 * i-th: the packet is then served on the core whose softirq received it,
 * with no cross-core wake-up. */
#define LISTENER_MAX_CPUS 1024		/* CPU_SETSIZE */

/* CPUs by number, increasing. */
struct listener_cpus {
	unsigned n;
	uint16_t id[LISTENER_MAX_CPUS];
};

/* The CPUs this process may run on (sched_getaffinity: taskset, a
 * systemd CPUAffinity=, a cpuset).  0, or -1 with errno set. */
int listener_cpus_allowed(struct listener_cpus *c);
/* The CPU thread `index` is pinned to: id[index % n] (c->n > 0). */
unsigned listener_cpu_of(const struct listener_cpus *c, unsigned index);
/* The thread (socket index) that serves what arrives on `cpu`, of
 * n_threads (at least 1): the CPU at position p of c goes to p %
 * n_threads, the thread pinned to it when n_threads >= c->n; a CPU outside
 * c (its interrupts may still run there) to cpu % n_threads. */
unsigned listener_steer_index(const struct listener_cpus *c, unsigned cpu, unsigned n_threads);
/* The program that computes listener_steer_index in the kernel, into
 * out[0..max); its length, 0 when max is too small (2 * c->n + 3 always
 * suffices). */
size_t listener_steer_prog(const struct listener_cpus *c, unsigned n_threads,
			   struct sock_filter *out, size_t max);

/* One service's steering: its CPUs, whether its groups are steered and
 * which CPU each thread runs on.  Made as root before the threads start;
 * the threads pin themselves (listener_steer_pin), any thread reads. */
struct listener_steer;

/* For `service` ("ntp", "NTS-KE": log lines) of n_threads threads.
 * enabled false (cpu-steering no): nothing is pinned or steered.  Steering
 * is off, said once in the log, when the CPU set cannot be read or there
 * are more threads than CPUs (a CPU's packets would reach only one of its
 * threads); threads are still pinned then.  NULL when out of memory. */
struct listener_steer *listener_steer_new(const char *service, bool enabled, unsigned n_threads);
void listener_steer_free(struct listener_steer *s);	/* NULL-safe */
/* Once the n_threads sockets of a's group are open, in thread order: fd
 * (any of them) gets the program for the whole group.  A failure is
 * logged once with the reason and the address, and that group is served
 * unsteered (the kernel's flow hash). */
void listener_steer_group(struct listener_steer *s, int fd, const struct netaddr *a);
/* One line: what is steered and pinned, or why not (after the groups). */
void listener_steer_log(const struct listener_steer *s);
/* In thread `index`, before its loop: pin it to its CPU.  A failure is
 * logged once per service, with the reason; the thread then runs where
 * the scheduler puts it. */
void listener_steer_pin(struct listener_steer *s, unsigned index);
/* One thread's line in a service's per-thread view (/metrics): what it
 * took in (datagrams received, connections accepted) and the CPU it is
 * pinned to (-1: not pinned). */
struct listener_thread_view {
	uint64_t served;
	int cpu;
};

/* Every group steered (false with cpu-steering no or after a failure). */
bool listener_steer_on(const struct listener_steer *s);
/* The CPU thread `index` pinned itself to, -1 when it is not pinned. */
int listener_steer_cpu(const struct listener_steer *s, unsigned index);

#endif
