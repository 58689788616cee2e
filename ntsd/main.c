/* ntsd: the NTS server daemon: the NTS-KE service and the NTP responder
 * in one process, sharing the master keys.
 *
 * Start-up order matters: parse and check everything, load keys, bind
 * every socket (as root), detach, write the pid file, drop privileges,
 * then start the service threads with signals blocked so only the main
 * loop sees them. */
#include "build_config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <ev.h>

#include "common/acl.h"
#include "common/config.h"
#include "common/keyset.h"
#include "common/log.h"
#include "common/snapshot.h"
#include "nts-ke/ke_service.h"
#include "nts-ke/tls_ctx.h"
#include "ntpd/clock_source.h"
#include "ntsd/caps.h"
#include "ntsd/clockwatch.h"
#include "ntsd/daemon.h"
#include "ntsd/keywatch.h"
#include "ntpd/ntp_service.h"
#include "ntpd/ntp_xdp.h"
#include "ntsd/ops.h"
#include "ntsd/precheck.h"
#include "ntsd/sandbox.h"
#include "ntpd/responder.h"

#define HOUSEKEEPING_INTERVAL_S 1.0

struct ntsd {
	const char *config_path;
	struct config cfg;
	struct snapshot keys;
	struct keywatch keywatch;
	struct ke_service *ke;
	struct ntp_service *ntp;
	struct clock_source *clk;	/* clock-source ntp; NULL: kernel */
	struct clockwatch clockwatch;
	struct ops ops;			/* access rules, /metrics, /health */
	struct ev_loop *loop;
	ev_signal sighup, sigterm, sigint;
	ev_stat keyfile_watch;		/* inotify where available, else a stat poll */
	ev_timer housekeeping;
	ev_timer drain;			/* shutdown-drain after SIGTERM */
	bool draining;
	bool to_syslog;			/* detached: logs go to syslog */
	int pid_fd;			/* the locked pid file; -1: none */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ntsd [OPTION]...\n"
		"Network Time Security server: NTS-KE (TCP %d) and NTP with NTS (UDP %d).\n"
		"\n"
		"  -c, --config FILE   configuration file (default %s)\n"
		"  -f, --foreground    stay in the foreground and log to stderr\n"
		"  -n, --check-config  check the configuration, certificate and key file, then exit\n"
		"  -d, --debug         log debug messages (implies nothing else)\n"
		"  -V, --version       print the version and exit\n"
		"  -h, --help          print this help and exit\n"
		"\n"
		"Signals: SIGHUP reloads the certificate, private key, key file and access rules;\n"
		"SIGTERM shuts down after shutdown-drain (/health 503 meanwhile), SIGINT or a\n"
		"second SIGTERM at once.  See ntsd(8) and ntsd.conf(5).\n",
		CONFIG_DEFAULT_KE_PORT, CONFIG_DEFAULT_NTP_PORT, CONFIG_DEFAULT_PATH);
}

static void reload(struct ntsd *d, bool force)
{
	ops_reload_begin(&d->ops);
	keywatch_check(&d->keywatch, force);
	if (d->ke) {
		if (force)
			ke_service_reload_tls(d->ke);
		else
			ke_service_check_tls(d->ke);
	}
	ops_reload_end(&d->ops, force);	/* key file state; access rules on SIGHUP */
}

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct ntsd *d = w->data;

	log_notice("SIGHUP: reloading certificate, private key, key file and access rules");
	reload(d, true);
}

/* SIGTERM with shutdown-drain and a /health to turn: keep serving while
 * a load balancer sees the 503 and stops sending.  SIGINT, a second
 * SIGTERM or the drain's end: stop. */
static void on_sigterm(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct ntsd *d = w->data;
	int64_t drain = d->cfg.shutdown_drain_s;

	if (w->signum == SIGTERM && !d->draining && drain > 0 && d->ops.metrics) {
		d->draining = true;
		ops_drain(&d->ops);
		log_notice("SIGTERM: /health answers 503, serving %llds more (shutdown-drain); "
			   "SIGTERM or SIGINT again stops at once", (long long)drain);
		ev_timer_set(&d->drain, (double)drain, 0.0);
		ev_timer_start(loop, &d->drain);
		return;
	}
	log_notice("signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void on_drained(struct ev_loop *loop, ev_timer *w, int revents)
{
	log_notice("shutdown drain over: shutting down");
	ev_break(loop, EVBREAK_ALL);
}

static void on_keyfile_changed(struct ev_loop *loop, ev_stat *w, int revents)
{
	struct ntsd *d = w->data;

	ops_reload_begin(&d->ops);
	keywatch_check(&d->keywatch, false);
	ops_reload_end(&d->ops, false);
}

static void on_housekeeping(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ntsd *d = w->data;

	/* hw-timestamp: one sample of each NIC's PHC a second (ntpd/phc_dev.h). */
	if (d->ntp)
		ntp_service_hw_poll(d->ntp);
	reload(d, false);
}

/* The NTP port NTS-KE may advertise when ke-ntp-port is not set: the
 * responder's own port when it is not the default (ke_service decides). */
static uint16_t advertised_ntp_port(const struct ntsd *d)
{
	uint16_t port;

	if (!d->ntp || d->cfg.ke_ntp_port >= 0)
		return 0;
	port = ntp_service_port(d->ntp);
	return port == CONFIG_DEFAULT_NTP_PORT ? 0 : port;
}

/* `ntsd -n`: for one service's rules, what each family's unmatched
 * addresses get and why (acl.h has the rule). */
static void print_access(const char *service, const char *directives, const struct acl *acl)
{
	static const struct {
		int family;
		const char *name, *space;
	} fams[] = { { AF_INET, "IPv4", "0.0.0.0/0" }, { AF_INET6, "IPv6", "::/0" } };

	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		struct acl_family_info fi;
		char why[64];

		acl_family_info(acl, fams[i].family, &fi);
		if (fi.n_rules == 0)
			snprintf(why, sizeof(why), "no rules");
		else if (fi.whole_space)
			snprintf(why, sizeof(why), "the rule for %s decides", fams[i].space);
		else if (fi.n_allow > 0)
			snprintf(why, sizeof(why), "allow rules, none for %s", fams[i].space);
		else
			snprintf(why, sizeof(why), "deny rules only");
		printf("%s access (%s), %s: %zu rule%s; unmatched addresses are %s (%s)\n",
		       service, directives, fams[i].name, fi.n_rules, fi.n_rules == 1 ? "" : "s",
		       fi.default_allows ? "allowed" : "denied", why);
	}
}

static int check_config(struct ntsd *d)
{
	struct keyset_error kerr;
	struct keyset *ks;

	if (precheck_run(&d->cfg, stdout, stderr) < 0)
		return -1;
	if (access(d->cfg.key_file, F_OK) == 0) {
		ks = keyset_load_dated(d->cfg.key_file, (int64_t)time(NULL), &kerr);
		if (!ks) {
			fprintf(stderr, "%s\n", kerr.msg);
			return -1;
		}
		printf("%s: %zu master keys\n", d->cfg.key_file, keyset_count(ks));
		keyset_free(ks);
	} else if (!d->cfg.key_file_create) {
		fprintf(stderr, "%s: " KEYWATCH_NO_CREATE_MSG "\n", d->cfg.key_file);
		return -1;
	} else {
		printf("%s: does not exist yet; ntsd will create it on first start\n",
		       d->cfg.key_file);
	}
	if (d->cfg.ke_enabled) {
		char err[512];
		SSL_CTX *ctx = tls_ctx_new(d->cfg.ke_certificate, d->cfg.ke_private_key, err,
					   sizeof(err));

		if (!ctx) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
		printf("%s: certificate and private key OK, expires in %lld days\n",
		       d->cfg.ke_certificate,
		       (long long)(tls_ctx_not_after(ctx) - (int64_t)time(NULL)) / 86400);
		SSL_CTX_free(ctx);
	}
	if (d->cfg.ntp_enabled)
		print_access("NTP", "ntp-allow/ntp-deny", d->cfg.ntp_acl);
	if (d->cfg.ke_enabled)
		print_access("NTS-KE", "ke-allow/ke-deny", d->cfg.ke_acl);
	if (d->cfg.ke_enabled && d->cfg.ke_proxy)
		printf("NTS-KE PROXY v2 (ke-proxy-protocol): %zu prefix%s of load balancers that "
		       "must send a header; from any other peer a header is refused\n",
		       acl_count(d->cfg.ke_proxy), acl_count(d->cfg.ke_proxy) == 1 ? "" : "es");
	printf("%s: configuration OK\n", d->config_path);
	return 0;
}

static void log_listeners(const struct ntsd *d)
{
	char buf[NETADDR_STRLEN];

	for (size_t i = 0; d->ntp && i < ntp_service_n_listen(d->ntp); i++)
		log_info("NTP listening on %s",
			 netaddr_str(ntp_service_listen_addr(d->ntp, i), buf, sizeof(buf)));
}

/* One line at shutdown so an operator sees what the run did. */
static void log_totals(const struct ntsd *d)
{
	uint64_t ntp[NTP_CNT_COUNT] = { 0 }, ke[KE_CNT_COUNT] = { 0 }, naks = 0, drops = 0;

	if (d->ntp)
		ntp_service_counters(d->ntp, ntp, NTP_CNT_COUNT);
	if (d->ke)
		ke_service_counters(d->ke, ke);
	for (int c = NTP_CNT_NAK_COOKIE_LENGTH; c <= NTP_CNT_NAK_AUTH; c++)
		naks += ntp[c];
	for (int c = NTP_CNT_FIRST_DROP; c < NTP_CNT_COUNT; c++)
		drops += ntp[c];
	log_notice("totals: %llu NTS replies, %llu plain replies, %llu NTS NAKs, %llu dropped; "
		   "%llu NTS-KE responses, %llu failed handshakes",
		   (unsigned long long)ntp[NTP_CNT_NTS_REPLY],
		   (unsigned long long)ntp[NTP_CNT_PLAIN_REPLY], (unsigned long long)naks,
		   (unsigned long long)drops, (unsigned long long)ke[KE_CNT_RESPONSES],
		   (unsigned long long)ke[KE_CNT_HANDSHAKE_FAILED]);
}

/* After dropping privileges: reloads read these files as the new user. */
static void check_readable(const struct ntsd *d)
{
	const char *files[] = { d->cfg.key_file, d->ke ? d->cfg.ke_certificate : NULL,
				d->ke ? d->cfg.ke_private_key : NULL };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i] && access(files[i], R_OK) < 0)
			log_warn("%s: not readable as user %s (%s): reloads will fail; "
				 "give the file to that user", files[i], d->cfg.user, strerror(errno));
}

/* The services' thread_start hooks: each thread enters its sandbox. */
static void enter_ntp(void *arg, unsigned index)
{
	sandbox_enter(SANDBOX_NTP, index);
}

static void enter_ke(void *arg, unsigned index)
{
	sandbox_enter(SANDBOX_KE, index);
}

/* In a thread under the metrics filter, which libmicrohttpd's thread
 * inherits (sandbox.h). */
static int start_ops(void *ops)
{
	return ops_start(ops);
}

/* In a thread under the reclaim filter, which liburcu's call_rcu thread
 * inherits (sandbox.h). */
static int start_reclaim(void *unused)
{
	(void)unused;
	snapshot_reclaim_start();
	return 0;
}

/* Every thread starts here, each entering its sandbox (sandbox.h); the
 * main thread enters its own in run_loop, after them. */
static int start_services(struct ntsd *d)
{
	const struct thread_start ntp_start = { enter_ntp, NULL }, ke_start = { enter_ke, NULL };
	sigset_t saved;
	int rc = 0;

	if (sandbox_init(d->cfg.sandbox, d->to_syslog) < 0)
		return -1;
	daemon_signals_block(&saved);
	/* liburcu's call_rcu thread frees what reloads replace: created by a
	 * thread under the reclaim filter, which it inherits (sandbox.h). */
	if (sandbox_run(SANDBOX_RECLAIM, start_reclaim, NULL) < 0)
		rc = -1;
	snapshot_reclaim_name();
	if (rc == 0 && d->ntp) {
		ntp_service_set_thread_start(d->ntp, &ntp_start);
		if (ntp_service_start(d->ntp) < 0)
			rc = -1;
	}
	if (rc == 0 && d->ke) {
		ke_service_set_thread_start(d->ke, &ke_start);
		if (ke_service_start(d->ke) < 0)
			rc = -1;
	}
	if (rc == 0 && sandbox_run(SANDBOX_METRICS, start_ops, &d->ops) < 0)
		rc = -1;
	daemon_signals_restore(&saved);
	return rc;
}

static void run_loop(struct ntsd *d)
{
	d->loop = EV_DEFAULT;
	ev_signal_init(&d->sighup, on_sighup, SIGHUP);
	ev_signal_init(&d->sigterm, on_sigterm, SIGTERM);
	ev_signal_init(&d->sigint, on_sigterm, SIGINT);
	ev_timer_init(&d->housekeeping, on_housekeeping, HOUSEKEEPING_INTERVAL_S,
		      HOUSEKEEPING_INTERVAL_S);
	ev_stat_init(&d->keyfile_watch, on_keyfile_changed, d->cfg.key_file,
		     HOUSEKEEPING_INTERVAL_S);
	ev_timer_init(&d->drain, on_drained, 0.0, 0.0);
	d->sighup.data = d->housekeeping.data = d->keyfile_watch.data = d;
	d->sigterm.data = d->sigint.data = d;
	ev_stat_start(d->loop, &d->keyfile_watch);
	ev_signal_start(d->loop, &d->sighup);
	ev_signal_start(d->loop, &d->sigterm);
	ev_signal_start(d->loop, &d->sigint);
	ev_timer_start(d->loop, &d->housekeeping);
	if (d->clk)
		clockwatch_start(&d->clockwatch, d->loop, d->clk);
	sandbox_enter(SANDBOX_MAIN, 0);
	ev_run(d->loop, 0);
}

struct options {
	bool foreground, check_only, debug;
};

/* -1: go on; otherwise the exit status (help, version, a usage error). */
static int parse_options(int argc, char **argv, struct ntsd *d, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:fndVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'n':
			o->check_only = true;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'V':
			printf("ntsd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ntsd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

static int load_config(struct ntsd *d, const struct options *o)
{
	struct config_error cerr;

	log_init("ntsd", LOG_TO_STDERR, o->debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (config_load(&d->cfg, d->config_path, &cerr) < 0 ||
	    config_validate(&d->cfg, d->config_path, &cerr) < 0) {
		fprintf(stderr, "%s\n", cerr.msg);
		return -1;
	}
	if (!o->debug)
		log_set_level(d->cfg.log_level);
	return 0;
}

/* As root: keys, every socket, the ops endpoint. */
static int setup_services(struct ntsd *d)
{
	signal(SIGPIPE, SIG_IGN);
	snapshot_init(&d->keys, keyset_snapshot_free);
	if (keywatch_init(&d->keywatch, d->cfg.key_file, &d->keys, d->cfg.key_file_create,
			  d->cfg.user) < 0)
		return -1;
	if (d->cfg.ntp_enabled && !(d->ntp = ntp_service_new(&d->cfg, &d->keys)))
		return -1;
	if (d->ntp && d->cfg.clock_source.len) {
		d->clk = clock_source_new(&d->cfg.clock_source, d->cfg.clock_source_poll_s,
					  d->cfg.refid);
		if (!d->clk)
			return -1;
		ntp_service_set_clock_source(d->ntp, clock_source_published(d->clk));
	}
	if (d->cfg.ke_enabled &&
	    !(d->ke = ke_service_new(&d->cfg, &d->keys, advertised_ntp_port(d))))
		return -1;
	if (ops_init(&d->ops, d->config_path, &d->cfg, &d->keywatch, &d->keys, d->ke, d->ntp) < 0)
		return -1;
	ops_set_clock_source(&d->ops, d->clk);
	return 0;
}

/* What the daemon still needs once it has started: CAP_BPF while it
 * serves through XDP, for the program's maps on reload (caps.h). */
static uint64_t kept_caps(const struct ntsd *d)
{
	const struct ntp_xdp *x = d->ntp ? ntp_service_xdp(d->ntp) : NULL;

	return x && ntp_xdp_n_ifaces(x) > 0 ? CAPS_BIT(CAP_BPF) : 0;
}

/* Detach, our pid into the locked pid file, privilege drop. */
static int become_daemon(struct ntsd *d, const struct options *o)
{
	if (!o->foreground) {
		if (daemon_detach() < 0)
			return -1;
		log_init("ntsd", LOG_TO_SYSLOG, o->debug ? LOG_LVL_DEBUG : d->cfg.log_level);
		d->to_syslog = true;
	}
	if (d->pid_fd >= 0 && daemon_pidfile_write(d->pid_fd, d->cfg.pid_file) < 0)
		return -1;
	if (d->cfg.user) {
		if (daemon_drop_privileges(d->cfg.user, kept_caps(d)) < 0)
			return -1;
		check_readable(d);
	}
	/* Not root (a unit's User= and AmbientCapabilities=): nothing more
	 * needs a capability; a refusal is a warning (caps.h). */
	if (geteuid() != 0)
		(void)caps_limit(kept_caps(d));
	return 0;
}

/* In reverse order of setup; safe on a half-built daemon. */
static void teardown(struct ntsd *d)
{
	if (d->pid_fd >= 0)
		daemon_pidfile_remove(d->pid_fd, d->cfg.pid_file);
	clockwatch_stop(&d->clockwatch);
	ops_stop(&d->ops);
	if (d->ke)
		ke_service_stop(d->ke);
	if (d->ntp)
		ntp_service_stop(d->ntp);
	ke_service_free(d->ke);
	ntp_service_free(d->ntp);
	clock_source_free(d->clk);	/* after the responder that read it */
	ops_destroy(&d->ops);
	snapshot_destroy(&d->keys);
	config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	struct options o = { false, false, false };
	struct ntsd d;
	int rc;

	memset(&d, 0, sizeof(d));
	d.pid_fd = -1;
	d.config_path = CONFIG_DEFAULT_PATH;
	rc = parse_options(argc, argv, &d, &o);
	if (rc >= 0)
		return rc;
	if (load_config(&d, &o) < 0) {
		config_free(&d.cfg);
		return 1;
	}
	if (o.check_only) {
		rc = check_config(&d) < 0 ? 1 : 0;
		config_free(&d.cfg);
		return rc;
	}
	rc = 1;
	/* The pid file's lock first: a second ntsd stops before it binds. */
	if (d.cfg.pid_file && (d.pid_fd = daemon_pidfile_lock(d.cfg.pid_file)) < 0) {
		config_free(&d.cfg);
		return 1;
	}
	if (setup_services(&d) == 0 && become_daemon(&d, &o) == 0 &&
	    start_services(&d) == 0) {
		log_listeners(&d);
		log_notice("ntsd %s started:%s%s", PACKAGE_VERSION, d.ntp ? " NTP" : "",
			   d.ke ? " NTS-KE" : "");
		run_loop(&d);
		log_totals(&d);
		rc = 0;
	}
	teardown(&d);
	if (rc == 0)
		log_notice("ntsd stopped");
	return rc;
}
