/* aead_testalg: an AEAD descriptor for the unit tests only: AES-SIV-CMAC-256
 * made to take and make nonces of exactly 12 bytes, as AEAD 30
 * (AES-128-GCM-SIV) does, so that the 12-byte nonce paths run on a build
 * without GCM-SIV.  Its id is a private-use one (RFC 5116 section 6) that
 * no peer negotiates.  How it reaches aead_by_id in the unit runner and
 * nowhere else: common/aead_private.c. */
#ifndef NTSD_TEST_AEAD_TESTALG_H
#define NTSD_TEST_AEAD_TESTALG_H

#define AEAD_TEST_SIV_NONCE12 0xff0c
#define AEAD_TEST_NONCE_LEN 12

#endif
