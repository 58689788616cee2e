# libntpresp: the NTP responder (pure core, sockets, workers, clock state,
# rate limiting over common/ratelimit).  It knows common/ only: never
# nts-ke/ nor ntsd/.
noinst_LIBRARIES += ntpd/libntpresp.a
ntpd_libntpresp_a_SOURCES = \
	ntpd/clock.c ntpd/clock.h \
	ntpd/clock_source.c ntpd/clock_source.h \
	ntpd/ntp_judge.c ntpd/ntp_judge.h \
	ntpd/ntp_service.c ntpd/ntp_service.h \
	ntpd/phc.c ntpd/phc.h \
	ntpd/phc_dev.c ntpd/phc_dev.h \
	ntpd/responder.c ntpd/responder.h \
	ntpd/txstamp.c ntpd/txstamp.h \
	ntpd/xdp_frame.c ntpd/xdp_frame.h \
	ntpd/xleave.c ntpd/xleave.h

# The XDP data path (ntp-xdp; configure's --disable-xdp leaves it out).
# The program ntpd/xdp_filter.bpf.c is compiled for the BPF target and
# embedded in the library as a byte array (ntpd/xdp_filter_obj.c, made
# here), so there is no object file to install or to find at run time.
# automake distributes the conditional sources too; the program itself:
EXTRA_DIST += ntpd/xdp_filter.bpf.c
if ENABLE_XDP
ntpd_libntpresp_a_SOURCES += \
	ntpd/xdp_abi.h ntpd/xdp_maps.h ntpd/xdp_filter_obj.h \
	ntpd/xdp_prog.c ntpd/xdp_prog.h
nodist_ntpd_libntpresp_a_SOURCES = ntpd/xdp_filter_obj.c
CLEANFILES += ntpd/xdp_filter.bpf.o ntpd/xdp_filter_obj.c
ntpd/xdp_filter.bpf.o: $(srcdir)/ntpd/xdp_filter.bpf.c $(srcdir)/ntpd/xdp_abi.h $(srcdir)/ntpd/xdp_maps.h
	@$(MKDIR_P) ntpd
	$(AM_V_GEN)$(BPF_CLANG) -target bpf $(BPF_CFLAGS) $(BPF_CPPFLAGS) -I$(top_srcdir) \
		-c $(srcdir)/ntpd/xdp_filter.bpf.c -o $@
ntpd/xdp_filter_obj.c: ntpd/xdp_filter.bpf.o
	$(AM_V_GEN){ \
	  echo '/* Made by make from ntpd/xdp_filter.bpf.c (ntpd/local.mk): the BPF object. */'; \
	  echo '#include "ntpd/xdp_filter_obj.h"'; \
	  echo 'const unsigned char xdp_filter_obj[] = {'; \
	  od -An -v -tx1 ntpd/xdp_filter.bpf.o | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t xdp_filter_obj_len = sizeof(xdp_filter_obj);'; \
	} > $@.tmp && mv $@.tmp $@
endif

# ntp-xdp's side in the NTP service (ntpd/ntp_xdp.h): the AF_XDP sockets
# and their wiring with XDP; without, a stand-in that logs each ntp-xdp
# line as served on sockets.
ntpd_libntpresp_a_SOURCES += ntpd/ntp_xdp.h ntpd/xdp_worker.h
if ENABLE_XDP
ntpd_libntpresp_a_SOURCES += ntpd/ntp_xdp.c ntpd/xdp_worker.c
else
ntpd_libntpresp_a_SOURCES += ntpd/ntp_xdp_off.c
endif
