/* ops: the daemon's operational side.
 *
 * - Access rules: the ntp-* and ke-* rules of the configuration, published
 *   to the services through snapshots (readers never lock) and replaced
 *   from the configuration file on SIGHUP (a bad file keeps the old rules).
 * - Figures: the samples of /metrics and the inputs of /health, gathered
 *   from the services' counters, the key set, the kernel's clock state and
 *   the certificate, for the metrics endpoint (ntsd/metrics.h).
 *
 * The main loop calls, in order: ops_init() once the services exist (it
 * binds metrics-listen, so before privileges are dropped), ops_start()
 * once they run, ops_reload_begin()/ops_reload_end() around every key and
 * certificate check, ops_stop() before it stops the services and
 * ops_destroy() after it freed them.  A lock held by the main loop while
 * it reloads and by the metrics thread while it gathers keeps the two
 * apart; the NTP and KE threads never take it. */
#ifndef NTSD_OPS_H
#define NTSD_OPS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/listener.h"
#include "common/snapshot.h"
#include "ntsd/metrics.h"

struct clock_source;
struct keywatch;
struct ke_service;
struct ntp_service;

struct ops {
	char *config_path;		/* absolute: the daemon may chdir("/") */
	const struct config *cfg;
	struct keywatch *kw;
	struct snapshot *keys;
	struct ke_service *ke;		/* NULL: not running here */
	struct ntp_service *ntp;	/* NULL: not running here */
	struct clock_source *clk;	/* clock-source ntp; NULL: kernel */
	/* The rules in force: each publishes a struct acl (NULL: no rules). */
	struct snapshot ntp_acl, ke_acl;
	struct snapshot ke_proxy;	/* ke-proxy-protocol, reloaded with the rules */
	size_t n_ntp_rules, n_ke_rules, n_ke_proxy;
	uint64_t acl_reloads, acl_reload_failures;
	struct metrics *metrics;	/* NULL: metrics-listen not set */
	pthread_mutex_t lock;
	/* Under lock. */
	bool running;
	bool draining;			/* ops_drain() was called */
	bool key_file_ok;
	uint64_t kw_reloads, kw_failures;	/* keywatch's counts at reload begin */
	int64_t start_time;
	/* "0", "1", ...: the worker and thread labels of /metrics, which
	 * must outlive a scrape's render (set by ops_init, then read only). */
	char thread_label[LISTENER_MAX_THREADS][4];
};

/* Take the access rules out of cfg (cfg->ntp_acl, cfg->ke_acl and
 * cfg->ke_proxy become NULL) and publish them; bind metrics-listen when set.  0 or -1 (logged);
 * after -1 call ops_destroy(). */
int ops_init(struct ops *o, const char *config_path, struct config *cfg, struct keywatch *kw,
	     struct snapshot *keys, struct ke_service *ke, struct ntp_service *ntp);
/* clock-source ntp: its state and counts go to /metrics and /health
 * (NULL: clock-source kernel).  Call after ops_init(), before ops_start(). */
void ops_set_clock_source(struct ops *o, struct clock_source *clk);
/* The services run: start the metrics thread (with signals blocked). */
int ops_start(struct ops *o);
/* Around keywatch_check() and the certificate check in the main loop. */
void ops_reload_begin(struct ops *o);
/* `sighup`: also read the access rules from the configuration file again. */
void ops_reload_end(struct ops *o, bool sighup);
/* A shutdown drain begins: /health answers 503 from now on, while the
 * services keep serving. */
void ops_drain(struct ops *o);
/* Stop the metrics thread: call before stopping the services. */
void ops_stop(struct ops *o);
/* Free the rules (the services must have stopped). */
void ops_destroy(struct ops *o);

/* The metrics_source callbacks (arg: struct ops *); the unit tests and the
 * daemon use them. */
void ops_collect(void *arg, struct promtext *out);
void ops_health(void *arg, struct health_input *in);

#endif
