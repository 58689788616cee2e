/* ntsctl keys: create, rotate, list and check key files.
 *
 * Rotation is safe to run from a timer on every host at once: an
 * exclusive lock on FILE.lock serialises rotations and inits (the key file
 * itself is replaced by rename, so it cannot carry the lock), and
 * --if-older-than turns a run into a no-op when someone already rotated. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/file.h"
#include "common/keypolicy.h"
#include "common/keyset.h"
#include "tools/ntsctl.h"

#define DEFAULT_RETAIN_S (7 * 86400)
#define DEFAULT_PROPAGATION_S 3600
#define DEFAULT_LOCK_WAIT_S 30
#define LOCK_POLL_US 50000

/* Which options a command takes. */
#define OPT_RETAIN (1u << 0)
#define OPT_PROPAGATION (1u << 1)
#define OPT_IF_OLDER_THAN (1u << 2)
#define OPT_LOCK_WAIT (1u << 3)

struct keys_opts {
	int64_t retain, propagation, if_older_than, lock_wait;
};

struct keys_cmd {
	const char *name;
	unsigned opts;
	int (*run)(const char *path, const struct keys_opts *o);
};

static const struct {
	const char *name;
	unsigned bit;
} opt_names[] = {
	{ "retain", OPT_RETAIN },
	{ "propagation", OPT_PROPAGATION },
	{ "if-older-than", OPT_IF_OLDER_THAN },
	{ "lock-wait", OPT_LOCK_WAIT },
};

static int set_duration(const char *cmd, const char *name, const char *v, int64_t *out)
{
	int64_t d = config_parse_duration(v);

	if (d < 0) {
		fprintf(stderr, "ntsctl keys %s: --%s: bad duration '%s' (examples: 90s, 15m, 12h, 7d)\n",
			cmd, name, v);
		return -1;
	}
	*out = d;
	return 0;
}

/* argv[0] is the command name; exactly one non-option argument, FILE. */
static int parse_opts(int argc, char **argv, const struct keys_cmd *cmd, struct keys_opts *o,
		      const char **path)
{
	static const struct option longopts[] = {
		{ "retain", required_argument, NULL, 'r' },
		{ "propagation", required_argument, NULL, 'p' },
		{ "if-older-than", required_argument, NULL, 'o' },
		{ "lock-wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, idx;

	o->retain = DEFAULT_RETAIN_S;
	o->propagation = DEFAULT_PROPAGATION_S;
	o->if_older_than = -1;
	o->lock_wait = DEFAULT_LOCK_WAIT_S;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", longopts, &idx)) != -1) {
		int64_t *dst;

		switch (opt) {
		case 'r':
			dst = &o->retain;
			break;
		case 'p':
			dst = &o->propagation;
			break;
		case 'o':
			dst = &o->if_older_than;
			break;
		case 'w':
			dst = &o->lock_wait;
			break;
		case ':':
			fprintf(stderr, "ntsctl keys %s: %s needs a value\n", cmd->name,
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "ntsctl keys %s: unknown option '%s'\n", cmd->name,
				argv[optind - 1]);
			return -1;
		}
		if (!(cmd->opts & opt_names[idx].bit)) {
			fprintf(stderr, "ntsctl keys %s: --%s does not apply\n", cmd->name,
				opt_names[idx].name);
			return -1;
		}
		if (set_duration(cmd->name, opt_names[idx].name, optarg, dst) < 0)
			return -1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ntsctl keys %s: %s\n", cmd->name,
			optind == argc ? "FILE is missing" : "more than one FILE");
		return -1;
	}
	*path = argv[optind];
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

/* With the lock held no other ntsctl is writing the file: a temporary file
 * beside it was left by one killed before its rename (it holds secrets).
 * Returns lock, or -1 (lock closed) when one cannot be removed. */
static int remove_stale_temps(const char *path, int lock)
{
	char err[FILE_ERR_MAX];
	int n = file_remove_stale_temps(path, err);

	if (n < 0) {
		fprintf(stderr, "ntsctl: %s\n", err);
		close(lock);
		return -1;
	}
	if (n > 0)
		printf("%s: removed %d temporary file%s left by an interrupted ntsctl\n", path, n,
		       n == 1 ? "" : "s");
	return lock;
}

/* Hold an exclusive lock on FILE.lock, waiting up to `wait` seconds, and
 * remove the temporary files of killed writers.  Returns the fd, -1 on
 * error, -2 when still locked after the wait. */
static int lock_key_file(const char *path, int64_t wait)
{
	char lock[PATH_MAX];
	int64_t tries = wait * (1000000 / LOCK_POLL_US);
	int fd;

	if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)) {
		fprintf(stderr, "ntsctl: %s: path too long\n", path);
		return -1;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fprintf(stderr, "ntsctl: %s: %s\n", lock, strerror(errno));
		return -1;
	}
	for (int64_t i = 0;; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return remove_stale_temps(path, fd);
		if (errno != EWOULDBLOCK) {
			fprintf(stderr, "ntsctl: %s: lock: %s\n", lock, strerror(errno));
			close(fd);
			return -1;
		}
		if (i >= tries)
			break;
		usleep(LOCK_POLL_US);
	}
	fprintf(stderr, "ntsctl: %s: still locked by another ntsctl after %llds\n", lock,
		(long long)wait);
	close(fd);
	return -2;
}

/* Replace path with ks, keeping the owner and group of the file it
 * replaces: a timer running as root must not hand ntsd's key file to root,
 * or ntsd, running as its own user, could not reload it. */
static int save_keeping_owner(const struct keyset *ks, const char *path,
			      const struct stat *old)
{
	struct file_owner owner = { old->st_uid, old->st_gid };
	struct keyset_error err;

	if (keyset_save_owned(ks, path, &owner, &err) < 0) {
		fprintf(stderr, "ntsctl: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int keys_init(const char *path, const struct keys_opts *o)
{
	struct keyset_error err;
	struct keyset *ks = NULL;
	const struct master_key *k;
	struct stat st;
	int lock, rc = NTSCTL_FAIL;

	/* lstat: a dangling symlink is something too. */
	if (lstat(path, &st) == 0) {
		fprintf(stderr, "ntsctl: %s: already exists; not overwriting it\n", path);
		return NTSCTL_FAIL;
	}
	lock = lock_key_file(path, o->lock_wait);
	if (lock < 0)
		return lock == -2 ? NTSCTL_LOCKED : NTSCTL_FAIL;
	if (lstat(path, &st) == 0) {	/* lost a race with another init */
		fprintf(stderr, "ntsctl: %s: already exists; not overwriting it\n", path);
		goto out;
	}
	ks = keyset_new();
	k = ks ? keyset_generate(ks, (int64_t)time(NULL)) : NULL;
	if (!k) {
		fprintf(stderr, "ntsctl: cannot generate a key\n");
		goto out;
	}
	if (keyset_save(ks, path, &err) < 0) {
		fprintf(stderr, "ntsctl: %s\n", err.msg);
		goto out;
	}
	printf("%s: created with key %08x (mode 0600)\n", path, k->id);
	rc = NTSCTL_OK;
out:
	keyset_free(ks);
	close(lock);
	return rc;
}

/* --if-older-than: true (with a line saying why) when the newest key is
 * young enough that nothing needs doing. */
static bool rotation_not_due(const char *path, const struct keyset *ks, int64_t now,
			     const struct keys_opts *o)
{
	int64_t age = keypolicy_newest_age(ks, now);
	char agebuf[32];

	if (o->if_older_than < 0 || age >= o->if_older_than)
		return false;
	format_age(age, agebuf, sizeof(agebuf));
	if (age < 0)
		printf("%s: newest key is dated %s from now (clock skew?): nothing to do\n", path,
		       agebuf + 3);
	else
		printf("%s: newest key is %s old, younger than %llds: nothing to do\n", path,
		       agebuf, (long long)o->if_older_than);
	return true;
}

struct key_stamp {
	uint32_t id;
	int64_t created;
};

/* Say which of the keys in `before` are no longer in ks. */
static void report_pruned(const char *path, const struct keyset *ks,
			  const struct key_stamp *before, size_t n_before, int64_t now)
{
	char agebuf[32];

	for (size_t i = 0; i < n_before; i++) {
		if (keyset_find(ks, before[i].id))
			continue;
		format_age(now - before[i].created, agebuf, sizeof(agebuf));
		printf("%s: pruned key %08x (created %s ago)\n", path, before[i].id, agebuf);
	}
}

/* Prune, add one key, save.  Prune before adding: the key sealing until
 * now stays even with --propagation 0, and a full file still takes the
 * new key. */
static int rotate_locked(const char *path, struct keyset *ks, const struct stat *st, int64_t now,
			 const struct keys_opts *o)
{
	struct key_stamp before[KEYSET_MAX_KEYS];
	size_t n_before = keyset_count(ks), pruned;
	const struct master_key *k, *seal;

	for (size_t i = 0; i < n_before; i++) {
		before[i].id = keyset_key_at(ks, i)->id;
		before[i].created = keyset_key_at(ks, i)->created;
	}
	pruned = keypolicy_prune(ks, now, o->retain, o->propagation);
	k = keyset_generate(ks, now);
	if (!k) {
		fprintf(stderr, "ntsctl: %s: cannot add a key (the file holds at most %d)\n", path,
			KEYSET_MAX_KEYS);
		return -1;
	}
	if (save_keeping_owner(ks, path, st) < 0)
		return -1;
	printf("%s: added key %08x; it seals new cookies after %llds\n", path, k->id,
	       (long long)o->propagation);
	report_pruned(path, ks, before, n_before, now);
	seal = keyset_sealing_key(ks, now, o->propagation);
	printf("%s: %zu keys, %zu pruned; sealing key %08x\n", path, keyset_count(ks), pruned,
	       seal ? seal->id : 0);
	return 0;
}

static int keys_rotate(const char *path, const struct keys_opts *o)
{
	struct keyset_error err;
	struct keyset *ks = NULL;
	struct stat st;
	int64_t now;
	int lock, rc = NTSCTL_FAIL;

	if (o->retain <= o->propagation) {
		fprintf(stderr, "ntsctl keys rotate: --retain (%llds) must be longer than "
				"--propagation (%llds)\n",
			(long long)o->retain, (long long)o->propagation);
		return NTSCTL_USAGE;
	}
	lock = lock_key_file(path, o->lock_wait);
	if (lock < 0)
		return lock == -2 ? NTSCTL_LOCKED : NTSCTL_FAIL;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "ntsctl: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (create it with: ntsctl keys init FILE)" : "");
		goto out;
	}
	ks = keyset_load(path, &err);
	if (!ks) {
		fprintf(stderr, "ntsctl: %s\n", err.msg);
		goto out;
	}
	/* Read the clock under the lock: the previous holder's keys are older. */
	now = (int64_t)time(NULL);
	if (rotation_not_due(path, ks, now, o) || rotate_locked(path, ks, &st, now, o) == 0)
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

		if (!gmtime_r(&t, &tm) || !strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S", &tm))
			snprintf(created, sizeof(created), "@%lld", (long long)k->created);
		format_age(now - k->created, age, sizeof(age));
		printf("%08x  %-22s  %-20s  %-9s  %s\n", k->id, alg ? alg->name : "?", created, age,
		       key_role_str(keypolicy_role(ks, k, now, o->propagation)));
	}
	keyset_free(ks);
	return NTSCTL_OK;
}

/* What ntsd would refuse, dates included. */
static int keys_check(const char *path, const struct keys_opts *o)
{
	struct keyset_error err;
	struct keyset *ks = keyset_load_dated(path, (int64_t)time(NULL), &err);

	(void)o;
	if (!ks) {
		fprintf(stderr, "%s\n", err.msg);
		return NTSCTL_FAIL;
	}
	printf("%s: OK, %zu keys\n", path, keyset_count(ks));
	keyset_free(ks);
	return NTSCTL_OK;
}

static const struct keys_cmd keys_cmds[] = {
	{ "init", OPT_LOCK_WAIT, keys_init },
	{ "rotate", OPT_RETAIN | OPT_PROPAGATION | OPT_IF_OLDER_THAN | OPT_LOCK_WAIT, keys_rotate },
	{ "list", OPT_PROPAGATION, keys_list },
	{ "check", 0, keys_check },
};

int ntsctl_keys(int argc, char **argv)
{
	const struct keys_cmd *cmd = NULL;
	struct keys_opts o;
	const char *path;

	if (argc < 2) {
		fprintf(stderr, "Usage: ntsctl keys {init|rotate|list|check} FILE [OPTIONS]\n");
		return NTSCTL_USAGE;
	}
	for (size_t i = 0; i < sizeof(keys_cmds) / sizeof(keys_cmds[0]); i++)
		if (!strcmp(argv[1], keys_cmds[i].name))
			cmd = &keys_cmds[i];
	if (!cmd) {
		fprintf(stderr, "ntsctl: unknown keys command '%s' (init, rotate, list, check)\n",
			argv[1]);
		return NTSCTL_USAGE;
	}
	if (parse_opts(argc - 1, argv + 1, cmd, &o, &path) < 0) {
		fprintf(stderr, "See ntsctl --help.\n");
		return NTSCTL_USAGE;
	}
	return cmd->run(path, &o);
}
