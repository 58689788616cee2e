/* sandbox: per-role seccomp allow-lists (sandbox.h has the order of
 * things).  Each list entry names a system call and why the role makes
 * it; the lists were found by tracing the whole test suite's daemons
 * (strace -f, one file per thread) and each entry is there because some
 * test makes the call.  libseccomp builds one BPF program per role at
 * sandbox_init; a thread installs its program with prctl(2), so nothing
 * but the kernel runs between a thread's set-up and its filter.
 *
 * Finding a missing call: build with CPPFLAGS=-DSANDBOX_LEARN; the filters
 * then let everything through and the kernel logs each call outside the
 * lists (dmesg: "audit: type=1326 ... comm="ntp/0" ... syscall=N"). */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_XDP
#include <linux/bpf.h>
#endif
#include <linux/filter.h>
#include <linux/ptp_clock.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <seccomp.h>

#include "common/log.h"
#include "ntsd/sandbox.h"

/* System call numbers the handler can name (x86_64 and arm64 stay below). */
#define SANDBOX_MAX_NR 512
#define SANDBOX_LINE_MAX 256
#define SANDBOX_SYSLOG_PATH "/dev/log"
#define SANDBOX_SELFTEST_ENV "NTSD_SANDBOX_SELFTEST"

/* One allowed call, with at most one condition on an argument. */
struct rule {
	const char *name;
	unsigned n_args;
	struct scmp_arg_cmp arg;
};

#define ALLOW(sc) { #sc, 0, { 0, 0, 0, 0 } }
#define ALLOW_ARG_EQ(sc, n, v) { #sc, 1, { (n), SCMP_CMP_EQ, (v), 0 } }
#define ALLOW_ARG_MASKED(sc, n, mask, v) { #sc, 1, { (n), SCMP_CMP_MASKED_EQ, (mask), (v) } }
#define N(list) (sizeof(list) / sizeof((list)[0]))

/* Every thread. */
static const struct rule base_rules[] = {
	ALLOW(futex),			/* mutexes, condition variables, joins */
	ALLOW(write),			/* log lines to stderr; eventfd wake-ups */
	ALLOW(writev),			/* glibc's stdio on stderr */
	ALLOW(sendto),			/* syslog(3) to /dev/log */
	ALLOW_ARG_EQ(socket, 0, AF_UNIX),	/* syslog(3) reconnects when journald restarts */
	ALLOW(connect),			/* ... to /dev/log (clock-source uses the connected socket) */
	ALLOW(close),
	ALLOW(clock_gettime),		/* vDSO fallback; PHC clocks always */
	ALLOW(clock_nanosleep),		/* the 5 us hold of a queued reply; libev */
	ALLOW(nanosleep),
	ALLOW(gettimeofday),
	ALLOW(getpid),			/* the handler; syslog(3) LOG_PID */
	ALLOW(gettid),
	ALLOW(rt_sigprocmask),		/* glibc blocks signals around thread exit */
	ALLOW(rt_sigreturn),		/* return from a signal handler */
	ALLOW(rt_sigaction),		/* the SIGSYS handler resets itself to die by the signal */
	ALLOW(tgkill),			/* ... and raises it again; abort() */
	ALLOW(mmap),			/* malloc arenas */
	ALLOW(munmap),
	ALLOW(mprotect),		/* malloc arenas grow in place */
	ALLOW(madvise),			/* glibc trims freed thread stacks; secmem's MADV_DONTDUMP */
	ALLOW(brk),
	ALLOW(mremap),
	ALLOW(getrandom),		/* OpenSSL's DRBG, common/rng */
	ALLOW(sched_yield),
	ALLOW(restart_syscall),
	ALLOW(exit),			/* thread exit */
	ALLOW(exit_group),
	ALLOW_ARG_EQ(prctl, 0, PR_GET_NAME),	/* the handler names a thread that entered no role */
};

/* The main thread: the event loop, reloads (key file, certificate,
 * private key, configuration), housekeeping (PHC samples), clock-source
 * polls, shutdown.  Threads it creates later inherit this list. */
static const struct rule main_rules[] = {
	ALLOW(epoll_wait),		/* libev */
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(read),			/* files on reload; libev's eventfd and signal pipe */
	ALLOW(pread64),
	ALLOW(openat),			/* key file, certificate, key, config on reload */
	ALLOW(fstat),
	ALLOW(newfstatat),		/* stat(2) of the watched files */
	ALLOW(stat),			/* ev_stat polls the key file */
	ALLOW(lstat),			/* ... and the reload checks a symlinked key file or certificate */
	ALLOW(statfs),			/* libev checks the file system under an ev_stat for inotify */
	ALLOW(fstatfs),
	ALLOW(statx),
	ALLOW(lseek),
	ALLOW(fcntl),
	ALLOW(access),
	ALLOW(faccessat),
	ALLOW(faccessat2),
	ALLOW(readlink),		/* realpath(3) of the config for SIGHUP */
	ALLOW(getdents64),		/* OpenSSL's certificate directory lookups */
	ALLOW(inotify_add_watch),	/* ev_stat re-arms on a replaced key file */
	ALLOW(inotify_rm_watch),
	ALLOW(recvfrom),		/* clock-source: the upstream's reply */
	ALLOW(sendmsg),
	ALLOW(ioctl),			/* PTP_SYS_OFFSET* on the PHCs (narrowed below when possible) */
	ALLOW(adjtimex),		/* read the kernel clock state (modes 0; setting needs CAP_SYS_TIME) */
	ALLOW(clock_adjtime),
	ALLOW(shutdown),		/* MHD_stop_daemon shuts its listening socket down */
	ALLOW(unlink),			/* the pid file at exit */
	ALLOW(unlinkat),
	ALLOW(clone),			/* threads created after the sandbox: liburcu's call_rcu */
	ALLOW(clone3),
	ALLOW(set_robust_list),		/* ... which glibc sets up in them */
	ALLOW(rseq),
	ALLOW_ARG_EQ(prctl, 0, PR_SET_NAME),	/* ... and names */
	ALLOW(membarrier),		/* liburcu's grace periods */
	ALLOW(getuid), ALLOW(geteuid), ALLOW(getgid), ALLOW(getegid),	/* OpenSSL, glibc */
	ALLOW(uname),
	ALLOW(sysinfo),
};

/* NTP workers: batches of requests in and replies out, kernel transmit
 * timestamps from the error queue, worker 0 refreshes the clock state. */
static const struct rule ntp_rules[] = {
	ALLOW(poll),
	ALLOW(ppoll),
	ALLOW(recvmmsg),
	ALLOW(sendmmsg),
	ALLOW(recvmsg),			/* MSG_ERRQUEUE: transmit timestamps */
	ALLOW(sendmsg),
	ALLOW(adjtimex),		/* worker 0: the kernel clock state (read only, modes 0) */
	ALLOW(clock_adjtime),
	ALLOW(read),			/* the stop pipe */
};

/* NTS-KE threads: libev loop, accept, TLS over the socket. */
static const struct rule ke_rules[] = {
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(accept4),
	ALLOW(accept),
	ALLOW(read),			/* OpenSSL's socket BIO; libev's eventfd */
	ALLOW(recvfrom),
	ALLOW(recvmsg),
	ALLOW(sendmsg),
	ALLOW(shutdown),
	ALLOW(setsockopt),		/* per-connection options */
	ALLOW(getsockopt),
	ALLOW(getpeername),
	ALLOW(getsockname),
	ALLOW(fcntl),
	ALLOW_ARG_MASKED(openat, 2, O_ACCMODE | O_CREAT, O_RDONLY),	/* the reserve /dev/null */
	ALLOW(ioctl),			/* FIONREAD/FIONBIO on sockets */
	ALLOW(poll),			/* ke_admit: which held connections have closed (timeout 0) */
	ALLOW(ppoll),
};

/* libmicrohttpd's thread, and sandbox_run's thread that starts it. */
static const struct rule metrics_rules[] = {
	ALLOW(epoll_create1),		/* MHD_start_daemon */
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(eventfd2),		/* MHD's inter-thread wake-up */
	ALLOW(pipe2),
	ALLOW(read),
	ALLOW(accept4),
	ALLOW(accept),
	ALLOW(recvfrom),
	ALLOW(sendmsg),
	ALLOW(shutdown),
	ALLOW(setsockopt),
	ALLOW(getsockopt),
	ALLOW(getsockname),
	ALLOW(getpeername),
	ALLOW(fcntl),
	ALLOW(ioctl),			/* FIONBIO */
	ALLOW(clone),			/* MHD_start_daemon creates the thread */
	ALLOW(clone3),
	ALLOW(set_robust_list),
	ALLOW(rseq),
	ALLOW_ARG_EQ(prctl, 0, PR_SET_NAME),	/* MHD names its thread "MHD-single" */
	ALLOW(poll),
	ALLOW(select),
	ALLOW(pselect6),
	ALLOW(adjtimex),		/* /health and /metrics read the kernel clock state (modes 0) */
	ALLOW(clock_adjtime),
};

/* AF_XDP workers (issues 11 and 13; branch h-xdp fills the slot): a
 * worker may open its own XDP socket after entering the role, so the list
 * holds the whole AF_XDP set-up as well as the ring kicks.  sendto (the
 * TX kick) and mmap (the UMEM and the rings) are in the base list; bpf(2)
 * for the XSKMAP entry is in xdp_bpf_rules below. */
static const struct rule xdp_rules[] = {
	ALLOW_ARG_EQ(socket, 0, AF_XDP),	/* the XDP socket */
	ALLOW_ARG_EQ(socket, 0, AF_NETLINK),	/* libbpf's link and queue queries */
	ALLOW(setsockopt),		/* SOL_XDP: UMEM, ring sizes */
	ALLOW(getsockopt),		/* SOL_XDP: mmap offsets, statistics */
	ALLOW(bind),			/* the socket to an interface queue; netlink */
	ALLOW(getsockname),		/* libbpf checks its netlink socket */
	ALLOW(recvfrom),		/* the RX kick; netlink replies */
	ALLOW(recvmsg),			/* netlink replies */
	ALLOW(sendmsg),			/* netlink requests */
	ALLOW(poll),			/* waiting for the rings */
	ALLOW(ppoll),
	ALLOW(ioctl),			/* SIOCGIFINDEX and friends */
	ALLOW(adjtimex),		/* the kernel clock state (read only, modes 0) */
	ALLOW(clock_adjtime),
	ALLOW(read),			/* the stop pipe */
	ALLOW(fcntl),
};

/* bpf(2) on the XDP program's maps (ntpd/xdp_prog.c), command by command
 * (the low 32 bits of the first argument: it is an int).  Loading
 * programs, making maps, attaching and test runs happen before the
 * sandbox, as root; no role may do them afterwards.  Without XDP in the
 * build no role makes bpf(2) at all. */
#ifdef HAVE_XDP
#define ALLOW_BPF(cmd) ALLOW_ARG_MASKED(bpf, 0, 0xffffffffu, cmd)
/* main: a reload swaps the rules in (xdp_prog_update: it clears the spare
 * maps, fills them, swaps them in); the counters at exit.  And at exit
 * the AF_XDP sockets' ring offsets, which libxdp reads to unmap their
 * rings (xsk_socket__delete, xsk_umem__delete from ntp_xdp_free). */
static const struct rule main_bpf_rules[] = {
	ALLOW_ARG_EQ(getsockopt, 1, SOL_XDP),
	ALLOW_BPF(BPF_MAP_LOOKUP_ELEM),
	ALLOW_BPF(BPF_MAP_UPDATE_ELEM),
	ALLOW_BPF(BPF_MAP_DELETE_ELEM),
	ALLOW_BPF(BPF_MAP_GET_NEXT_KEY),
};
/* metrics: the program's counters (xdp_prog_counters). */
static const struct rule metrics_bpf_rules[] = {
	ALLOW_BPF(BPF_MAP_LOOKUP_ELEM),
};
/* xdp: a worker's socket into the XSKMAP and out of it again
 * (xdp_prog_set_socket), the counters. */
static const struct rule xdp_bpf_rules[] = {
	ALLOW_BPF(BPF_MAP_LOOKUP_ELEM),
	ALLOW_BPF(BPF_MAP_UPDATE_ELEM),
	ALLOW_BPF(BPF_MAP_DELETE_ELEM),
};
#define BPF_LIST(list) list, N(list)
#else
#define BPF_LIST(list) NULL, 0
#endif

/* liburcu's call_rcu thread (and sandbox_run's thread that creates it):
 * waits on its futex for callbacks, frees what they release. */
static const struct rule reclaim_rules[] = {
	ALLOW(clone),			/* get_default_call_rcu_data creates the thread */
	ALLOW(clone3),
	ALLOW(set_robust_list),		/* glibc's thread start */
	ALLOW(rseq),
	ALLOW(poll),			/* liburcu's short waits between grace-period checks */
	ALLOW(membarrier),		/* grace periods, where the kernel has it */
};

#ifdef NTSD_SANITIZERS
/* ASan/UBSan builds only: the runtimes' own calls (reports, the shadow
 * memory, LeakSanitizer's stop-the-world at exit, which clones a tracer
 * that ptraces every thread and reads /proc/self/{maps,task}). */
static const struct rule sanitizer_rules[] = {
	ALLOW(open), ALLOW(getdents),	/* the runtime uses the old calls on x86_64 */
	ALLOW(openat), ALLOW(read), ALLOW(pread64), ALLOW(fstat), ALLOW(newfstatat),
	ALLOW(getdents64), ALLOW(readlink), ALLOW(lseek),
	ALLOW(clone), ALLOW(clone3), ALLOW(ptrace), ALLOW(wait4), ALLOW(prctl),
	ALLOW(sigaltstack), ALLOW(sched_getaffinity), ALLOW(getrlimit), ALLOW(prlimit64),
	ALLOW(setrlimit), ALLOW(process_vm_readv), ALLOW(kill), ALLOW(tkill),
	ALLOW(getppid), ALLOW(pipe2), ALLOW(uname),
};
#endif

static const struct role {
	const char *name;
	const struct rule *rules;
	size_t n;
	const struct rule *bpf;		/* its bpf(2) commands (HAVE_XDP); NULL: none */
	size_t n_bpf;
} roles[SANDBOX_N_ROLES] = {
	[SANDBOX_MAIN] = { "main", main_rules, N(main_rules), BPF_LIST(main_bpf_rules) },
	[SANDBOX_NTP] = { "ntp", ntp_rules, N(ntp_rules), NULL, 0 },
	[SANDBOX_KE] = { "ke", ke_rules, N(ke_rules), NULL, 0 },
	[SANDBOX_METRICS] = { "metrics", metrics_rules, N(metrics_rules),
			      BPF_LIST(metrics_bpf_rules) },
	[SANDBOX_XDP] = { "xdp", xdp_rules, N(xdp_rules), BPF_LIST(xdp_bpf_rules) },
	[SANDBOX_RECLAIM] = { "reclaim", reclaim_rules, N(reclaim_rules), NULL, 0 },
};

/* Process-wide: set by sandbox_init before any thread starts, read-only
 * afterwards (the SIGSYS handler reads it). */
static struct {
	bool enabled;
	int selftest;			/* role number, -1: none */
	int syslog_fd;			/* -1: stderr only */
	pid_t pid;
	struct sock_fprog prog[SANDBOX_N_ROLES];
	char *names[SANDBOX_MAX_NR];	/* system call names for the handler */
} sb = { .selftest = -1, .syslog_fd = -1 };

/* Per thread, for the handler's line; NULL: a thread that did not enter
 * a role but inherited its creator's filter (libmicrohttpd's). */
static __thread const char *thread_role;
static __thread char thread_name[16];

const char *sandbox_role_name(enum sandbox_role role)
{
	return (unsigned)role < SANDBOX_N_ROLES ? roles[role].name : NULL;
}

/* ---- the SIGSYS handler: async-signal-safe only ---- */

struct line {
	char b[SANDBOX_LINE_MAX];
	size_t n;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->n < sizeof(l->b) - 1)
		l->b[l->n++] = *s++;
}

static void put_uint(struct line *l, unsigned long v)
{
	char d[24];
	size_t k = 0;

	do
		d[k++] = (char)('0' + v % 10);
	while ((v /= 10) && k < sizeof(d));
	while (k && l->n < sizeof(l->b) - 1)
		l->b[l->n++] = d[--k];
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	int nr = si->si_syscall;
	const char *name = nr >= 0 && nr < SANDBOX_MAX_NR && sb.names[nr] ? sb.names[nr] : "?";
	struct line msg = { .n = 0 }, err = { .n = 0 }, sys = { .n = 0 };
	struct sigaction dfl;
	char comm[16] = "?";

	if (!thread_role)
		prctl(PR_GET_NAME, comm, 0L, 0L, 0L);
	put_str(&msg, "sandbox: thread ");
	put_str(&msg, thread_role ? thread_name : comm);
	put_str(&msg, thread_role ? " (role " : " (");
	put_str(&msg, thread_role ? thread_role : "its creator's role");
	put_str(&msg, ") made system call ");
	put_uint(&msg, (unsigned long)nr);
	put_str(&msg, " (");
	put_str(&msg, name);
	put_str(&msg, "), which its allow-list forbids: killing the process\n");
	msg.b[msg.n] = '\0';
	/* As log.c writes them: "ntsd[PID]: error: ..." on stderr. */
	put_str(&err, "ntsd[");
	put_uint(&err, (unsigned long)sb.pid);
	put_str(&err, "]: error: ");
	put_str(&err, msg.b);
	if (write(STDERR_FILENO, err.b, err.n) < 0)
		err.n = 0;	/* nowhere to say it but syslog */
	if (sb.syslog_fd >= 0) {
		put_str(&sys, "<26>ntsd[");	/* LOG_DAEMON | LOG_CRIT */
		put_uint(&sys, (unsigned long)sb.pid);
		put_str(&sys, "]: ");
		put_str(&sys, msg.b);
		(void)send(sb.syslog_fd, sys.b, sys.n - 1, MSG_NOSIGNAL);
	}
	/* Die of SIGSYS (a core, minus the keys: common/secmem.h) as soon as
	 * the handler returns and the signal is unblocked again. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGSYS, &dfl, NULL);
	syscall(SYS_tgkill, sb.pid, syscall(SYS_gettid), SIGSYS);
}

/* ---- building the filters ---- */

static int add_rules(scmp_filter_ctx ctx, const struct rule *r, size_t n, const char *role)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(r[i].name), rc;

		if (nr == __NR_SCMP_ERROR) {
			log_err("sandbox: role %s: unknown system call %s", role, r[i].name);
			return -1;
		}
		if (nr < 0)
			continue;	/* not on this architecture (a pseudo number) */
		if (r[i].n_args)
			rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, nr, 1, &r[i].arg);
		else
			rc = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0);
		/* -EEXIST: the same call without a condition already allows it. */
		if (rc < 0 && rc != -EEXIST) {
			log_err("sandbox: role %s: %s: %s", role, r[i].name, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* The BPF program libseccomp builds for ctx, read back from a memfd. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog, const char *role)
{
	int fd = memfd_create("ntsd-sandbox", MFD_CLOEXEC), rc = -1;
	struct stat st;
	void *code = NULL;

	if (fd < 0) {
		log_errno(LOG_LVL_ERR, "sandbox: memfd_create");
		return -1;
	}
	if (seccomp_export_bpf(ctx, fd) < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		log_err("sandbox: role %s: cannot build the filter", role);
		goto out;
	}
	code = malloc((size_t)st.st_size);
	if (!code || pread(fd, code, (size_t)st.st_size, 0) != st.st_size) {
		log_err("sandbox: role %s: cannot read the filter back", role);
		free(code);
		goto out;
	}
	prog->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	prog->filter = code;
	rc = 0;
out:
	close(fd);
	return rc;
}

static int build_role(enum sandbox_role role)
{
	const struct role *r = &roles[role];
#ifdef SANDBOX_LEARN
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_LOG);
#else
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
#endif
	int rc = -1;

	if (!ctx) {
		log_err("sandbox: seccomp_init failed");
		return -1;
	}
	if (add_rules(ctx, base_rules, N(base_rules), r->name) < 0 ||
	    add_rules(ctx, r->rules, r->n, r->name) < 0 ||
	    add_rules(ctx, r->bpf, r->n_bpf, r->name) < 0)
		goto out;
#ifdef NTSD_SANITIZERS
	if (add_rules(ctx, sanitizer_rules, N(sanitizer_rules), r->name) < 0)
		goto out;
#endif
	rc = export_prog(ctx, &sb.prog[role], r->name);
out:
	seccomp_release(ctx);
	return rc;
}

static void resolve_names(void)
{
	for (int nr = 0; nr < SANDBOX_MAX_NR; nr++)
		sb.names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}

static int open_syslog(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", SANDBOX_SYSLOG_PATH);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	log_warn("sandbox: cannot reach %s: a forbidden call is logged to stderr only",
		 SANDBOX_SYSLOG_PATH);
	return -1;
}

static int selftest_role(void)
{
	const char *s = getenv(SANDBOX_SELFTEST_ENV);

	for (int r = 0; s && r < SANDBOX_N_ROLES; r++)
		if (strcmp(s, roles[r].name) == 0)
			return r;
	if (s)
		log_warn("%s=%s: no such role; ignored", SANDBOX_SELFTEST_ENV, s);
	return -1;
}

int sandbox_init(bool enabled, bool to_syslog)
{
	struct sigaction sa;
	struct sandbox_support sup;

	sb.enabled = enabled;
	sb.selftest = selftest_role();
	if (sb.selftest >= 0)
		log_warn("%s: threads of role %s make a forbidden call once sandboxed",
			 SANDBOX_SELFTEST_ENV, roles[sb.selftest].name);
	if (!enabled) {
		log_info("sandbox: off (sandbox no)");
		return 0;
	}
	sandbox_probe(&sup);
	if (!sup.kernel) {
		log_err("sandbox: %s; set `sandbox no` to run without it", sup.why);
		return -1;
	}
	for (int r = 0; r < SANDBOX_N_ROLES; r++)
		if (build_role((enum sandbox_role)r) < 0)
			return -1;
	resolve_names();
	sb.pid = getpid();
	if (to_syslog)
		sb.syslog_fd = open_syslog();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		log_errno(LOG_LVL_ERR, "sandbox: sigaction SIGSYS");
		return -1;
	}
	log_info("sandbox: on (seccomp allow-lists for the roles main, ntp, ke, metrics, reclaim)");
	return 0;
}

/* ---- entering ---- */

static void name_thread(enum sandbox_role role, unsigned index)
{
	if (role == SANDBOX_MAIN) {
		snprintf(thread_name, sizeof(thread_name), "main");
		return;
	}
	if (role == SANDBOX_METRICS || role == SANDBOX_RECLAIM)
		snprintf(thread_name, sizeof(thread_name), "ntsd-%s", roles[role].name);
	else
		snprintf(thread_name, sizeof(thread_name), "ntsd-%s/%u", roles[role].name, index);
	pthread_setname_np(pthread_self(), thread_name);
}

void sandbox_enter(enum sandbox_role role, unsigned index)
{
	sigset_t sys;

	if ((unsigned)role >= SANDBOX_N_ROLES) {
		log_err("sandbox: no role %d", (int)role);
		abort();
	}
	thread_role = roles[role].name;
	name_thread(role, index);
	if (sb.enabled) {
		/* A blocked SIGSYS would kill without the handler's line. */
		sigemptyset(&sys);
		sigaddset(&sys, SIGSYS);
		pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sb.prog[role], 0L, 0L) < 0) {
			log_errno(LOG_LVL_ERR, "sandbox: thread %s: cannot install the filter",
				  thread_name);
			abort();
		}
	}
	if (sb.selftest == (int)role) {
		/* Harmless without the filter: no source, no target. */
		long rc = syscall(SYS_mount, NULL, NULL, NULL, 0UL, NULL);

		log_warn("sandbox: self-test: mount(2) in thread %s returned %ld (%s): "
			 "no filter stopped it", thread_name, rc, strerror(errno));
	}
}

struct run {
	enum sandbox_role role;
	int (*fn)(void *);
	void *arg;
	int rc;
};

static void *run_main(void *p)
{
	struct run *r = p;

	sandbox_enter(r->role, 0);
	r->rc = r->fn(r->arg);
	return NULL;
}

int sandbox_run(enum sandbox_role role, int (*fn)(void *), void *arg)
{
	struct run r = { role, fn, arg, -1 };
	pthread_t t;
	int err = pthread_create(&t, NULL, run_main, &r);

	if (err) {
		log_err("sandbox: cannot start a %s thread: %s", roles[role].name, strerror(err));
		return -1;
	}
	pthread_join(t, NULL);
	return r.rc;
}

/* ---- what ntsd -n says ---- */

void sandbox_probe(struct sandbox_support *s)
{
	const struct scmp_version *v = seccomp_version();
	unsigned int action = SECCOMP_RET_TRAP;
	int mode;

	memset(s, 0, sizeof(*s));
	s->lib_major = v ? v->major : 0;
	s->lib_minor = v ? v->minor : 0;
	s->lib_micro = v ? v->micro : 0;
	mode = prctl(PR_GET_SECCOMP, 0L, 0L, 0L, 0L);
	if (mode < 0) {
		snprintf(s->why, sizeof(s->why), "the kernel has no seccomp (PR_GET_SECCOMP: %s)",
			 strerror(errno));
		return;
	}
	s->mode = mode;
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
		snprintf(s->why, sizeof(s->why),
			 "the kernel has no seccomp filters with SECCOMP_RET_TRAP (%s)",
			 strerror(errno));
		return;
	}
	s->kernel = true;
}

int sandbox_describe(bool enabled, FILE *out, FILE *err)
{
	struct sandbox_support s;

	sandbox_probe(&s);
	if (!enabled) {
		fprintf(out, "sandbox: off (sandbox no); seccomp filters %savailable here\n",
			s.kernel ? "" : "not ");
		return 0;
	}
	if (!s.kernel) {
		fprintf(err, "sandbox: %s; set `sandbox no` to run without it\n", s.why);
		return -1;
	}
	fprintf(out, "sandbox: on: seccomp filters available (libseccomp %u.%u.%u%s)\n",
		s.lib_major, s.lib_minor, s.lib_micro,
		s.mode == 2 ? "; stacked on the service manager's filter" : "");
	return 0;
}
