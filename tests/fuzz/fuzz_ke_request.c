/* fuzz target: ke_request_parse on arbitrary bytes.  Besides not crashing,
 * checks what callers rely on: OK means len and the id lists are in bounds, the
 * server hint is a bounded printable string, and a prefix of an accepted
 * request is never itself accepted or rejected (only incomplete). */
#include "build_config.h"

#include <string.h>

#include "common/ke_record.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ke_request req, prefix;
	enum ke_request_status st;

	st = ke_request_parse(data, size, &req);
	check((unsigned)st < KE_REQ_STATUS_COUNT);
	check(strcmp(ke_request_status_str(st), "unknown") != 0);
	check(ke_request_error_code(st) == KE_ERROR_UNRECOGNIZED_CRITICAL ||
	      ke_request_error_code(st) == KE_ERROR_BAD_REQUEST);
	if (st != KE_REQ_OK)
		return 0;
	check(req.len == size && req.len >= KE_REC_HEADER_LEN);
	/* The id lists lie inside the request. */
	check(req.protocols.n >= 1 && req.protocols.p >= data &&
	      req.protocols.p + 2 * req.protocols.n <= data + size);
	check(req.aeads.n == 0 ||
	      (req.aeads.p >= data && req.aeads.p + 2 * req.aeads.n <= data + size));
	check(!ke_id_list_has(&req.protocols, KE_PROTO_NTPV4) || req.aeads.n > 0);
	if (req.has_server) {
		size_t n = strnlen(req.server, sizeof(req.server));

		check(n > 0 && n <= KE_MAX_SERVER_LEN);
		for (size_t i = 0; i < n; i++)
			check(req.server[i] >= 0x21 && req.server[i] <= 0x7e);
	}
	/* The same bytes cut one short are a valid prefix: incomplete. */
	check(ke_request_parse(data, size - 1, &prefix) == KE_REQ_INCOMPLETE);
	return 0;
}
