# libntske: the NTS-KE service (TLS 1.3 on libev threads) and its pure
# request handler.
noinst_LIBRARIES += nts-ke/libntske.a
nts_ke_libntske_a_SOURCES = \
	nts-ke/ke_admit.c nts-ke/ke_admit.h \
	nts-ke/ke_handler.c nts-ke/ke_handler.h \
	nts-ke/ke_listen.c nts-ke/ke_listen.h \
	nts-ke/ke_service.c nts-ke/ke_service.h \
	nts-ke/ke_session.c nts-ke/ke_session.h \
	nts-ke/tls_ctx.c nts-ke/tls_ctx.h \
	nts-ke/tls_store.c nts-ke/tls_store.h
# The development certificate script (tests and the quick start use it).
EXTRA_DIST += certs/make-dev-certs certs/README.md
