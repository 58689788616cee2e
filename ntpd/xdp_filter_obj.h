/* xdp_filter_obj: the compiled XDP program (ntpd/xdp_filter.bpf.c as a
 * BPF ELF object), which make writes into ntpd/xdp_filter_obj.c
 * (ntpd/local.mk) and ntpd/xdp_prog.c opens from memory. */
#ifndef NTSD_XDP_FILTER_OBJ_H
#define NTSD_XDP_FILTER_OBJ_H

#include <stddef.h>

extern const unsigned char xdp_filter_obj[];
extern const size_t xdp_filter_obj_len;

#endif
