/* tls_store: the served SSL_CTX, its expiry and its reload. */
#include "build_config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"
#include "common/monotime.h"
#include "common/snapshot.h"
#include "nts-ke/tls_ctx.h"
#include "nts-ke/tls_store.h"

/* An old TLS context outlives its replacement this long; sessions hold
 * their own reference, so only the SSL_new window needs covering. */
#define TLS_STORE_GRACE_MS 10000
#define SECONDS_PER_DAY 86400
/* Room for tls_ctx_new's "FILE: reason" message. */
#define TLS_STORE_ERR_MAX 768

struct tls_file_id {
	bool valid;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct tls_store {
	char *cert_file, *key_file;
	struct snapshot ctx;		/* SSL_CTX */
	_Atomic int64_t not_after;
	struct tls_file_id cert_id, key_id;
};

static int file_id(const char *path, struct tls_file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) < 0)
		return -1;
	id->valid = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	return 0;
}

static bool file_id_same(const struct tls_file_id *a, const struct tls_file_id *b)
{
	return a->valid == b->valid && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int load(struct tls_store *ts)
{
	char err[TLS_STORE_ERR_MAX];
	SSL_CTX *ctx;
	int64_t days;

	/* Stat before loading: a change during the load is seen next time. */
	file_id(ts->cert_file, &ts->cert_id);
	file_id(ts->key_file, &ts->key_id);
	ctx = tls_ctx_new(ts->cert_file, ts->key_file, err, sizeof(err));
	if (!ctx) {
		log_err("%s", err);
		return -1;
	}
	atomic_store(&ts->not_after, tls_ctx_not_after(ctx));
	snapshot_publish(&ts->ctx, ctx, monotime_ms());
	days = (atomic_load(&ts->not_after) - (int64_t)time(NULL)) / SECONDS_PER_DAY;
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
	snapshot_init(&ts->ctx, tls_ctx_free, TLS_STORE_GRACE_MS);
	ts->cert_file = strdup(cert_file);
	ts->key_file = strdup(key_file);
	if (!ts->cert_file || !ts->key_file) {
		log_err("NTS-KE: out of memory");
		goto out;
	}
	if (load(ts) < 0)
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

int tls_store_reload(struct tls_store *ts)
{
	int rc = load(ts);

	if (rc < 0)
		log_err("NTS-KE: keeping the certificate already in use");
	snapshot_reap(&ts->ctx, monotime_ms());
	return rc;
}

int tls_store_check(struct tls_store *ts)
{
	struct tls_file_id cert_id, key_id;

	snapshot_reap(&ts->ctx, monotime_ms());
	file_id(ts->cert_file, &cert_id);
	file_id(ts->key_file, &key_id);
	if (file_id_same(&cert_id, &ts->cert_id) && file_id_same(&key_id, &ts->key_id))
		return 0;
	log_info("NTS-KE: certificate or key file changed, reloading");
	return tls_store_reload(ts) < 0 ? -1 : 1;
}

int64_t tls_store_not_after(const struct tls_store *ts)
{
	return atomic_load((_Atomic int64_t *)&ts->not_after);
}
