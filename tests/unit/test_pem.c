/* unit tests for pem: the structure checks that put a line number on a
 * cut-short or garbled certificate or private key. */
#include "build_config.h"

#include <string.h>

#include "common/pem.h"
#include "unit.h"

#define BODY "MIIBszCCAVmgAwIBAgIUe0bK+/x=\n"
#define CERT "-----BEGIN CERTIFICATE-----\n" BODY BODY "-----END CERTIFICATE-----\n"

/* pem_check on text: its return, *line and the reason in why. */
static int check(const char *text, unsigned *line, char why[PEM_WHY_MAX])
{
	*line = 12345;
	why[0] = '\0';
	return pem_check(text, strlen(text), line, why);
}

static void test_pem_valid(void)
{
	static const char *const ok[] = {
		CERT,
		CERT CERT,				/* a chain */
		"Bag Attributes: text outside\n" CERT "trailing words\n",
		"-----BEGIN CERTIFICATE-----\r\n" BODY "-----END CERTIFICATE-----",
		"-----BEGIN EC PRIVATE KEY-----  \n" BODY "-----END EC PRIVATE KEY-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
		"DEK-Info: AES-128-CBC,00\n\n" BODY "-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN X-----\n-----END X-----\n",	/* empty body: OpenSSL's to judge */
	};
	char why[PEM_WHY_MAX];
	unsigned line;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL(check(ok[i], &line, why), 0);
		CU_ASSERT_STRING_EQUAL(why, "");
		/* the first block's BEGIN line: line 2 after the text before it */
		CU_ASSERT_EQUAL(line, i == 2 ? 2u : 1u);
	}
	/* a chain: the first certificate's */
	CU_ASSERT_EQUAL(check("\n\n" CERT CERT, &line, why), 0);
	CU_ASSERT_EQUAL(line, 3u);
}

/* Bug truncated_pem_no_line: a certificate cut in half was reported as
 * OpenSSL's "PEM lib", without a line. */
static void test_pem_malformed(void)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *why;
	} bad[] = {
		{ "-----BEGIN CERTIFICATE-----\n" BODY "MIIBszCC", 1, "CERTIFICATE has no END line" },
		{ "# note\n-----BEGIN CERTIFICATE-----\n", 2, "CERTIFICATE has no END line" },
		{ CERT "-----BEGIN CERTIFICATE-----\n" BODY, 5, "has no END line: the file is cut" },
		{ "-----BEGIN CERTIFICATE-----\n" BODY "-----BEGIN CERTIFICATE-----\n", 3,
		  "BEGIN line inside the CERTIFICATE begun at line 1" },
		{ "-----BEGIN CERTIFICATE-----\n" BODY "-----END PRIVATE KEY-----\n", 3,
		  "END line does not match the BEGIN CERTIFICATE of line 1" },
		{ "-----BEGIN CERTIFICATE-----\n" BODY "MII*\n-----END CERTIFICATE-----\n", 3,
		  "not base64, inside the CERTIFICATE begun at line 1" },
		{ "-----BEGIN CERTIFICATE-----\n" BODY "a: b\n-----END CERTIFICATE-----\n", 3,
		  "not base64" },			/* a header after the body */
		{ "-----BEGIN CERTIFICATE-----\n" BODY "AB\001C\n-----END CERTIFICATE-----\n", 3,
		  "not base64" },
		{ "x\n-----END CERTIFICATE-----\n", 2, "END line without a BEGIN line" },
		{ "-----BEGIN certificate-----\n", 1, "malformed BEGIN line" },
		{ "-----BEGIN CERTIFICATE\n", 1, "malformed BEGIN line" },
		{ "-----BEGIN -----\n", 1, "has no END line" },	/* empty label, never ended */
		{ "", 0, "no PEM block" },
		{ "MIIBszCCAVmgAwIBAgIU\n", 0, "no PEM block" },
	};
	char why[PEM_WHY_MAX];
	unsigned line;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(check(bad[i].text, &line, why), -1);
		CU_ASSERT_EQUAL(line, bad[i].line);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, bad[i].why));
		if (line != bad[i].line || !strstr(why, bad[i].why))
			fprintf(stderr, "pem case %zu: line %u: %s\n", i, line, why);
	}
}

/* A NUL byte or a label too long is not read past; the length bounds the
 * scan, not a terminator. */
static void test_pem_bounds(void)
{
	static const char nul[] = "-----BEGIN CERTIFICATE-----\nMI\0I\n-----END CERTIFICATE-----\n";
	char label[200], why[PEM_WHY_MAX];
	unsigned line;

	CU_ASSERT_EQUAL(pem_check(nul, sizeof(nul) - 1, &line, why), -1);
	CU_ASSERT_EQUAL(line, 2);
	/* Cut inside the END line: not an END line. */
	CU_ASSERT_EQUAL(pem_check(CERT, strlen(CERT) - 3, &line, why), -1);
	CU_ASSERT_EQUAL(line, 4);
	memset(label, 'A', sizeof(label));
	memcpy(label, "-----BEGIN ", 11);
	memcpy(label + sizeof(label) - 6, "-----\n", 6);
	CU_ASSERT_EQUAL(pem_check(label, sizeof(label), &line, why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "malformed BEGIN line"));
	CU_ASSERT_EQUAL(pem_check(CERT, 0, &line, why), -1);
	CU_ASSERT_EQUAL(line, 0);
}

UNIT_SUITE(pem, NULL, NULL,
	   UNIT_TEST(test_pem_valid),
	   UNIT_TEST(test_pem_malformed),
	   UNIT_TEST(test_pem_bounds))
