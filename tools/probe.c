/* probe: pending */
#include "build_config.h"
#include <stdio.h>
#include "tools/ntsctl.h"
int ntsctl_probe(int argc, char **argv) { fprintf(stderr, "ntsctl: probe: not built yet\n"); return NTSCTL_FAIL; }
