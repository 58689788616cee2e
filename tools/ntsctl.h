/* ntsctl: subcommands share these.  Exit codes (documented in ntsctl(8)). */
#ifndef NTSD_NTSCTL_H
#define NTSD_NTSCTL_H

enum ntsctl_exit {
	NTSCTL_OK = 0,
	NTSCTL_FAIL = 1,	/* the operation failed (bad file, probe failed, ...) */
	NTSCTL_USAGE = 2,	/* bad command line */
	NTSCTL_LOCKED = 3,	/* another rotation holds the lock past the wait */
	NTSCTL_UNHEALTHY = 4,	/* stats: ntsd answered, /health not 200 */
};

int ntsctl_keys(int argc, char **argv);
int ntsctl_probe(int argc, char **argv);
int ntsctl_stats(int argc, char **argv);

#endif
