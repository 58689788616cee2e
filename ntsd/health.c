/* health: the /health verdict. */
#include "build_config.h"

#include <stdio.h>

#include "ntsd/health.h"

bool health_check(const struct health_input *in, char *reason, size_t len)
{
	const char *why = NULL;

	if (!in->running)
		why = "services not running";
	else if (in->draining)
		why = "shutting down: draining (shutdown-drain)";
	else if (in->ntp_enabled && !in->clock_synchronised && !in->local_stratum)
		why = "system clock not synchronised (and local-stratum is off)";
	else if (in->n_keys == 0)
		why = "no master keys loaded";
	else if (!in->key_file_ok)
		why = "key file missing or invalid (serving the last good key set)";
	if (why) {
		snprintf(reason, len, "%s", why);
		return false;
	}
	/* At notAfter itself the certificate is no longer valid. */
	if (in->ke_enabled && in->cert_expiry_s <= 0) {
		int64_t ago = in->cert_expiry_s == INT64_MIN ? INT64_MAX : -in->cert_expiry_s;

		snprintf(reason, len, "certificate expired %lld s ago", (long long)ago);
		return false;
	}
	snprintf(reason, len, "ok");
	return true;
}
