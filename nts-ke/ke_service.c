/* ke_service: the NTS-KE server (RFC 8915 section 4), wired together:
 * tls_store holds the certificate and key, ke_admit decides at accept,
 * ke_listen runs the threads and their listening sockets, and each
 * connection is a ke_session over the pure ke_handler. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/listener.h"
#include "common/log.h"
#include "common/monotime.h"
#include "nts-ke/ke_admit.h"
#include "nts-ke/ke_listen.h"
#include "nts-ke/ke_service.h"
#include "nts-ke/ke_session.h"
#include "nts-ke/tls_store.h"

/* Lines caused by clients, for the whole service: at most this many per
 * interval. */
#define KE_LOG_BURST 20
#define KE_LOG_INTERVAL_S 60

struct ke_service {
	struct ke_session_env env;	/* its tls and admit are owned here */
	char *ntp_servers[CONFIG_MAX_NTP_SERVERS];
	uint16_t aeads[CONFIG_MAX_AEADS];	/* ke-aead */
	struct log_ratelimit rl;
	struct ke_listen *listen;
	struct netaddr addrs[KE_LISTEN_MAX];
	size_t n_addrs;
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
	[KE_CNT_REFUSED_RATE] = "refused_rate_limit",
	[KE_CNT_RECLAIMED] = "reclaimed_dead",
	[KE_CNT_IO_ERROR] = "io_error",
	[KE_CNT_PROXY_HEADER] = "proxy_header",
	[KE_CNT_PROXY_LOCAL] = "proxy_local",
	[KE_CNT_PROXY_UNEXPECTED] = "proxy_refused_unexpected",
	[KE_CNT_PROXY_BAD_SIGNATURE] = "proxy_refused_bad_signature",
	[KE_CNT_PROXY_BAD_VERSION] = "proxy_refused_bad_version",
	[KE_CNT_PROXY_BAD_COMMAND] = "proxy_refused_bad_command",
	[KE_CNT_PROXY_BAD_FAMILY] = "proxy_refused_bad_family",
	[KE_CNT_PROXY_TOO_LONG] = "proxy_refused_too_long",
	[KE_CNT_PROXY_BAD_ADDRESS] = "proxy_refused_bad_address",
	[KE_CNT_PROXY_BAD_TLV] = "proxy_refused_bad_tlv",
	[KE_CNT_PROXY_TRUNCATED] = "proxy_refused_truncated",
	[KE_CNT_PROXY_TIMEOUT] = "proxy_refused_timeout",
	[KE_CNT_PROXY_PENDING] = "proxy_refused_pending",
};

const char *ke_counter_name(enum ke_counter c)
{
	if ((unsigned)c >= KE_CNT_COUNT)
		return "unknown";
	return counter_names[c];
}

/* Log an allocation failure in ke_service_new; NULL. */
static void *no_memory(const char *what)
{
	log_err("NTS-KE: out of memory (%s)", what);
	return NULL;
}

/* ke-aead as it will be used, once at start. */
static void log_offered_aeads(const struct ke_service *svc)
{
	char list[128];
	size_t off = 0;

	list[0] = '\0';
	for (size_t i = 0; i < svc->env.n_aeads && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u", i ? " " : "",
					svc->env.aeads[i]);
	log_info("NTS-KE offers AEAD %s (ke-aead)", list);
}

/* The configuration as config_init() and the parser left it: defaults and
 * ranges are theirs.  Takes nothing that needs freeing but ntp_servers. */
static int apply_config(struct ke_service *svc, const struct config *cfg, uint16_t ntp_port)
{
	svc->env.timeout_s = cfg->ke_timeout_ms / (double)MS_PER_S;
	svc->env.propagation_s = cfg->key_propagation_s;
	/* ke-ntp-port; else this host's own NTP port (0: none) when no
	 * ke-ntp-server sends clients elsewhere: clients then use this host
	 * and must learn its port, while other hosts' ports are not ours to
	 * guess. */
	if (cfg->ke_ntp_port >= 0)
		svc->env.ntp_port = cfg->ke_ntp_port;
	else if (ntp_port && cfg->n_ke_ntp_servers == 0)
		svc->env.ntp_port = ntp_port;
	else
		svc->env.ntp_port = KE_SESSION_NO_PORT;
	if (!cfg->ke_certificate || !cfg->ke_private_key) {
		log_err("NTS-KE needs ke-certificate and ke-private-key");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_ke_ntp_servers; i++) {
		svc->ntp_servers[i] = strdup(cfg->ke_ntp_servers[i]);
		if (!svc->ntp_servers[i]) {
			no_memory("ke-ntp-server");
			return -1;
		}
		svc->env.n_ntp_servers = i + 1;
	}
	svc->env.ntp_servers = (const char *const *)svc->ntp_servers;
	memcpy(svc->aeads, cfg->ke_aeads, cfg->n_ke_aeads * sizeof(svc->aeads[0]));
	svc->env.aeads = svc->aeads;
	svc->env.n_aeads = cfg->n_ke_aeads;
	log_offered_aeads(svc);
	return 0;
}

struct ke_service *ke_service_new(const struct config *cfg, struct snapshot *keys,
				  uint16_t ntp_port)
{
	struct ke_service *svc = calloc(1, sizeof(*svc));
	struct ke_admit_limits lim = {
		.max_sessions = cfg->ke_max_sessions,
		.max_per_address = cfg->ke_max_sessions_per_address,
		.prefix = cfg->rate_limit_prefix,
		.rate_limit = cfg->ke_rate_limit,
		.rate = cfg->ke_rate_limit_rate,
		.burst = cfg->ke_rate_limit_burst,
		.table = cfg->rate_limit_table,
	};

	if (!svc)
		return no_memory("service");
	svc->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(KE_LOG_BURST, KE_LOG_INTERVAL_S);
	svc->env.rl = &svc->rl;
	svc->env.keys = keys;
	if (apply_config(svc, cfg, ntp_port) < 0)
		goto out;
	svc->env.admit = ke_admit_new(&lim, &svc->rl);
	if (!svc->env.admit)
		goto out;
	svc->env.tls = tls_store_new(cfg->ke_certificate, cfg->ke_private_key);
	if (!svc->env.tls)
		goto out;
	svc->listen = ke_listen_new(listener_threads(cfg->ke_threads), cfg->cpu_steering,
				    &svc->env);
	if (!svc->listen)
		goto out;
	svc->n_addrs = listener_addrs(cfg->ke_listen, cfg->n_ke_listen, svc->addrs, KE_LISTEN_MAX,
				      CONFIG_DEFAULT_KE_PORT, SOCK_STREAM, "NTS-KE");
	if (ke_listen_bind(svc->listen, svc->addrs, svc->n_addrs) < 0)
		goto out;
	return svc;
out:
	ke_service_free(svc);
	return NULL;
}

void ke_service_set_acl(struct ke_service *ks, struct snapshot *acl)
{
	ke_admit_set_acl(ks->env.admit, acl);
}

void ke_service_set_thread_start(struct ke_service *ks, const struct thread_start *ts)
{
	ke_listen_set_thread_start(ks->listen, ts);
}

void ke_service_set_proxy(struct ke_service *ks, struct snapshot *proxy)
{
	ks->env.proxy = proxy;
}

int ke_service_start(struct ke_service *ks)
{
	return ke_listen_start(ks->listen);
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
	return ks->n_addrs;
}

int ke_service_listen_addr(const struct ke_service *ks, size_t i, struct netaddr *out)
{
	if (i >= ks->n_addrs)
		return -1;
	*out = ks->addrs[i];
	return 0;
}

unsigned ke_service_sessions(const struct ke_service *ks)
{
	return ke_admit_sessions(ks->env.admit);
}

void ke_service_counters(const struct ke_service *ks, uint64_t out[KE_CNT_COUNT])
{
	ke_listen_counters(ks->listen, out);
}

bool ke_service_steered(const struct ke_service *ks)
{
	return ke_listen_steered(ks->listen);
}

unsigned ke_service_threads(const struct ke_service *ks, struct listener_thread_view *v,
			    unsigned max)
{
	return ke_listen_threads(ks->listen, v, max);
}

void ke_service_stop(struct ke_service *ks)
{
	if (ks)
		ke_listen_stop(ks->listen);
}

void ke_service_free(struct ke_service *ks)
{
	if (!ks)
		return;
	/* Threads first: their sessions use everything else. */
	ke_listen_free(ks->listen);
	tls_store_free(ks->env.tls);
	ke_admit_free(ks->env.admit);
	for (size_t i = 0; i < ks->env.n_ntp_servers; i++)
		free(ks->ntp_servers[i]);
	free(ks);
}
