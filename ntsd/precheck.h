/* precheck: the part of `ntsd -n` that checks the start's environment
 * rather than the files' contents: the run user exists and can be
 * switched to; the pid file's directory is writable; the key file's
 * directory exists and a missing key file can be created; as the run user
 * (in a child that drops to it), the key file can be re-read, and a
 * warning when the certificate or private key cannot be (reloads); the
 * sandbox: on or off, and whether this kernel can run it. */
#ifndef NTSD_PRECHECK_H
#define NTSD_PRECHECK_H

#include <stdio.h>

#include "common/config.h"

/* What passed goes to out, what failed to err (each one line naming the
 * directive, the path and the fix); both must be backed by a file
 * descriptor (the run-user child writes them too).  0 or -1. */
int precheck_run(const struct config *cfg, FILE *out, FILE *err);

#endif
