/* caps: the capabilities ntsd keeps once it has started (caps.h).  Raw
 * capget/capset: libcap would be a dependency for three system calls. */
#include "build_config.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "ntsd/caps.h"

#ifndef CAP_LAST_CAP
#define CAP_LAST_CAP 40
#endif

static int caps_get(struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(d, 0, sizeof(*d) * _LINUX_CAPABILITY_U32S_3);
	return (int)syscall(SYS_capget, &h, d);
}

uint64_t caps_permitted(void)
{
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (caps_get(d) < 0)
		return 0;
	return (uint64_t)d[0].permitted | (uint64_t)d[1].permitted << 32;
}

uint64_t caps_ambient(void)
{
	uint64_t mask = 0;

	for (int c = 0; c <= CAP_LAST_CAP && c < 64; c++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
			mask |= CAPS_BIT(c);
	return mask;
}

const char *caps_describe(uint64_t mask, char *buf, size_t size)
{
	static const struct { int cap; const char *name; } names[] = {
		{ CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
		{ CAP_NET_RAW, "CAP_NET_RAW" },
		{ CAP_IPC_LOCK, "CAP_IPC_LOCK" },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
		{ CAP_SYS_TIME, "CAP_SYS_TIME" },
		{ CAP_SETUID, "CAP_SETUID" },
		{ CAP_SETGID, "CAP_SETGID" },
		{ CAP_BPF, "CAP_BPF" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (int c = 0; c < 64 && off < size; c++) {
		const char *name = NULL;

		if (!(mask & CAPS_BIT(c)))
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].cap == c)
				name = names[i].name;
		off += (size_t)(name ? snprintf(buf + off, size - off, "%s%s", off ? " " : "", name)
				     : snprintf(buf + off, size - off, "%scap_%d", off ? " " : "", c));
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "none");
	return buf;
}

int caps_limit(uint64_t keep)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	uint64_t held, kept, inh;
	char what[256], left[256];

	if (caps_get(d) < 0) {
		log_errno(LOG_LVL_WARN, "capabilities: capget");
		return -1;
	}
	held = (uint64_t)d[0].permitted | (uint64_t)d[1].permitted << 32;
	inh = (uint64_t)d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	kept = held & keep;
	if (kept == held && inh == 0 && caps_ambient() == 0)
		return 0;
	/* Ambient first: the kernel keeps ambient within permitted and
	 * inheritable, and clearing it needs no privilege. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		log_errno(LOG_LVL_WARN, "capabilities: clearing the ambient set; keeping %s",
			  caps_describe(held, what, sizeof(what)));
		return -1;
	}
	d[0].permitted = d[0].effective = (uint32_t)kept;
	d[1].permitted = d[1].effective = (uint32_t)(kept >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d) < 0) {
		/* A unit's SystemCallFilter= without capset, say. */
		log_errno(LOG_LVL_WARN, "capabilities: capset refused; keeping %s",
			  caps_describe(held, what, sizeof(what)));
		return -1;
	}
	log_info("capabilities: dropped %s; kept %s", caps_describe(held & ~keep, what, sizeof(what)),
		 caps_describe(kept, left, sizeof(left)));
	return 0;
}
