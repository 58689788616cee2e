/* health: the /health verdict. */
#include "build_config.h"

#include <stdio.h>

#include "ntsd/health.h"

/* The clock source's word, after the verdict: "" for clock-source kernel
 * or an NTS-KE-only host. */
static void source_note(const struct health_input *in, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!in->ntp_enabled || !in->clock_source[0])
		return;
	snprintf(buf, len, "; clock-source %s %s%s", in->clock_source,
		 in->clock_source_state ? in->clock_source_state : "?",
		 in->clock_source_serving ? "" : ", serving the kernel's state");
}

/* key-max-age: the newest key's age over it means the fleet's rotations
 * stopped reaching this host.  A key dated in the future (a clock behind
 * the rotating host's) is not stale. */
static bool keys_stale(const struct health_input *in, char *buf, size_t len)
{
	if (in->key_max_age_s <= 0 || in->newest_key_age_s <= in->key_max_age_s)
		return false;
	snprintf(buf, len, "key file stale: newest key %lld s old, over key-max-age %lld s "
		 "(rotations stopped reaching this host)",
		 (long long)in->newest_key_age_s, (long long)in->key_max_age_s);
	return true;
}

bool health_check(const struct health_input *in, char *reason, size_t len)
{
	const char *why = NULL;
	char note[128], stale[160];
	bool clock_ok = in->clock_source_serving || in->clock_synchronised || in->local_stratum;

	source_note(in, note, sizeof(note));
	if (!in->running)
		why = "services not running";
	else if (in->draining)
		why = "shutting down: draining (shutdown-drain)";
	else if (in->ntp_enabled && !clock_ok)
		why = "system clock not synchronised (and local-stratum is off)";
	else if (in->n_keys == 0)
		why = "no master keys loaded";
	else if (!in->key_file_ok)
		why = "key file missing or invalid (serving the last good key set)";
	else if (keys_stale(in, stale, sizeof(stale)))
		why = stale;
	if (why) {
		snprintf(reason, len, "%s%s", why, note);
		return false;
	}
	/* At notAfter itself the certificate is no longer valid. */
	if (in->ke_enabled && in->cert_expiry_s <= 0) {
		int64_t ago = in->cert_expiry_s == INT64_MIN ? INT64_MAX : -in->cert_expiry_s;

		snprintf(reason, len, "certificate expired %lld s ago%s", (long long)ago, note);
		return false;
	}
	snprintf(reason, len, "ok%s", note);
	return true;
}
