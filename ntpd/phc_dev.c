/* phc_dev: a NIC's hardware timestamping and its PHC (ntpd/phc_dev.h). */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
/* after <time.h>: it uses struct timespec */
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/ptp_clock.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/counters.h"
#include "common/log.h"
#include "ntpd/phc_dev.h"

/* Readings per sample (PTP_SYS_OFFSET_EXTENDED and PTP_SYS_OFFSET): the
 * tightest of 10 is rarely disturbed; each costs a PHC read (~1-5 us). */
#define PHC_READINGS 10

enum phc_method {
	PHC_PRECISE,
	PHC_EXTENDED,
	PHC_BASIC,
	PHC_METHODS
};

static const char *const method_names[PHC_METHODS] = {
	[PHC_PRECISE] = "PTP_SYS_OFFSET_PRECISE",
	[PHC_EXTENDED] = "PTP_SYS_OFFSET_EXTENDED",
	[PHC_BASIC] = "PTP_SYS_OFFSET",
};

struct phc_dev {
	char ifname[IFNAMSIZ];
	char path[32];			/* /dev/ptpN */
	int ifindex;
	int fd;
	enum phc_method method;
	bool rx_on, tx_on;
	bool was_valid;			/* main loop only: for the log */
	struct phc_model model;		/* main loop only */
	struct phc_pub pub;
	counter_t added[PHC_ADD_COUNT];
	counter_t read_errors;
};

static int64_t ptp_ns(const struct ptp_clock_time *t)
{
	return t->sec * 1000000000 + t->nsec;
}

/* One sample by method m; false (errno set) when the ioctl failed or no
 * reading was tight enough (errno EAGAIN). */
static bool read_sample(int fd, enum phc_method m, struct phc_sample *s)
{
	struct phc_reading r[PHC_READINGS];
	int64_t t[2 * PHC_READINGS + 1];

	if (m == PHC_PRECISE) {
		struct ptp_sys_offset_precise p;

		memset(&p, 0, sizeof(p));
		if (ioctl(fd, PTP_SYS_OFFSET_PRECISE, &p) < 0)
			return false;
		s->phc = ptp_ns(&p.device);
		s->sys = ptp_ns(&p.sys_realtime);
		s->delay_ns = 0;
		return true;
	}
	if (m == PHC_EXTENDED) {
		struct ptp_sys_offset_extended e;

		memset(&e, 0, sizeof(e));
		e.n_samples = PHC_READINGS;
		if (ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &e) < 0)
			return false;
		for (int i = 0; i < PHC_READINGS; i++) {
			r[i].sys_before = ptp_ns(&e.ts[i][0]);
			r[i].phc = ptp_ns(&e.ts[i][1]);
			r[i].sys_after = ptp_ns(&e.ts[i][2]);
		}
	} else {
		struct ptp_sys_offset b;

		memset(&b, 0, sizeof(b));
		b.n_samples = PHC_READINGS;
		if (ioctl(fd, PTP_SYS_OFFSET, &b) < 0)
			return false;
		for (int i = 0; i < 2 * PHC_READINGS + 1; i++)
			t[i] = ptp_ns(&b.ts[i]);
		phc_readings_from_interleaved(t, PHC_READINGS, r);
	}
	if (!phc_choose_sample(r, PHC_READINGS, s)) {
		errno = EAGAIN;
		return false;
	}
	return true;
}

/* The receive filter to ask for: NTP packets only where the driver can,
 * else every packet, else none (transmit timestamps only). */
static int rx_filter_for(uint32_t filters)
{
	if (filters & (1U << HWTSTAMP_FILTER_NTP_ALL))
		return HWTSTAMP_FILTER_NTP_ALL;
	if (filters & (1U << HWTSTAMP_FILTER_ALL))
		return HWTSTAMP_FILTER_ALL;
	return HWTSTAMP_FILTER_NONE;
}

/* SIOCSHWTSTAMP; a driver that refuses NTP_ALL is asked for ALL. */
static int enable_hw(int sock, struct phc_dev *d, const struct ethtool_ts_info *ti)
{
	struct hwtstamp_config hc;
	struct ifreq ifr;
	int r;

	memset(&ifr, 0, sizeof(ifr));
	memset(&hc, 0, sizeof(hc));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", d->ifname);
	hc.tx_type = (ti->tx_types & (1U << HWTSTAMP_TX_ON)) ? HWTSTAMP_TX_ON : HWTSTAMP_TX_OFF;
	hc.rx_filter = rx_filter_for(ti->rx_filters);
	ifr.ifr_data = (char *)&hc;
	r = ioctl(sock, SIOCSHWTSTAMP, &ifr);
	if (r < 0 && hc.rx_filter == HWTSTAMP_FILTER_NTP_ALL &&
	    (ti->rx_filters & (1U << HWTSTAMP_FILTER_ALL))) {
		hc.rx_filter = HWTSTAMP_FILTER_ALL;
		r = ioctl(sock, SIOCSHWTSTAMP, &ifr);
	}
	if (r < 0) {
		log_errno(LOG_LVL_ERR, "ntp: hw-timestamp %s: SIOCSHWTSTAMP", d->ifname);
		return -1;
	}
	/* The driver says what it did (it may widen the filter). */
	d->rx_on = hc.rx_filter != HWTSTAMP_FILTER_NONE;
	d->tx_on = hc.tx_type == HWTSTAMP_TX_ON;
	return 0;
}

/* ETHTOOL_GET_TS_INFO into *ti: READY when the NIC has a PHC and raw
 * hardware timestamps, else NONE or ERROR (logged). */
static enum phc_dev_status query(int sock, const char *ifname, struct ethtool_ts_info *ti)
{
	const uint32_t need = SOF_TIMESTAMPING_RAW_HARDWARE;
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	memset(ti, 0, sizeof(*ti));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ti->cmd = ETHTOOL_GET_TS_INFO;
	ifr.ifr_data = (char *)ti;
	if (ioctl(sock, SIOCETHTOOL, &ifr) == 0) {
		if (ti->phc_index >= 0 && (ti->so_timestamping & need) == need &&
		    ((ti->tx_types & (1U << HWTSTAMP_TX_ON)) ||
		     rx_filter_for(ti->rx_filters) != HWTSTAMP_FILTER_NONE))
			return PHC_DEV_READY;
		err = EOPNOTSUPP;
	} else {
		err = errno;
	}
	if (err == ENODEV) {
		log_err("ntp: hw-timestamp %s: no such interface", ifname);
		return PHC_DEV_ERROR;
	}
	if (err == EOPNOTSUPP || err == ENOTTY || err == EINVAL) {
		log_warn("ntp: hw-timestamp %s: the interface has no hardware timestamping "
			 "(no PTP hardware clock); it keeps kernel software timestamps", ifname);
		return PHC_DEV_NONE;
	}
	errno = err;
	log_errno(LOG_LVL_ERR, "ntp: hw-timestamp %s: ETHTOOL_GET_TS_INFO", ifname);
	return PHC_DEV_ERROR;
}

/* /dev/ptpN open, and the first method that reads it. */
static int open_phc(struct phc_dev *d, int index)
{
	struct phc_sample s;

	snprintf(d->path, sizeof(d->path), "/dev/ptp%d", index);
	d->fd = open(d->path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		log_errno(LOG_LVL_ERR, "ntp: hw-timestamp %s: %s", d->ifname, d->path);
		return -1;
	}
	for (d->method = PHC_PRECISE; d->method < PHC_METHODS; d->method++)
		if (read_sample(d->fd, d->method, &s) || errno == EAGAIN)
			return 0;
	log_errno(LOG_LVL_ERR, "ntp: hw-timestamp %s: cannot read %s against the system clock",
		  d->ifname, d->path);
	return -1;
}

static enum phc_dev_status open_dev(int sock, const char *ifname, struct phc_dev *d)
{
	struct ethtool_ts_info ti;
	enum phc_dev_status st = query(sock, ifname, &ti);

	if (st != PHC_DEV_READY)
		return st;
	d->ifindex = (int)if_nametoindex(ifname);
	if (d->ifindex == 0) {
		log_errno(LOG_LVL_ERR, "ntp: hw-timestamp %s: if_nametoindex", ifname);
		return PHC_DEV_ERROR;
	}
	if (enable_hw(sock, d, &ti) < 0 || open_phc(d, ti.phc_index) < 0)
		return PHC_DEV_ERROR;
	log_notice("ntp: hw-timestamp %s: hardware timestamps (receive %s, transmit %s) from %s, "
		 "read with %s; converted to system time once %d samples agree", ifname,
		 d->rx_on ? "on" : "off", d->tx_on ? "on" : "off", d->path,
		 method_names[d->method], PHC_MIN_SAMPLES);
	return PHC_DEV_READY;
}

enum phc_dev_status phc_dev_open(const char *ifname, struct phc_dev **out)
{
	struct phc_dev *d = calloc(1, sizeof(*d));
	enum phc_dev_status st;
	int sock;

	*out = NULL;
	if (d == NULL) {
		log_err("ntp: out of memory");
		return PHC_DEV_ERROR;
	}
	d->fd = -1;
	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	phc_model_init(&d->model);
	phc_pub_init(&d->pub);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		log_errno(LOG_LVL_ERR, "ntp: hw-timestamp %s: socket", ifname);
		st = PHC_DEV_ERROR;
	} else {
		st = open_dev(sock, ifname, d);
		close(sock);
	}
	if (st == PHC_DEV_READY)
		*out = d;
	else
		phc_dev_free(d);
	return st;
}

void phc_dev_free(struct phc_dev *d)
{
	if (d == NULL)
		return;
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

/* A change of the published fit's validity, said once. */
static void log_validity(struct phc_dev *d, const struct phc_fit *f, enum phc_add_result r)
{
	if (f->valid == d->was_valid)
		return;
	d->was_valid = f->valid;
	if (f->valid)
		log_notice("ntp: hw-timestamp %s: converting hardware timestamps to system time "
			 "(system - PHC %lld ns, frequency %+.3f ppm)", d->ifname,
			 (long long)f->offset, f->freq * 1e6);
	else
		log_warn("ntp: hw-timestamp %s: hardware timestamps not converted (%s sample); "
			 "kernel timestamps until the PHC model agrees again", d->ifname,
			 phc_add_result_name(r));
}

void phc_dev_poll(struct phc_dev *d)
{
	struct phc_sample s;
	struct phc_fit f;
	enum phc_add_result r;

	if (!read_sample(d->fd, d->method, &s)) {
		counter_inc(&d->read_errors);
		return;
	}
	r = phc_model_add(&d->model, &s);
	counter_inc(&d->added[r]);
	phc_model_fit(&d->model, &f);
	phc_pub_store(&d->pub, &f);
	log_validity(d, &f, r);
}

const char *phc_dev_ifname(const struct phc_dev *d)
{
	return d->ifname;
}

int phc_dev_ifindex(const struct phc_dev *d)
{
	return d->ifindex;
}

bool phc_dev_rx_on(const struct phc_dev *d)
{
	return d->rx_on;
}

const struct phc_pub *phc_dev_pub(const struct phc_dev *d)
{
	return &d->pub;
}

void phc_dev_counts(const struct phc_dev *d, struct phc_dev_counts *out)
{
	struct phc_fit f;

	for (int i = 0; i < PHC_ADD_COUNT; i++)
		out->added[i] = counter_get(&d->added[i]);
	out->read_errors = counter_get(&d->read_errors);
	phc_pub_load(&d->pub, &f);
	out->valid = f.valid;
}
