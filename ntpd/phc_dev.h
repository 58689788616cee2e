/* phc_dev: one `hw-timestamp IFACE` interface, its NIC's timestamping
 * and its PTP hardware clock (PHC).
 *
 * phc_dev_open (as root, at start) asks the driver what it can do
 * (ETHTOOL_GET_TS_INFO): an interface without a PHC or without raw
 * hardware timestamps (veth, lo, most virtual NICs) keeps kernel software
 * timestamps, said once in the log.  Otherwise it turns hardware
 * timestamping on (SIOCSHWTSTAMP: transmit on, receive filter NTP_ALL
 * where the driver has it, else ALL, else none), opens /dev/ptpN and
 * picks the best way the driver offers to read the PHC against the system
 * clock: PTP_SYS_OFFSET_PRECISE (a cross-timestamp by the hardware), else
 * PTP_SYS_OFFSET_EXTENDED, else PTP_SYS_OFFSET.
 *
 * phc_dev_poll (the daemon's main loop, about once a second) takes one
 * sample into the model (ntpd/phc.h) and publishes the fit; workers read
 * it through phc_dev_pub without locking and convert hardware timestamps
 * to system time with phc_fit_convert. */
#ifndef NTSD_PHC_DEV_H
#define NTSD_PHC_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "ntpd/phc.h"

struct phc_dev;

enum phc_dev_status {
	PHC_DEV_READY = 0,	/* hardware timestamps on, *out set */
	PHC_DEV_NONE,		/* no hardware timestamping here: kernel timestamps (logged) */
	PHC_DEV_ERROR,		/* the interface is missing or its PHC unusable (logged) */
};

enum phc_dev_status phc_dev_open(const char *ifname, struct phc_dev **out);
void phc_dev_free(struct phc_dev *d);	/* NULL-safe */

/* Main loop only: one sample, the model updated, the fit published. */
void phc_dev_poll(struct phc_dev *d);

/* Any thread. */
const char *phc_dev_ifname(const struct phc_dev *d);
int phc_dev_ifindex(const struct phc_dev *d);
bool phc_dev_rx_on(const struct phc_dev *d);	/* receive filter enabled */
const struct phc_pub *phc_dev_pub(const struct phc_dev *d);

/* What became of the samples: PHC_ADD_*, and reads that failed or had
 * no reading tight enough (PHC_MAX_DELAY_NS). */
struct phc_dev_counts {
	uint64_t added[PHC_ADD_COUNT];
	uint64_t read_errors;
	bool valid;		/* the published fit converts */
};
void phc_dev_counts(const struct phc_dev *d, struct phc_dev_counts *out);

#endif
