/* sandbox: a seccomp allow-list of system calls on every ntsd thread,
 * one list per thread role (plus a base every role has), built with
 * libseccomp.  A call outside the list traps: a SIGSYS handler writes one
 * line naming the call, the thread and its role (to stderr and, for a
 * detached daemon, to syslog) and the process dies of SIGSYS.
 *
 * Order (seccomp filters belong to one thread, a new thread inherits its
 * creator's, and a filter can be added to but never removed):
 *  1. main, as root: config, keys, every socket bound, files opened;
 *     privileges dropped.
 *  2. main: sandbox_init() builds every role's filter (as BPF, so that an
 *     error stops the start here, not in a thread) and the SIGSYS
 *     handler.  Nothing is filtered yet.
 *  3. main, still unfiltered, starts the services.  Each thread calls
 *     sandbox_enter(ROLE) after its own set-up and before its loop (NTP
 *     workers and NTS-KE threads through their service's thread_start
 *     hook).  Threads a library starts inside a call (libmicrohttpd's)
 *     get theirs from sandbox_run(): a short-lived thread enters the role,
 *     then makes that call, and what it creates inherits the filter.
 *     liburcu's call_rcu thread ("ntsd-reclaim") is created this way
 *     under SANDBOX_RECLAIM, first of all, inside the window where main
 *     has every signal blocked (so it inherits that mask too).
 *  4. main: sandbox_enter(SANDBOX_MAIN) just before its event loop.  Any
 *     thread main creates from then on inherits the main filter; a thread
 *     that wants a narrower list may call sandbox_enter() itself (filters
 *     stack: the intersection).
 *
 * Adding a role: a value below, a line in roles[] in sandbox.c and its
 * list there.  Adding a system call: one line in a list, with why.
 * SANDBOX_XDP is the slot for the AF_XDP workers (issue 13): its list is
 * there; the XDP path calls sandbox_enter(SANDBOX_XDP, i) in its workers.
 * Built with XDP (HAVE_XDP), bpf(2) is allowed command by command on the
 * XDP program's maps only: main (reload: lookup, update, delete,
 * get-next-key), metrics (counters: lookup), xdp (the XSKMAP entry:
 * lookup, update, delete); loading, attaching, making maps and test runs
 * happen before the sandbox or not at all.
 *
 * State is process-wide (the handler needs it): sandbox_init once, in
 * main, before any thread starts. */
#ifndef NTSD_SANDBOX_H
#define NTSD_SANDBOX_H

#include <stdbool.h>
#include <stdio.h>

enum sandbox_role {
	SANDBOX_MAIN,		/* main loop: reloads, housekeeping, clock source, teardown */
	SANDBOX_NTP,		/* NTP socket workers (ntpd/ntp_service.c) */
	SANDBOX_KE,		/* NTS-KE threads (nts-ke/ke_listen.c) */
	SANDBOX_METRICS,	/* the /metrics and /health thread (libmicrohttpd) */
	SANDBOX_XDP,		/* AF_XDP workers (issue 11) */
	SANDBOX_RECLAIM,	/* liburcu's call_rcu thread "ntsd-reclaim" (common/snapshot.c) */
	SANDBOX_N_ROLES
};

/* What `ntsd -n` reports: can this kernel and libseccomp sandbox us. */
struct sandbox_support {
	bool kernel;		/* seccomp filters (SECCOMP_RET_TRAP) available */
	int mode;		/* this process's Seccomp mode now (2: a service manager's filter) */
	unsigned lib_major, lib_minor, lib_micro;	/* libseccomp at run time */
	char why[128];		/* !kernel: the reason */
};
void sandbox_probe(struct sandbox_support *s);
/* One line "sandbox: ..." to out: on (and what it runs on) or off; 0.
 * enabled and no kernel support: the reason to err, -1. */
int sandbox_describe(bool enabled, FILE *out, FILE *err);

/* Build every role's filter and install the SIGSYS handler (main thread,
 * before the services start).  enabled false: sandbox_enter only names
 * threads.  to_syslog: the handler's line goes to /dev/log too.  The
 * environment variable NTSD_SANDBOX_SELFTEST=ROLE (main, ntp, ke, metrics, reclaim)
 * makes that role's threads make one forbidden call (mount(2) with no
 * arguments, which fails harmlessly without a filter) right after
 * entering the sandbox: the test that the filter is on.  0, or -1 logged. */
int sandbox_init(bool enabled, bool to_syslog);
/* In the calling thread: name it ("ntsd-ntp/INDEX", ...; main keeps its name),
 * then install the role's filter with no_new_privs.  A failure here is an
 * invariant broken after sandbox_init succeeded: logged, abort(). */
void sandbox_enter(enum sandbox_role role, unsigned index);
/* fn(arg) in a new thread that has entered role; waits for it and returns
 * what fn returned (-1 when the thread cannot start).  Threads fn creates
 * keep running under the role's filter. */
int sandbox_run(enum sandbox_role role, int (*fn)(void *), void *arg);
/* "main", "ntp", ...; NULL when role is out of range. */
const char *sandbox_role_name(enum sandbox_role role);

#endif
