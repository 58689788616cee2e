/* ntsctl: key rotation and inspection, and an NTS probe.
 * Usage: ntsctl keys {init|rotate|list|check} FILE [OPTIONS]
 *        ntsctl probe HOST[:PORT] [OPTIONS] */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "tools/ntsctl.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ntsctl COMMAND ...\n"
		"\n"
		"  keys init FILE [--lock-wait DURATION]\n"
		"                        create a key file with one new key (never overwrites)\n"
		"  keys rotate FILE [--retain DURATION] [--propagation DURATION]\n"
		"                  [--if-older-than DURATION] [--lock-wait DURATION]\n"
		"                        add a key, prune keys older than the retention\n"
		"  keys list FILE [--propagation DURATION]\n"
		"                        id, algorithm, age and role of each key (no secrets)\n"
		"  keys check FILE       validate a key file\n"
		"  probe HOST[:PORT] [--ca FILE] [--name NAME] [--count N] [--interval MS]\n"
		"                  [--aead ID] [--ntp-server HOST[:PORT]]\n"
		"                        NTS-KE, then N authenticated NTP exchanges\n"
		"  stats [ADDRESS[:PORT]] [--all] [--raw]\n"
		"                        ntsd's counters and health (default 127.0.0.1:9123)\n"
		"\n"
		"Durations: 30s, 15m, 12h, 7d, 2w (a bare number is seconds).\n"
		"Exit status: 0 success, 1 failure, 2 usage error, 3 key file locked,\n"
		"             4 stats: /health not 200 (unhealthy).\n"
		"See ntsctl(8).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NTSCTL_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return NTSCTL_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("ntsctl %s\n", PACKAGE_VERSION);
		return NTSCTL_OK;
	}
	if (!strcmp(argv[1], "keys"))
		return ntsctl_keys(argc - 1, argv + 1);
	if (!strcmp(argv[1], "probe"))
		return ntsctl_probe(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return ntsctl_stats(argc - 1, argv + 1);
	fprintf(stderr, "ntsctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return NTSCTL_USAGE;
}
