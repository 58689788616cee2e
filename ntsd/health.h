/* health: is this host fit to take traffic?  The answer /health gives a
 * load balancer, as a pure function of the daemon's state so every rule
 * is unit-tested.  Healthy means: the services run and no shutdown
 * drain has begun; when the NTP
 * responder runs, the clock it serves is synchronised or local-stratum
 * vouches for it (or, with clock-source ntp, the discipline daemon's
 * synchronised state is what replies carry); a key set with at least one key is loaded and the key
 * file's last load worked; with key-max-age, the newest key is no older
 * than that (else rotations stopped reaching this host: it NAKs the
 * cookies the rest of the fleet seals under newer keys, and seals its own
 * under keys the fleet prunes); when NTS-KE runs, its certificate has not
 * expired. */
#ifndef NTSD_HEALTH_H
#define NTSD_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct health_input {
	bool ntp_enabled;		/* ntp-service yes */
	bool ke_enabled;		/* ke-service yes */
	bool running;			/* the services were started and not stopped */
	bool draining;			/* SIGTERM: still serving until shutdown-drain ends */
	bool clock_synchronised;	/* the kernel's view of the system clock */
	bool local_stratum;		/* local-stratum set: serve it unsynchronised */
	/* clock-source ntp: its address ("" for clock-source kernel), its
	 * state's name (clock_source_state_name) and whether replies carry
	 * its state (else the kernel's) */
	char clock_source[64];
	const char *clock_source_state;
	bool clock_source_serving;
	size_t n_keys;			/* master keys in the loaded set (0: none) */
	bool key_file_ok;		/* the key file was there and its last load worked */
	int64_t newest_key_age_s;	/* seconds since the newest key's creation */
	int64_t key_max_age_s;		/* key-max-age; 0: off */
	int64_t cert_expiry_s;		/* NTS-KE certificate: seconds until notAfter */
};

/* True when healthy.  Otherwise false, with a one-line reason (no
 * newline) in reason[0..len). */
bool health_check(const struct health_input *in, char *reason, size_t len);

#endif
