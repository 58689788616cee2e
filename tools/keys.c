/* ntsctl keys: create, rotate, list and check key files.
 *
 * Rotation is safe to run from a timer on every host at once: an
 * exclusive lock on FILE.lock serialises rotations (the key file itself is
 * replaced by rename, so it cannot carry the lock), and --if-older-than
 * turns a run into a no-op when someone already rotated. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/keypolicy.h"
#include "common/keyset.h"
#include "tools/ntsctl.h"

#define DEFAULT_RETAIN_S (7 * 86400)
#define DEFAULT_PROPAGATION_S 3600
#define LOCK_WAIT_S 30

struct keys_opts {
	int64_t retain, propagation, if_older_than;
};

static int parse_duration_opt(const char *name, const char *v, int64_t *out)
{
	int64_t d = config_parse_duration(v);

	if (d < 0) {
		fprintf(stderr, "ntsctl: --%s: bad duration '%s' (examples: 90s, 15m, 12h, 7d)\n",
			name, v);
		return -1;
	}
	*out = d;
	return 0;
}

static int parse_opts(int argc, char **argv, struct keys_opts *o)
{
	static const struct option longopts[] = {
		{ "retain", required_argument, NULL, 'r' },
		{ "propagation", required_argument, NULL, 'p' },
		{ "if-older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	o->retain = DEFAULT_RETAIN_S;
	o->propagation = DEFAULT_PROPAGATION_S;
	o->if_older_than = -1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (parse_duration_opt("retain", optarg, &o->retain) < 0)
				return -1;
			break;
		case 'p':
			if (parse_duration_opt("propagation", optarg, &o->propagation) < 0)
				return -1;
			break;
		case 'o':
			if (parse_duration_opt("if-older-than", optarg, &o->if_older_than) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static void format_age(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "in %llds", (long long)-s);
	else if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
}

/* Hold an exclusive lock on FILE.lock; returns the fd or -1. */
static int lock_key_file(const char *path)
{
	char lock[4096];
	int fd;

	if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)) {
		fprintf(stderr, "ntsctl: %s: path too long\n", path);
		return -1;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "ntsctl: %s: %s\n", lock, strerror(errno));
		return -1;
	}
	for (int i = 0; i < LOCK_WAIT_S * 10; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK) {
			fprintf(stderr, "ntsctl: %s: lock: %s\n", lock, strerror(errno));
			close(fd);
			return -1;
		}
		usleep(100000);
	}
	fprintf(stderr, "ntsctl: %s: still locked by another rotation after %ds\n", lock,
		LOCK_WAIT_S);
	close(fd);
	errno = EWOULDBLOCK;
	return -2;
}

static int keys_init(const char *path)
{
	struct keyset_error err;
	struct keyset *ks;
	const struct master_key *k;
	int lock, rc = NTSCTL_FAIL;

	if (access(path, F_OK) == 0) {
		fprintf(stderr, "ntsctl: %s: already exists; not overwriting it\n", path);
		return NTSCTL_FAIL;
	}
	lock = lock_key_file(path);
	if (lock < 0)
		return lock == -2 ? NTSCTL_LOCKED : NTSCTL_FAIL;
	ks = keyset_new();
	k = ks ? keyset_generate(ks, (int64_t)time(NULL)) : NULL;
	if (!k) {
		fprintf(stderr, "ntsctl: cannot generate a key\n");
		goto out;
	}
	if (access(path, F_OK) == 0) {	/* lost a race with another init */
		fprintf(stderr, "ntsctl: %s: already exists; not overwriting it\n", path);
		goto out;
	}
	if (keyset_save(ks, path, &err) < 0) {
		fprintf(stderr, "ntsctl: %s\n", err.msg);
		goto out;
	}
	printf("%s: created with key %08x\n", path, k->id);
	rc = NTSCTL_OK;
out:
	keyset_free(ks);
	close(lock);
	return rc;
}

static int keys_rotate(const char *path, const struct keys_opts *o)
{
	struct keyset_error err;
	struct keyset *ks = NULL;
	const struct master_key *k;
	int64_t now = (int64_t)time(NULL), age;
	size_t pruned;
	int lock, rc = NTSCTL_FAIL;

	if (o->retain <= o->propagation) {
		fprintf(stderr, "ntsctl: --retain (%llds) must be longer than --propagation (%llds)\n",
			(long long)o->retain, (long long)o->propagation);
		return NTSCTL_USAGE;
	}
	lock = lock_key_file(path);
	if (lock < 0)
		return lock == -2 ? NTSCTL_LOCKED : NTSCTL_FAIL;
	ks = keyset_load(path, &err);
	if (!ks) {
		fprintf(stderr, "ntsctl: %s\n", err.msg);
		goto out;
	}
	age = keypolicy_newest_age(ks, now);
	if (o->if_older_than >= 0 && age >= 0 && age < o->if_older_than) {
		printf("%s: newest key is %llds old (< %llds): nothing to do\n", path,
		       (long long)age, (long long)o->if_older_than);
		rc = NTSCTL_OK;
		goto out;
	}
	k = keyset_generate(ks, now);
	if (!k) {
		fprintf(stderr, "ntsctl: %s: cannot add a key (the file holds at most %d)\n", path,
			KEYSET_MAX_KEYS);
		goto out;
	}
	printf("%s: added key %08x\n", path, k->id);
	pruned = keypolicy_prune(ks, now, o->retain, o->propagation);
	if (keyset_save(ks, path, &err) < 0) {
		fprintf(stderr, "ntsctl: %s\n", err.msg);
		goto out;
	}
	printf("%s: %zu keys (%zu pruned)\n", path, keyset_count(ks), pruned);
	rc = NTSCTL_OK;
out:
	keyset_free(ks);
	close(lock);
	return rc;
}

static int keys_list(const char *path, const struct keys_opts *o)
{
	struct keyset_error err;
	struct keyset *ks = keyset_load(path, &err);
	int64_t now = (int64_t)time(NULL);

	if (!ks) {
		fprintf(stderr, "ntsctl: %s\n", err.msg);
		return NTSCTL_FAIL;
	}
	printf("%-8s  %-22s  %-20s  %-9s  %s\n", "ID", "ALGORITHM", "CREATED (UTC)", "AGE", "ROLE");
	for (size_t i = 0; i < keyset_count(ks); i++) {
		const struct master_key *k = keyset_key_at(ks, i);
		const struct aead_alg *alg = aead_by_id(k->alg);
		char created[32], age[32];
		time_t t = (time_t)k->created;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S", &tm);
		format_age(now - k->created, age, sizeof(age));
		printf("%08x  %-22s  %-20s  %-9s  %s\n", k->id, alg ? alg->name : "?", created, age,
		       key_role_str(keypolicy_role(ks, k, now, o->propagation)));
	}
	keyset_free(ks);
	return NTSCTL_OK;
}

static int keys_check(const char *path)
{
	struct keyset_error err;
	struct keyset *ks = keyset_load(path, &err);

	if (!ks) {
		fprintf(stderr, "%s\n", err.msg);
		return NTSCTL_FAIL;
	}
	printf("%s: OK, %zu keys\n", path, keyset_count(ks));
	keyset_free(ks);
	return NTSCTL_OK;
}

int ntsctl_keys(int argc, char **argv)
{
	struct keys_opts o;
	const char *cmd, *path;

	if (argc < 3) {
		fprintf(stderr, "Usage: ntsctl keys {init|rotate|list|check} FILE [OPTIONS]\n");
		return NTSCTL_USAGE;
	}
	cmd = argv[1];
	path = argv[2];
	if (parse_opts(argc - 2, argv + 2, &o) < 0 || optind != argc - 2) {
		fprintf(stderr, "Usage: ntsctl keys %s FILE [OPTIONS]; see ntsctl --help\n", cmd);
		return NTSCTL_USAGE;
	}
	if (!strcmp(cmd, "init"))
		return keys_init(path);
	if (!strcmp(cmd, "rotate"))
		return keys_rotate(path, &o);
	if (!strcmp(cmd, "list"))
		return keys_list(path, &o);
	if (!strcmp(cmd, "check"))
		return keys_check(path);
	fprintf(stderr, "ntsctl: unknown keys command '%s'\n", cmd);
	return NTSCTL_USAGE;
}
