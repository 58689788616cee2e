/* tls_store: the served SSL_CTX, its expiry and its reload. */
#include "build_config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file.h"
#include "common/log.h"
#include "common/snapshot.h"
#include "nts-ke/tls_ctx.h"
#include "nts-ke/tls_store.h"

#define SECONDS_PER_DAY 86400
/* Room for tls_ctx_new's "FILE: reason" message. */
#define TLS_STORE_ERR_MAX 768

struct tls_store {
	char *cert_file, *key_file;
	struct snapshot ctx;		/* SSL_CTX */
	_Atomic int64_t not_after;
	struct file_watch cert_watch, key_watch;
};

/* How a load reports a failure. */
enum tls_load_mode {
	TLS_LOAD_LOUD,		/* a new state of the files, or asked for: an error */
	TLS_LOAD_QUIET,		/* a retry of a state that failed already: debug */
};

/* The pair is loaded as one, so both watches learn the outcome: a failed
 * pair is retried until it loads, whichever file was at fault.  The
 * watches were polled before this, so a change during the load is seen
 * at the next check. */
static int load(struct tls_store *ts, enum tls_load_mode mode)
{
	char err[TLS_STORE_ERR_MAX];
	SSL_CTX *ctx;
	int64_t days, not_after;

	ctx = tls_ctx_new(ts->cert_file, ts->key_file, err, sizeof(err));
	file_watch_loaded(&ts->cert_watch, ctx != NULL);
	file_watch_loaded(&ts->key_watch, ctx != NULL);
	if (!ctx) {
		if (mode == TLS_LOAD_LOUD)
			log_err("%s", err);
		else
			log_debug("NTS-KE: still cannot load the certificate: %s", err);
		return -1;
	}
	not_after = tls_ctx_not_after(ctx);
	/* Sessions hold their own reference (SSL_new): a replaced context
	 * waits only for the KE threads' next quiescent point. */
	if (snapshot_publish(&ts->ctx, ctx) < 0)
		return -1;
	atomic_store(&ts->not_after, not_after);
	days = (not_after - (int64_t)time(NULL)) / SECONDS_PER_DAY;
	log_info("NTS-KE certificate %s loaded (expires in %lld days)", ts->cert_file,
		 (long long)days);
	return 0;
}

struct tls_store *tls_store_new(const char *cert_file, const char *key_file)
{
	struct tls_store *ts = calloc(1, sizeof(*ts));

	if (!ts) {
		log_err("NTS-KE: out of memory");
		return NULL;
	}
	snapshot_init(&ts->ctx, tls_ctx_free);
	ts->cert_file = strdup(cert_file);
	ts->key_file = strdup(key_file);
	if (!ts->cert_file || !ts->key_file) {
		log_err("NTS-KE: out of memory");
		goto out;
	}
	file_watch_init(&ts->cert_watch, ts->cert_file);
	file_watch_init(&ts->key_watch, ts->key_file);
	if (tls_store_reload(ts) < 0)
		goto out;
	return ts;
out:
	tls_store_free(ts);
	return NULL;
}

void tls_store_free(struct tls_store *ts)
{
	if (!ts)
		return;
	snapshot_destroy(&ts->ctx);
	free(ts->cert_file);
	free(ts->key_file);
	free(ts);
}

SSL_CTX *tls_store_get(struct tls_store *ts)
{
	return snapshot_get(&ts->ctx);
}

/* A loud load, with the line that says what happens next on failure. */
static int reload(struct tls_store *ts)
{
	int rc = load(ts, TLS_LOAD_LOUD);

	if (rc < 0 && snapshot_get(&ts->ctx))
		log_err("NTS-KE: keeping the certificate already in use");
	return rc;
}

int tls_store_reload(struct tls_store *ts)
{
	/* Forced: the watches record the files as they are now. */
	file_watch_poll(&ts->cert_watch, true);
	file_watch_poll(&ts->key_watch, true);
	return reload(ts);
}

/* What the two watches say of the pair: a new state of either file (or
 * one just gone) is a change; a file still missing leaves nothing to
 * load; else a pair that failed is retried. */
static enum file_watch_event poll_pair(struct tls_store *ts)
{
	enum file_watch_event ev[2];
	bool retry = false;

	ev[0] = file_watch_poll(&ts->cert_watch, false);
	ev[1] = file_watch_poll(&ts->key_watch, false);
	for (size_t i = 0; i < 2; i++)
		if (ev[i] == FILE_WATCH_CHANGED || ev[i] == FILE_WATCH_GONE)
			return FILE_WATCH_CHANGED;
	for (size_t i = 0; i < 2; i++) {
		if (ev[i] == FILE_WATCH_STILL_GONE)
			return FILE_WATCH_SAME;
		retry = retry || ev[i] == FILE_WATCH_RETRY;
	}
	return retry ? FILE_WATCH_RETRY : FILE_WATCH_SAME;
}

int tls_store_check(struct tls_store *ts)
{
	switch (poll_pair(ts)) {
	case FILE_WATCH_CHANGED:
		log_info("NTS-KE: certificate or key file changed, reloading");
		return reload(ts) < 0 ? -1 : 1;
	case FILE_WATCH_RETRY:
		/* Unchanged, but it failed: the cause may lie outside the
		 * files (a directory's mode, a security policy).  Quietly, so
		 * the failure is logged once, not at every check. */
		return load(ts, TLS_LOAD_QUIET) < 0 ? 0 : 1;
	default:
		return 0;
	}
}

int64_t tls_store_not_after(const struct tls_store *ts)
{
	return atomic_load((_Atomic int64_t *)&ts->not_after);
}
