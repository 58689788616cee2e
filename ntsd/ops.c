/* ops: access rules, figures for /metrics and /health. */
#include "build_config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "common/acl.h"
#include "common/keypolicy.h"
#include "common/keyset.h"
#include "common/log.h"
#include "nts-ke/ke_service.h"
#include "ntpd/clock.h"
#include "ntpd/clock_source.h"
#include "ntpd/phc_dev.h"
#include "ntsd/keywatch.h"
#include "ntpd/ntp_service.h"
#include "ntpd/ntp_xdp.h"
#include "ntsd/ops.h"
#include "ntpd/responder.h"

static void acl_free_void(void *p)
{
	acl_free(p);
}

/* Publish the rules of c, taking them out of it. */
static void publish_rules(struct ops *o, struct config *c)
{
	o->n_ntp_rules = acl_count(c->ntp_acl);
	o->n_ke_rules = acl_count(c->ke_acl);
	o->n_ke_proxy = acl_count(c->ke_proxy);
	/* Out of memory: the rules in force stay (logged); the counts are
	 * what was asked for. */
	snapshot_publish(&o->ntp_acl, c->ntp_acl);
	snapshot_publish(&o->ke_acl, c->ke_acl);
	snapshot_publish(&o->ke_proxy, c->ke_proxy);
	c->ntp_acl = NULL;
	c->ke_acl = NULL;
	c->ke_proxy = NULL;
}

int ops_init(struct ops *o, const char *config_path, struct config *cfg, struct keywatch *kw,
	     struct snapshot *keys, struct ke_service *ke, struct ntp_service *ntp)
{
	struct metrics_source src = { ops_collect, ops_health, o };

	memset(o, 0, sizeof(*o));
	o->cfg = cfg;
	o->kw = kw;
	o->keys = keys;
	o->ke = ke;
	o->ntp = ntp;
	o->key_file_ok = true;	/* keywatch_init loaded it */
	o->start_time = (int64_t)time(NULL);
	for (unsigned i = 0; i < LISTENER_MAX_THREADS; i++)
		snprintf(o->thread_label[i], sizeof(o->thread_label[i]), "%u", i % 1000);
	pthread_mutex_init(&o->lock, NULL);
	snapshot_init(&o->ntp_acl, acl_free_void);
	snapshot_init(&o->ke_acl, acl_free_void);
	snapshot_init(&o->ke_proxy, acl_free_void);
	publish_rules(o, cfg);
	if (ntp)
		ntp_service_set_acl(ntp, &o->ntp_acl);
	if (ke) {
		ke_service_set_acl(ke, &o->ke_acl);
		ke_service_set_proxy(ke, &o->ke_proxy);
	}
	o->config_path = realpath(config_path, NULL);
	if (!o->config_path && !(o->config_path = strdup(config_path))) {
		log_err("out of memory");
		return -1;
	}
	if (o->n_ntp_rules || o->n_ke_rules)
		log_info("access rules: %zu for NTP, %zu for NTS-KE", o->n_ntp_rules,
			 o->n_ke_rules);
	if (o->n_ke_proxy)
		log_info("NTS-KE takes PROXY v2 headers from %zu ke-proxy-protocol prefixes",
			 o->n_ke_proxy);
	if (cfg->metrics_listen.len && !(o->metrics = metrics_new(&cfg->metrics_listen, &src)))
		return -1;
	return 0;
}

void ops_set_clock_source(struct ops *o, struct clock_source *clk)
{
	o->clk = clk;
}

int ops_start(struct ops *o)
{
	pthread_mutex_lock(&o->lock);
	o->running = true;
	pthread_mutex_unlock(&o->lock);
	return o->metrics ? metrics_start(o->metrics) : 0;
}

void ops_reload_begin(struct ops *o)
{
	pthread_mutex_lock(&o->lock);
	o->kw_reloads = o->kw->reloads;
	o->kw_failures = o->kw->reload_failures;
}

/* The directives SIGHUP applies from the configuration file. */
static bool reloadable(const char *directive)
{
	static const char *const rules[] = { "ke-allow", "ke-deny", "ke-proxy-protocol",
					     "ntp-allow", "ntp-deny" };

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(directive, rules[i]) == 0)
			return true;
	return false;
}

/* Name, in one line, every directive changed in the file since the start
 * that only a restart applies. */
static void log_start_only(const struct ops *o, const struct config *file)
{
	const char *changed[CONFIG_MAX_DIRECTIVES];
	size_t n = config_changed(o->cfg, file, changed, CONFIG_MAX_DIRECTIVES), k = 0;
	char list[CONFIG_MAX_DIRECTIVES * 32];
	int len = 0;

	for (size_t i = 0; i < n && i < CONFIG_MAX_DIRECTIVES; i++) {
		if (reloadable(changed[i]))
			continue;
		len += snprintf(list + len, sizeof(list) - (size_t)len, "%s%s", k ? ", " : "",
				changed[i]);
		k++;
		if ((size_t)len >= sizeof(list))
			break;
	}
	if (k)
		log_warn("%s: %s changed since the start but %s read at start only: restart ntsd "
			 "to apply (SIGHUP applies the access rules, key file and certificate)",
			 o->config_path, list, k == 1 ? "is" : "are");
}

/* SIGHUP: the access rules from the file as it is now; any error keeps
 * the rules in force.  Other directives need a restart: say which. */
static void reload_rules(struct ops *o)
{
	struct config c;
	struct config_error err;

	if (config_load(&c, o->config_path, &err) < 0 ||
	    config_validate(&c, o->config_path, &err) < 0) {
		log_err("%s; keeping the access rules in force", err.msg);
		o->acl_reload_failures++;
		goto out;
	}
	log_start_only(o, &c);
	/* The XDP programs first: they copy the rules into their maps, and
	 * the workers' snapshot takes them over next. */
	if (o->ntp)
		(void)ntp_service_xdp_update(o->ntp, c.ntp_acl);
	publish_rules(o, &c);
	o->acl_reloads++;
	log_notice("access rules reloaded: %zu for NTP, %zu for NTS-KE, %zu ke-proxy-protocol "
		   "prefixes", o->n_ntp_rules, o->n_ke_rules, o->n_ke_proxy);
out:
	config_free(&c);
}

void ops_reload_end(struct ops *o, bool sighup)
{
	/* One keywatch_check() moves one of the two counts at most. */
	if (o->kw->reloads != o->kw_reloads)
		o->key_file_ok = true;
	else if (o->kw->reload_failures != o->kw_failures)
		o->key_file_ok = false;
	if (sighup)
		reload_rules(o);
	pthread_mutex_unlock(&o->lock);
}

void ops_drain(struct ops *o)
{
	pthread_mutex_lock(&o->lock);
	o->draining = true;
	pthread_mutex_unlock(&o->lock);
}

void ops_stop(struct ops *o)
{
	if (!o->cfg)
		return;		/* ops_init never ran */
	/* The metrics thread takes the lock: join it without holding it. */
	metrics_free(o->metrics);
	o->metrics = NULL;
	pthread_mutex_lock(&o->lock);
	o->running = false;
	pthread_mutex_unlock(&o->lock);
}

void ops_destroy(struct ops *o)
{
	if (!o->cfg)
		return;		/* ops_init never ran */
	metrics_free(o->metrics);
	o->metrics = NULL;
	snapshot_destroy(&o->ntp_acl);
	snapshot_destroy(&o->ke_acl);
	snapshot_destroy(&o->ke_proxy);
	pthread_mutex_destroy(&o->lock);
	free(o->config_path);
	o->config_path = NULL;
	o->cfg = NULL;
}

/* ---------------------------------------------------------------- figures */

struct clock_view {
	bool ok;			/* the kernel answered */
	bool synchronised;
	struct clock_state st;		/* what replies say */
};

/* The kernel's view, and what replies carry: the responder's published
 * state when it runs (it may come from the clock source), else what the
 * kernel's state would give. */
static void clock_view(const struct ops *o, struct clock_view *v)
{
	const struct config *cfg = o->cfg;
	struct clock_config cc = { cfg->stratum, cfg->refid, cfg->local_stratum, 0 };
	struct clock_kernel k;
	struct timespec now;

	memset(v, 0, sizeof(*v));
	if (clock_read_kernel(&k) < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	v->ok = true;
	v->synchronised = k.state != TIME_ERROR && !(k.status & STA_UNSYNC);
	clock_state_from_kernel(&k, &cc, &now, &v->st);
	if (o->ntp)
		ntp_service_clock(o->ntp, &v->st);
}

/* Under o->lock.  The metrics thread (libmicrohttpd's) is no snapshot
 * reader (common/snapshot.h): it reads the key set only under o->lock,
 * which every replacement of it is made under too (ops_reload_begin and
 * _end around keywatch_check), so the set it holds cannot be retired
 * meanwhile.  Access rules are not read here, only their counts. */
static void health_locked(struct ops *o, struct health_input *in)
{
	const struct keyset *ks = snapshot_get(o->keys);
	struct clock_view cv;

	memset(in, 0, sizeof(*in));
	clock_view(o, &cv);
	in->ntp_enabled = o->ntp != NULL;
	in->ke_enabled = o->ke != NULL;
	in->running = o->running;
	in->draining = o->draining;
	in->clock_synchronised = cv.synchronised;
	in->local_stratum = o->cfg->local_stratum > 0;
	if (o->clk) {
		enum clock_source_state st = clock_source_state(o->clk);

		netaddr_str(clock_source_addr(o->clk), in->clock_source, sizeof(in->clock_source));
		in->clock_source_state = clock_source_state_name(st);
		in->clock_source_serving = st == CLOCK_SOURCE_SYNCHRONISED;
	}
	in->n_keys = ks ? keyset_count(ks) : 0;
	in->key_file_ok = o->key_file_ok;
	in->newest_key_age_s = ks ? keypolicy_newest_age(ks, (int64_t)time(NULL)) : -1;
	in->key_max_age_s = o->cfg->key_max_age_s;
	in->cert_expiry_s = o->ke ? ke_service_cert_expiry(o->ke) : 0;
}

void ops_health(void *arg, struct health_input *in)
{
	struct ops *o = arg;

	pthread_mutex_lock(&o->lock);
	health_locked(o, in);
	pthread_mutex_unlock(&o->lock);
}

/* Interleaved replies and the kernel transmit timestamps behind them. */
static void collect_ntp_timestamps(struct ops *o, struct promtext *p)
{
	uint64_t t[NTP_TS_COUNT];

	ntp_service_ts_counters(o->ntp, t);
	for (int i = 0; i < NTP_TS_COUNT; i++)
		promtext_counter(p, "ntsd_ntp_timestamps_total",
				 "Interleaved-mode replies and the transmit timestamps read for them.",
				 "event", ntp_ts_counter_name((enum ntp_ts_counter)i), t[i]);
}

/* hw-timestamp NICs: whether each one's PHC conversion is valid, and
 * what became of its samples. */
static void collect_phc(struct ops *o, struct promtext *p)
{
	size_t i, n = ntp_service_n_hw(o->ntp);
	struct phc_dev_counts c;
	struct promtext_sample s;

	for (i = 0; i < n; i++) {
		phc_dev_counts(ntp_service_hw(o->ntp, i), &c);
		promtext_gauge(p, "ntsd_phc_valid",
			       "1 when the NIC's hardware timestamps are converted to system time.",
			       "interface", phc_dev_ifname(ntp_service_hw(o->ntp, i)),
			       c.valid ? 1 : 0);
	}
	for (i = 0; i < n; i++) {
		phc_dev_counts(ntp_service_hw(o->ntp, i), &c);
		for (int r = 0; r <= PHC_ADD_COUNT; r++) {
			memset(&s, 0, sizeof(s));
			s.name = "ntsd_phc_samples_total";
			s.help = "Samples of each NIC's PHC against the system clock, by outcome.";
			s.type = PROMTEXT_COUNTER;
			s.label[0].name = "interface";
			s.label[0].value = phc_dev_ifname(ntp_service_hw(o->ntp, i));
			s.label[1].name = "result";
			s.label[1].value = r < PHC_ADD_COUNT ?
					   phc_add_result_name((enum phc_add_result)r) : "read_error";
			s.value = (double)(r < PHC_ADD_COUNT ? c.added[r] : c.read_errors);
			promtext_add(p, &s);
		}
	}
}

/* ntp-xdp interfaces: what each runs, the program's verdicts, the
 * AF_XDP sockets' events and the frames they refused. */
static void collect_xdp(struct ops *o, struct promtext *p)
{
	static const struct {
		const char *name, *help, *label;
	} fam[] = {
		[NTP_XDP_STAT_PROGRAM] = { "ntsd_xdp_packets_total",
					   "Packets the XDP program saw, by verdict.", "verdict" },
		[NTP_XDP_STAT_SOCKET] = { "ntsd_xdp_socket_events_total",
					  "AF_XDP socket events, summed over the queues.", "event" },
		[NTP_XDP_STAT_REFUSED] = { "ntsd_xdp_frames_refused_total",
					   "Redirected frames the workers refused, by reason.",
					   "reason" },
	};
	const struct ntp_xdp *x = ntp_service_xdp(o->ntp);
	struct ntp_xdp_stat st[NTP_XDP_MAX_STATS];
	struct ntp_xdp_iface_info fi;
	struct promtext_sample s;
	size_t i, n = ntp_xdp_stats(x, st, NTP_XDP_MAX_STATS);

	for (i = 0; i < ntp_xdp_n_ifaces(x); i++) {
		ntp_xdp_iface(x, i, &fi);
		memset(&s, 0, sizeof(s));
		s.name = "ntsd_xdp_queues";
		s.help = "AF_XDP sockets serving NTP on each ntp-xdp interface, by the "
			 "program's mode (native or generic).";
		s.type = PROMTEXT_GAUGE;
		s.label[0].name = "interface";
		s.label[0].value = fi.ifname;
		s.label[1].name = "mode";
		s.label[1].value = fi.mode;
		s.value = fi.queues;
		promtext_add(p, &s);
	}
	for (i = 0; i < ntp_xdp_n_ifaces(x); i++) {
		ntp_xdp_iface(x, i, &fi);
		promtext_gauge(p, "ntsd_xdp_zerocopy_queues",
			       "Of those, the sockets in zero-copy mode (the others copy).",
			       "interface", fi.ifname, fi.zerocopy);
	}
	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++)
		for (i = 0; i < n; i++) {
			if (st[i].kind != k)
				continue;
			memset(&s, 0, sizeof(s));
			s.name = fam[k].name;
			s.help = fam[k].help;
			s.type = PROMTEXT_COUNTER;
			s.label[0].name = "interface";
			s.label[0].value = st[i].ifname;
			s.label[1].name = fam[k].label;
			s.label[1].value = st[i].name;
			s.value = (double)st[i].value;
			promtext_add(p, &s);
		}
}

/* A service's per-thread view: what each thread took in, then the CPU
 * each runs on (each a family of its own, its samples together). */
struct thread_family {
	const char *label;		/* "worker", "thread" */
	const char *count, *count_help;
	const char *cpu, *cpu_help;
};

static void collect_threads(struct ops *o, struct promtext *p, const struct thread_family *f,
			    const struct listener_thread_view *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		promtext_counter(p, f->count, f->count_help, f->label, o->thread_label[i],
				 v[i].served);
	for (unsigned i = 0; i < n; i++)
		promtext_gauge(p, f->cpu, f->cpu_help, f->label, o->thread_label[i], v[i].cpu);
}

static const struct thread_family ntp_workers = {
	"worker", "ntsd_ntp_worker_received_total",
	"NTP datagrams received, by worker thread (ntsd-ntp/N).", "ntsd_ntp_worker_cpu",
	"The CPU each NTP worker is pinned to (-1: not pinned).",
};
static const struct thread_family ke_threads = {
	"thread", "ntsd_ke_thread_accepted_total",
	"NTS-KE connections accepted, by thread (ntsd-ke/N).", "ntsd_ke_thread_cpu",
	"The CPU each NTS-KE thread is pinned to (-1: not pinned).",
};

static void collect_ntp(struct ops *o, struct promtext *p)
{
	struct listener_thread_view v[LISTENER_MAX_THREADS];
	uint64_t c[NTP_CNT_COUNT];
	uint64_t naks = 0;

	ntp_service_counters(o->ntp, c, NTP_CNT_COUNT);
	for (int i = 0; i < NTP_CNT_COUNT; i++)
		promtext_counter(p, "ntsd_ntp_requests_total",
				 "NTP requests by outcome: each reply kind and each reason to drop.",
				 "outcome", ntp_counter_name((enum ntp_counter)i), c[i]);
	promtext_counter(p, "ntsd_ntp_replies_total",
			 "Time replies sent, by protocol (NAKs and KoDs not included).",
			 "protocol", "ntp", c[NTP_CNT_PLAIN_REPLY]);
	promtext_counter(p, "ntsd_ntp_replies_total",
			 "Time replies sent, by protocol (NAKs and KoDs not included).",
			 "protocol", "nts", c[NTP_CNT_NTS_REPLY]);
	for (int i = 0; i < NTP_CNT_COUNT; i++)
		if (ntp_counter_is_nak((enum ntp_counter)i))
			naks += c[i];
	promtext_counter(p, "ntsd_ntp_naks_total",
			 "NTS NAKs sent (cookie could not be opened or request not authenticated).",
			 NULL, NULL, naks);
	promtext_counter(p, "ntsd_ntp_rate_limited_total",
			 "Requests over the rate limit: answered with KoD RATE or dropped.",
			 "action", "kod", c[NTP_CNT_RATE_KOD]);
	promtext_counter(p, "ntsd_ntp_rate_limited_total",
			 "Requests over the rate limit: answered with KoD RATE or dropped.",
			 "action", "drop", c[NTP_CNT_RATE_DROP]);
	promtext_counter(p, "ntsd_ntp_denied_total",
			 "Requests dropped by ntp-allow / ntp-deny, without a reply.", NULL, NULL,
			 c[NTP_CNT_DROP_DENIED]);
	collect_ntp_timestamps(o, p);
	collect_phc(o, p);
	collect_xdp(o, p);
	collect_threads(o, p, &ntp_workers, v,
			ntp_service_workers(o->ntp, v, LISTENER_MAX_THREADS));
}

static void collect_ke(struct ops *o, struct promtext *p)
{
	struct listener_thread_view v[LISTENER_MAX_THREADS];
	uint64_t c[KE_CNT_COUNT];

	ke_service_counters(o->ke, c);
	for (int i = 0; i < KE_CNT_COUNT; i++)
		promtext_counter(p, "ntsd_ke_events_total",
				 "NTS-KE connection events and outcomes.", "event",
				 ke_counter_name((enum ke_counter)i), c[i]);
	promtext_counter(p, "ntsd_ke_denied_total",
			 "Connections closed at accept by ke-allow / ke-deny, before TLS.", NULL,
			 NULL, c[KE_CNT_REFUSED_DENIED]);
	promtext_gauge(p, "ntsd_ke_certificate_expiry_seconds",
		       "Seconds until the served certificate expires (negative: expired).",
		       NULL, NULL, (double)ke_service_cert_expiry(o->ke));
	collect_threads(o, p, &ke_threads, v, ke_service_threads(o->ke, v, LISTENER_MAX_THREADS));
}

/* cpu-steering, by service (one family: its samples together). */
static void collect_steering(struct ops *o, struct promtext *p)
{
	static const char help[] = "1 when every listen address is steered to the thread on the "
				   "receiving CPU (cpu-steering), by service.";

	if (o->ntp)
		promtext_gauge(p, "ntsd_cpu_steering", help, "service", "ntp",
			       ntp_service_steered(o->ntp) ? 1 : 0);
	if (o->ke)
		promtext_gauge(p, "ntsd_cpu_steering", help, "service", "ke",
			       ke_service_steered(o->ke) ? 1 : 0);
}

/* Under o->lock: see health_locked. */
static void collect_keys(struct ops *o, struct promtext *p, int64_t now)
{
	const struct keyset *ks = snapshot_get(o->keys);
	size_t n = ks ? keyset_count(ks) : 0;
	const struct master_key *seal = n ? keyset_sealing_key(ks, now, o->cfg->key_propagation_s)
					  : NULL;
	const struct master_key *newest = n ? keyset_key_at(ks, n - 1) : NULL;

	promtext_gauge(p, "ntsd_keyset_keys", "Master keys in the loaded key set.", NULL, NULL,
		       (double)n);
	if (seal)
		promtext_gauge(p, "ntsd_keyset_sealing_key_age_seconds",
			       "Age of the master key that seals new cookies.", NULL, NULL,
			       (double)(now - seal->created));
	if (newest)
		promtext_gauge(p, "ntsd_keyset_newest_key_age_seconds",
			       "Age of the newest master key (grows when rotation stops).", NULL,
			       NULL, (double)(now - newest->created));
	promtext_gauge(p, "ntsd_keyset_load_age_seconds",
		       "Seconds since the key file was last loaded successfully.", NULL, NULL,
		       (double)(now - o->kw->loaded_at));
	promtext_gauge(p, "ntsd_keyset_file_ok",
		       "1 when the key file's last check found it and loaded it, else 0.", NULL,
		       NULL, o->key_file_ok ? 1 : 0);
	promtext_counter(p, "ntsd_keyset_reloads_total",
			 "Key file loads after the first (changed on disk or SIGHUP).", NULL, NULL,
			 o->kw->reloads > 0 ? o->kw->reloads - 1 : 0);
	promtext_counter(p, "ntsd_keyset_reload_failures_total",
			 "Key file loads that failed (the last good key set stayed in service).",
			 NULL, NULL, o->kw->reload_failures);
}

/* What reloads replaced and what is freed of it (common/snapshot.h): the
 * difference waits for a reader thread's quiescent point. */
static void collect_reclaim(struct promtext *p)
{
	struct snapshot_counts c;

	snapshot_counts(&c);
	promtext_counter(p, "ntsd_reclaim_retired_total",
			 "Objects replaced (key sets, access rules, TLS contexts, clock samples), "
			 "to be freed once no thread can hold them.", NULL, NULL, c.retired);
	promtext_counter(p, "ntsd_reclaim_freed_total",
			 "Replaced objects freed, after every reader thread passed a quiescent point.",
			 NULL, NULL, c.freed);
	promtext_gauge(p, "ntsd_reclaim_pending",
		       "Replaced objects not freed yet: they wait for a reader thread to run.", NULL,
		       NULL, (double)(c.retired - c.freed));
}

/* clock-source: its state (one gauge per state, 1 for the current one)
 * and what its polls and answers were. */
static void collect_clock_source(struct ops *o, struct promtext *p)
{
	enum clock_source_state now = o->clk ? clock_source_state(o->clk) : CLOCK_SOURCE_KERNEL;
	struct clock_source_counts c;

	for (int i = 0; i < CLOCK_SOURCE_STATE_COUNT; i++)
		promtext_gauge(p, "ntsd_clock_source_state",
			       "Where the served clock state comes from: 1 for the current state "
			       "(kernel: clock-source kernel; synchronised: the discipline daemon's).",
			       "state", clock_source_state_name((enum clock_source_state)i),
			       i == (int)now ? 1 : 0);
	if (!o->clk)
		return;
	clock_source_counts(o->clk, &c);
	promtext_counter(p, "ntsd_clock_source_polls_total",
			 "Requests sent to the clock source.", NULL, NULL, c.polls);
	promtext_counter(p, "ntsd_clock_source_missed_polls_total",
			 "Polls of the clock source that got no usable answer.", NULL, NULL, c.missed);
	promtext_counter(p, "ntsd_clock_source_refused_total",
			 "Requests the kernel refused: nothing listens at the clock source's port.",
			 NULL, NULL, c.refused);
	promtext_counter(p, "ntsd_clock_source_socket_errors_total",
			 "Other send or receive failures on the clock source's socket.", NULL, NULL,
			 c.socket_errors);
	promtext_counter(p, "ntsd_clock_source_state_changes_total",
			 "Changes of ntsd_clock_source_state.", NULL, NULL, c.state_changes);
	for (int i = 0; i < CLOCK_ANS_COUNT; i++)
		promtext_counter(p, "ntsd_clock_source_answers_total",
				 "Answers from the clock source: synchronised, unsynchronised, or the "
				 "reason they were rejected.", "result",
				 clock_answer_name((enum clock_answer)i), c.answers[i]);
}

static void collect_clock(struct ops *o, struct promtext *p)
{
	struct clock_view cv;

	collect_clock_source(o, p);
	clock_view(o, &cv);
	if (!cv.ok)
		return;
	promtext_gauge(p, "ntsd_clock_synchronised",
		       "1 when the kernel reports the system clock synchronised, else 0.", NULL,
		       NULL, cv.synchronised ? 1 : 0);
	promtext_gauge(p, "ntsd_clock_leap",
		       "Leap indicator in replies: 0 none, 1 insert, 2 delete, 3 unsynchronised.",
		       NULL, NULL, cv.st.leap);
	promtext_gauge(p, "ntsd_clock_stratum", "Stratum in replies.", NULL, NULL,
		       cv.st.stratum);
	promtext_gauge(p, "ntsd_clock_refid", "Reference ID in replies, as a 32-bit number.",
		       NULL, NULL, cv.st.refid);
	promtext_gauge(p, "ntsd_clock_root_delay_seconds", "Root delay in replies.", NULL, NULL,
		       (double)cv.st.root_delay / 65536.0);
	promtext_gauge(p, "ntsd_clock_root_dispersion_seconds", "Root dispersion in replies.",
		       NULL, NULL, (double)cv.st.root_dispersion / 65536.0);
}

void ops_collect(void *arg, struct promtext *p)
{
	struct ops *o = arg;
	struct health_input in;
	char reason[128];
	int64_t now = (int64_t)time(NULL);

	pthread_mutex_lock(&o->lock);
	promtext_gauge(p, "ntsd_build_info", "Build information (always 1).", "version",
		       PACKAGE_VERSION, 1);
	promtext_gauge(p, "ntsd_start_time_seconds", "Unix time ntsd started.", NULL, NULL,
		       (double)o->start_time);
	health_locked(o, &in);
	promtext_gauge(p, "ntsd_healthy", "1 when /health answers 200, else 0.", NULL, NULL,
		       health_check(&in, reason, sizeof(reason)) ? 1 : 0);
	if (o->ntp)
		collect_ntp(o, p);
	if (o->ke)
		collect_ke(o, p);
	collect_steering(o, p);
	collect_keys(o, p, now);
	collect_reclaim(p);
	if (o->ntp)	/* a KE-only host serves no clock */
		collect_clock(o, p);
	promtext_gauge(p, "ntsd_access_rules", "Access rules in force, by service.", "service",
		       "ntp", (double)o->n_ntp_rules);
	promtext_gauge(p, "ntsd_access_rules", "Access rules in force, by service.", "service",
		       "ke", (double)o->n_ke_rules);
	promtext_counter(p, "ntsd_access_reloads_total",
			 "Access rule reloads on SIGHUP, by result.", "result", "ok",
			 o->acl_reloads);
	promtext_counter(p, "ntsd_access_reloads_total",
			 "Access rule reloads on SIGHUP, by result.", "result", "failed",
			 o->acl_reload_failures);
	pthread_mutex_unlock(&o->lock);
}
