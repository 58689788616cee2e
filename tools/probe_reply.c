/* probe_reply: the cookies `ntsctl probe` holds and its verdict on a reply. */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "tools/probe_reply.h"

void probe_pool_put(struct cookie_pool *p, const uint8_t *c, size_t len)
{
	if (len == 0 || len > COOKIE_MAX_LEN)
		return;
	if (p->n == PROBE_COOKIES) {	/* drop the oldest */
		memmove(p->cookie[0], p->cookie[1], sizeof(p->cookie[0]) * (PROBE_COOKIES - 1));
		memmove(p->len, p->len + 1, sizeof(p->len[0]) * (PROBE_COOKIES - 1));
		p->n--;
	}
	memcpy(p->cookie[p->n], c, len);
	p->len[p->n++] = len;
}

bool probe_pool_take(struct cookie_pool *p, uint8_t *out, size_t *len)
{
	if (p->n == 0)
		return false;
	memcpy(out, p->cookie[0], p->len[0]);
	*len = p->len[0];
	memmove(p->cookie[0], p->cookie[1], sizeof(p->cookie[0]) * (PROBE_COOKIES - 1));
	memmove(p->len, p->len + 1, sizeof(p->len[0]) * (PROBE_COOKIES - 1));
	p->n--;
	return true;
}

uint32_t probe_cookie_key_id(const uint8_t *c, size_t len)
{
	if (len < 4)
		return 0;
	return (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
}

/* Why a parsed reply is not a good one; 0 when it is. */
static int judge_reply(enum nts_reply_status st, const struct nts_reply *reply, size_t n,
		       const struct probe_request *pr, char *err, size_t errlen)
{
	uint32_t code = reply->hdr.refid;

	switch (st) {
	case NTS_REPLY_OK:
		break;
	case NTS_REPLY_NAK:
		snprintf(err, errlen, "NTS NAK: the server could not open our cookie "
			 "(master key %08x)", pr->key);
		return -1;
	case NTS_REPLY_KOD:
		snprintf(err, errlen, "kiss-o'-death %c%c%c%c", (int)(code >> 24 & 0x7f),
			 (int)(code >> 16 & 0x7f), (int)(code >> 8 & 0x7f), (int)(code & 0x7f));
		return -1;
	default:
		snprintf(err, errlen, "bad reply (%zu bytes to %zu): %s", n, pr->len,
			 nts_reply_status_str(st));
		return -1;
	}
	if (n > pr->len) {
		snprintf(err, errlen, "reply of %zu bytes is larger than the request (%zu)", n,
			 pr->len);
		return -1;
	}
	return 0;
}

enum probe_reply_verdict probe_reply_take(const uint8_t *pkt, size_t n,
					  const struct probe_request *pr,
					  const struct aead_ctx *s2c, struct nts_reply *reply,
					  struct cookie_pool *pool, char *err, size_t errlen)
{
	enum nts_reply_status st;

	st = nts_reply_parse(pkt, n, pr->t1, pr->uid, sizeof(pr->uid), s2c, reply);
	if (st == NTS_REPLY_ERR_ORIGIN || st == NTS_REPLY_ERR_UID)
		return PROBE_REPLY_SKIP;
	if (judge_reply(st, reply, n, pr, err, errlen) < 0)
		return PROBE_REPLY_BAD;
	for (size_t c = 0; c < reply->n_cookies; c++)
		probe_pool_put(pool, reply->cookie[c], reply->cookie_len[c]);
	return PROBE_REPLY_GOOD;
}
