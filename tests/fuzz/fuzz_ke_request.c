/* fuzz target: ke_request_parse on arbitrary bytes.  Besides not crashing,
 * checks what callers rely on: OK means len and counts are in bounds, the
 * server hint is a bounded printable string, and a prefix of an accepted
 * request is never itself accepted or rejected (only incomplete). */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/ke_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ke_request req, prefix;
	enum ke_request_status st;

	st = ke_request_parse(data, size, &req);
	if ((unsigned)st >= KE_REQ_STATUS_COUNT)
		abort();
	if (strcmp(ke_request_status_str(st), "unknown") == 0)
		abort();
	if (ke_request_error_code(st) != KE_ERROR_UNRECOGNIZED_CRITICAL &&
	    ke_request_error_code(st) != KE_ERROR_BAD_REQUEST)
		abort();
	if (st != KE_REQ_OK)
		return 0;
	if (req.len > size || req.len != size || req.len < KE_REC_HEADER_LEN)
		abort();
	if (req.n_protocols < 1 || req.n_protocols > KE_MAX_PROTOCOLS)
		abort();
	if (req.n_aeads > KE_MAX_AEADS)
		abort();
	for (size_t i = 0; i < req.n_protocols; i++)
		if (req.protocols[i] == KE_PROTO_NTPV4 && req.n_aeads == 0)
			abort();
	if (req.has_server) {
		size_t n = strnlen(req.server, sizeof(req.server));

		if (n == 0 || n > KE_MAX_SERVER_LEN)
			abort();
		for (size_t i = 0; i < n; i++)
			if (req.server[i] < 0x21 || req.server[i] > 0x7e)
				abort();
	}
	/* The same bytes cut one short are a valid prefix: incomplete. */
	if (ke_request_parse(data, size - 1, &prefix) != KE_REQ_INCOMPLETE)
		abort();
	return 0;
}
