/*
 * flasher_verify.c: MD5 on both sides. The device's MD5 (SPI_FLASH_MD5, stub only) is asked for
 * in batches that are sent back to back and answered in order, so a whole 64 KB region of
 * sector digests costs one round trip, not sixteen. A digest that does not match is asked for
 * again before it is believed (a corrupted command or reply must not fail a good write).
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <md5.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define BATCH 16

void
flasher_md5_local(const uint8_t *data, size_t len, uint8_t md5[16])
{
	MD5_CTX c;

	MD5Init(&c);
	MD5Update(&c, data, len);
	MD5Final(md5, &c);
}

/* One batch: n commands out, n replies in. */
static int
md5_batch(struct flasher *f, const uint32_t *addr, const uint32_t *len, size_t n,
    uint8_t (*md5)[16], char **dev_cause)
{
	uint64_t total = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		uint8_t pkt[ROM_HDR_LEN + 16];
		uint32_t w[4] = { addr[i], len[i], 0, 0 };
		size_t plen = rom_proto_words_cmd_build(pkt, sizeof pkt, ROM_OP_SPI_FLASH_MD5, w, 4);

		if ((rc = flasher_io_send(f, pkt, plen)) < 0)
			return rc;
		total += len[i];
	}
	for (size_t i = 0; i < n; i++) {
		struct rom_proto_resp r;

		/* esptool: max(3 s, 8 s/MB); the whole batch may be ahead of this reply. */
		if ((rc = flasher_io_resp(f, ROM_OP_SPI_FLASH_MD5, flasher_t_per_mb(8000, total), &r)) < 0)
			return rc;
		if (rom_proto_resp_failed(&r)) {
			*dev_cause = rom_proto_failure_str(&r, 1, 0);
			return RC_ERR_DEVICE;
		}
		if (r.data_len != 16)
			return RC_ERR_PROTO;
		memcpy(md5[i], r.data, 16);
	}
	return RC_OK;
}

int
flasher_md5_many(struct flasher *f, const uint32_t *addr, const uint32_t *len, size_t n,
    uint8_t (*md5)[16], char **cause)
{
	*cause = NULL;
	if (!f->info.stub) {
		*cause = xfmt("%s: the ESP8266 ROM cannot compute an MD5 (that needs the stub); "
		    "nothing was verified", f->o.port);
		return RC_ERR_NOTSUP;
	}
	for (size_t at = 0; at < n; at += BATCH) {
		size_t k = n - at < BATCH ? n - at : BATCH;
		int rc = RC_ERR_TIMEOUT;

		for (int attempt = 0; attempt < 4; attempt++) {
			char *dc = NULL, *c2 = NULL;

			rc = md5_batch(f, addr + at, len + at, k, md5 + at, &dc);
			if (rc == RC_OK)
				break;
			if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE) {
				free(dc);
				*cause = flasher_io_cause(f, rc, "computing MD5s");
				return rc;
			}
			if (rc == RC_ERR_DEVICE && attempt == 3) {
				*cause = xfmt("%s: %s (flash 0x%x)", f->o.port, dc, addr[at]);
				free(dc);
				return rc;
			}
			free(dc);
			if (flasher_conn_resync(f, &c2) < 0) {
				*cause = c2;
				return RC_ERR_TIMEOUT;
			}
		}
		if (rc < 0) {
			*cause = flasher_io_cause(f, rc, "computing MD5s");
			return rc;
		}
	}
	return RC_OK;
}

int
flasher_md5(struct flasher *f, uint32_t off, uint32_t len, uint8_t md5[16], char **cause)
{
	return flasher_md5_many(f, &off, &len, 1, (uint8_t (*)[16])md5, cause);
}

int
flasher_verify(struct flasher *f, uint32_t off, const uint8_t *data, size_t len,
    const struct flasher_hdr *hdr, char **cause)
{
	uint8_t want[16], got[16];
	const char *why;
	uint16_t params;
	int patched, rc;
	size_t plen;
	uint8_t *buf;

	*cause = NULL;
	if (len == 0) {
		*cause = xfmt("nothing to verify: the file is empty");
		return RC_ERR_ARG;
	}
	if (!f->info.stub) {
		*cause = xfmt("%s: verifying needs the stub (the ESP8266 ROM has no MD5); run without "
		    "--no-stub. Nothing was verified", f->o.port);
		return RC_ERR_NOTSUP;
	}
	if ((uint64_t)off + len > flasher_flash_size(f)) {
		*cause = xfmt("the file (%zu bytes at 0x%x) runs past the end of the %u KB flash",
		    len, off, flasher_flash_size(f) / 1024);
		return RC_ERR_ARG;
	}
	buf = flasher_write_prepare(data, len, off, hdr, &plen, &params, &patched, &why);
	flasher_phase_start(f, FLASHER_PH_VERIFY);
	flasher_emit(f, FLASHER_PH_VERIFY, 0, plen, off, NULL);
	flasher_md5_local(buf, plen, want);
	for (int k = 0; k < 2; k++) {
		if ((rc = flasher_md5(f, off, (uint32_t)plen, got, cause)) < 0)
			goto out;
		if (memcmp(want, got, 16) == 0) {
			flasher_emit(f, FLASHER_PH_VERIFY, plen, plen, off, NULL);
			rc = RC_OK;
			goto out;
		}
	}
	/* Find the first differing sector, each mismatch confirmed. */
	for (size_t s = 0; s < plen; s += 4096) {
		uint32_t a = off + (uint32_t)s, n = (uint32_t)(plen - s < 4096 ? plen - s : 4096);

		flasher_md5_local(buf + s, n, want);
		for (int k = 0; k < 2; k++) {
			if ((rc = flasher_md5(f, a, n, got, cause)) < 0)
				goto out;
			if (memcmp(want, got, 16) == 0)
				break;
			if (k == 1) {
				*cause = xfmt("verify FAILED: the flash differs from the file, first in the "
				    "sector at 0x%x (device MD5 differs from the file's); write it again", a);
				rc = RC_ERR_VERIFY;
				goto out;
			}
		}
	}
	*cause = xfmt("verify FAILED: the MD5 of 0x%x..0x%zx differs from the file's, though no "
	    "single sector does (unstable link?); run verify again", off, off + plen - 1);
	rc = RC_ERR_VERIFY;
out:
	free(buf);
	return rc;
}
