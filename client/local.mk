# libntsclient: the client side of NTS (NTS-KE over TLS, NTS requests),
# shared by ntsctl probe, the benchmark load generator and the tests.
noinst_LIBRARIES += client/libntsclient.a
client_libntsclient_a_SOURCES = \
	client/ke_client.c client/ke_client.h
