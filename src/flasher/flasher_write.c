/*
 * flasher_write.c: writing flash.
 *
 * Through the stub: the device's MD5 of every 4 KB sector is compared with the file first and
 * matching sectors are skipped; the rest is sent as runs of at most 256 KB, each one zlib stream
 * (FLASH_DEFL_*, level 9, 16 KB blocks; the stub answers a block before it programs it, so the
 * next block is already arriving while the flash works), and each run is checked by the
 * device's MD5 afterwards. A run that fails is sent again after a resync; repeated failures
 * step the baud down.
 *
 * Through the ROM: one FLASH_BEGIN with esptool's erase-size compensation (§7.2), then 0x400-byte
 * FLASH_DATA blocks padded with 0xFF, each retried up to three times. Nothing can be verified.
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

#define SECTOR 4096u
#define RUN_MAX 0x40000u
#define DEFL_BLOCK ROM_STUB_FLASH_BLOCK

uint8_t *
flasher_write_prepare(const uint8_t *data, size_t len, uint32_t off,
    const struct flasher_hdr *hdr, size_t *outlen, uint16_t *params, int *patched,
    const char **why)
{
	size_t plen = (len + 3) & ~(size_t)3;
	uint8_t *buf = xmalloc(plen ? plen : 1);

	memcpy(buf, data, len);
	memset(buf + len, 0xFF, plen - len);
	*patched = flasher_header_patch(buf, plen, off, hdr, params, why);
	*outlen = plen;
	return buf;
}

static int
dev_fail(struct flasher *f, int rc, char *dc, const char *what, char **cause)
{
	if (rc == RC_ERR_DEVICE && dc != NULL)
		*cause = xfmt("%s: %s while %s", f->o.port, dc, what);
	else
		*cause = flasher_io_cause(f, rc, what);
	free(dc);
	return rc;
}

/* One run through the stub: FLASH_DEFL_BEGIN, then the compressed blocks. */
static int
defl_run(struct flasher *f, uint32_t addr, const uint8_t *data, uint32_t n, uint64_t *done,
    uint64_t total, char **dc)
{
	uint8_t *z = NULL, *pkt = xmalloc(ROM_HDR_LEN + ROM_DATA_HDR_LEN + DEFL_BLOCK);
	size_t zlen = 0;
	uint32_t nblocks, w[4];
	int tmo = flasher_t_per_mb(40000, n), rc;
	struct rom_proto_resp r;
	uint32_t acked = 0;

	*dc = NULL;
	if ((rc = flasher_deflate(data, n, &z, &zlen)) < 0)
		goto out;
	nblocks = (uint32_t)((zlen + DEFL_BLOCK - 1) / DEFL_BLOCK);
	w[0] = n; w[1] = nblocks; w[2] = DEFL_BLOCK; w[3] = addr;
	if ((rc = flasher_io_cmd(f, ROM_OP_FLASH_DEFL_BEGIN, w, 4, flasher_t_per_mb(30000, n), NULL,
	    dc)) < 0)
		goto out;
	for (uint32_t seq = 0; seq < nblocks; seq++) {
		size_t zo = (size_t)seq * DEFL_BLOCK, k = zlen - zo < DEFL_BLOCK ? zlen - zo : DEFL_BLOCK;
		size_t plen = rom_proto_data_cmd_build(pkt, ROM_HDR_LEN + ROM_DATA_HDR_LEN + DEFL_BLOCK,
		    ROM_OP_FLASH_DEFL_DATA, seq, z + zo, k);

		/* One block in flight, as esptool: the stub answers a block as soon as it has it and
		 * programs it while the next one arrives (into its 24 KB receive ring on the chip,
		 * which holds one block, not two), so the flash and the line still overlap. */
		if ((rc = flasher_io_send(f, pkt, plen)) < 0 ||
		    (rc = flasher_io_resp(f, ROM_OP_FLASH_DEFL_DATA, tmo, &r)) < 0)
			goto out;
		if (rom_proto_resp_failed(&r)) {
			*dc = rom_proto_failure_str(&r, 1, seq);
			rc = RC_ERR_DEVICE;
			goto out;
		}
		acked++;
		/* Progress in uncompressed bytes, proportional to the compressed stream sent. */
		flasher_emit(f, FLASHER_PH_WRITE, *done + (uint64_t)n * acked / nblocks, total, addr, NULL);
	}
	*done += n;
	rc = RC_OK;
out:
	free(z);
	free(pkt);
	return rc;
}

static int
stub_write(struct flasher *f, uint32_t off, const uint8_t *buf, size_t len,
    struct flasher_write_result *res, char **cause)
{
	size_t nsec = (len + SECTOR - 1) / SECTOR;
	uint8_t *need = xmalloc(nsec);
	uint64_t done = 0, total = 0;
	uint32_t run_max = RUN_MAX;
	int rc = RC_OK, fails = 0, good = 0;

	memset(need, 1, nsec);
	/* Which sectors already hold the right bytes? */
	{
		uint32_t *a = xmalloc(nsec * sizeof *a), *l = xmalloc(nsec * sizeof *l);
		uint8_t (*dev)[16] = xmalloc(nsec * 16), want[16];

		for (size_t i = 0; i < nsec; i++) {
			a[i] = off + (uint32_t)(i * SECTOR);
			l[i] = (uint32_t)(len - i * SECTOR < SECTOR ? len - i * SECTOR : SECTOR);
		}
		flasher_emit(f, FLASHER_PH_WRITE, 0, len, off, "comparing the flash with the file, "
		    "sector by sector");
		rc = flasher_md5_many(f, a, l, nsec, dev, cause);
		for (size_t i = 0; rc == RC_OK && i < nsec; i++) {
			flasher_md5_local(buf + i * SECTOR, l[i], want);
			need[i] = memcmp(want, dev[i], 16) != 0;
			if (!need[i])
				res->skipped += l[i];
			else
				total += l[i];
		}
		free(a);
		free(l);
		free(dev);
		if (rc < 0)
			goto out;
	}
	flasher_phase_start(f, FLASHER_PH_WRITE);
	flasher_emit(f, FLASHER_PH_WRITE, 0, total, off, NULL);
	for (size_t i = 0; i < nsec;) {
		size_t j = i;
		uint32_t addr, n;
		uint8_t want[16], got[16];

		if ((i = flasher_plan_next_run(need, nsec, i, run_max / SECTOR, &j)) >= nsec)
			break;
		addr = off + (uint32_t)(i * SECTOR);
		n = (uint32_t)((j * SECTOR < len ? j * SECTOR : len) - i * SECTOR);
		flasher_md5_local(buf + i * SECTOR, n, want);
		for (int attempt = 0;; attempt++) {
			char *dc = NULL, *c2 = NULL;
			uint64_t d0 = done;

			rc = defl_run(f, addr, buf + i * SECTOR, n, &done, total, &dc);
			if (rc == RC_OK) {
				/* The MD5 waits until the stub has written the last block. */
				rc = flasher_md5(f, addr, n, got, &c2);
				if (rc == RC_OK && memcmp(want, got, 16) != 0) {
					rc = flasher_md5(f, addr, n, got, &c2);
					if (rc == RC_OK && memcmp(want, got, 16) != 0)
						rc = RC_ERR_VERIFY;
				}
				if (rc == RC_OK) {
					free(dc);
					break;
				}
			}
			done = d0;
			if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE || attempt >= 7) {
				if (rc == RC_ERR_VERIFY)
					*cause = xfmt("%s: the flash at 0x%x..0x%x still differs from the file "
					    "after %d writes: the flash may be worn or write-protected", f->o.port,
					    addr, addr + n - 1, attempt + 1);
				else if (c2 != NULL) {
					*cause = c2;
					c2 = NULL;
				} else
					dev_fail(f, rc, dc, "writing", cause), dc = NULL;
				free(dc);
				free(c2);
				if (rc != RC_ERR_CANCEL && rc != RC_ERR_GONE && *cause != NULL) {
					char *hint = flasher_io_noise_hint(f), *all;

					all = xfmt("%s. %s; then run the same command again (sectors already "
					    "written are skipped)", *cause, hint);
					free(*cause);
					free(hint);
					*cause = all;
				}
				res->written = (uint32_t)done;
				goto out;
			}
			log_debug("flasher: run at 0x%x failed (%s), writing it again", addr, rc_str(rc));
			free(dc);
			free(c2);
			c2 = NULL;
			flasher_notice(f, "the write at 0x%x did not go through cleanly; writing it again",
			    addr);
			if (flasher_conn_resync(f, &c2) < 0) {
				*cause = c2;
				rc = RC_ERR_TIMEOUT;
				goto out;
			}
			/* Shorter runs on a noisy line: the retry restarts with fewer sectors. */
			if (run_max > SECTOR * 4) {
				run_max /= 2;
				while (j > i + 1 && (j - i) * SECTOR > run_max)
					j--;
				n = (uint32_t)((j * SECTOR < len ? j * SECTOR : len) - i * SECTOR);
				flasher_md5_local(buf + i * SECTOR, n, want);
			}
			if (++fails % 2 == 0 && flasher_conn_step_down(f, "writes failed", &c2) < 0) {
				free(c2);
				c2 = NULL;
			}
		}
		i = j;
		if (run_max < RUN_MAX && ++good >= 4) {
			run_max *= 2;
			good = 0;
		}
	}
	res->written = (uint32_t)done;
	res->verified = 1;
	rc = RC_OK;
out:
	free(need);
	return rc;
}

static int
rom_write(struct flasher *f, uint32_t off, const uint8_t *buf, size_t len,
    struct flasher_write_result *res, char **cause)
{
	uint32_t nblocks = (uint32_t)((len + ROM_FLASH_BLOCK - 1) / ROM_FLASH_BLOCK);
	uint32_t w[4] = { flasher_plan_rom_erase_size(off, (uint32_t)len), nblocks, ROM_FLASH_BLOCK,
		off };
	uint8_t block[ROM_FLASH_BLOCK], pkt[ROM_HDR_LEN + ROM_DATA_HDR_LEN + ROM_FLASH_BLOCK];
	char *dc = NULL;
	int rc;

	{
		uint32_t real = flasher_plan_rom_erased(off, w[0]);
		uint32_t need = (uint32_t)((len + 4095) & ~(size_t)4095);

		if (real > need)
			flasher_notice(f, "the ROM's erase bug also wipes 0x%x..0x%x after this data "
			    "(protocol.md §7.3); without --no-stub only the data's sectors are erased",
			    off + need, off + real - 1);
	}
	flasher_phase_start(f, FLASHER_PH_ERASE);
	flasher_emit(f, FLASHER_PH_ERASE, 0, len, off, NULL);
	/* The ROM erases before it answers: esptool allows 30 s per MB. */
	if ((rc = flasher_io_cmd(f, ROM_OP_FLASH_BEGIN, w, 4, flasher_t_per_mb(30000, len), NULL,
	    &dc)) < 0)
		return dev_fail(f, rc, dc, "erasing before the write (FLASH_BEGIN)", cause);
	flasher_phase_start(f, FLASHER_PH_WRITE);
	for (uint32_t seq = 0; seq < nblocks; seq++) {
		size_t at = (size_t)seq * ROM_FLASH_BLOCK, n = len - at < ROM_FLASH_BLOCK ? len - at :
		    ROM_FLASH_BLOCK;
		size_t plen;

		memset(block, 0xFF, sizeof block);
		memcpy(block, buf + at, n);
		plen = rom_proto_data_cmd_build(pkt, sizeof pkt, ROM_OP_FLASH_DATA, seq, block,
		    sizeof block);
		for (int attempt = 0;; attempt++) {
			struct rom_proto_resp r;

			rc = flasher_io_send(f, pkt, plen);
			if (rc == RC_OK)
				rc = flasher_io_resp(f, ROM_OP_FLASH_DATA, FLASHER_T_CMD, &r);
			if (rc == RC_OK && !rom_proto_resp_failed(&r))
				break;
			if (rc == RC_OK) {
				free(dc);
				dc = rom_proto_failure_str(&r, 0, seq);
				rc = RC_ERR_DEVICE;
			}
			if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE || attempt >= 2) {
				res->written = (uint32_t)at;
				return dev_fail(f, rc, dc, "writing through the ROM", cause);
			}
			if ((rc = flasher_io_drain(f, 30, 500)) < 0)
				return dev_fail(f, rc, dc, "writing through the ROM", cause);
		}
		free(dc);
		dc = NULL;
		flasher_emit(f, FLASHER_PH_WRITE, at + n, len, off, NULL);
	}
	res->written = (uint32_t)len;
	res->verified = 0;
	return RC_OK;
}

int
flasher_write(struct flasher *f, uint32_t off, const uint8_t *data, size_t len,
    const struct flasher_hdr *hdr, struct flasher_write_result *res, char **cause)
{
	const char *why;
	size_t plen;
	uint8_t *buf;
	int rc;

	*cause = NULL;
	memset(res, 0, sizeof *res);
	if ((rc = flasher_plan_check_write(off, len, flasher_flash_size(f), "the file", cause)) < 0)
		return rc;
	if (flasher_chip_jedec_dead(f->info.jedec)) {
		*cause = xfmt("%s: the flash chip is not answering (JEDEC id 0x%06x): check its 3.3 V "
		    "supply and wiring; nothing was written", f->o.port, f->info.jedec);
		return RC_ERR_DEVICE;
	}
	buf = flasher_write_prepare(data, len, off, hdr, &plen, &res->params, &res->patched, &why);
	if (why != NULL)
		flasher_notice(f, "%s", why);
	else if (res->patched)
		flasher_notice(f, "flash params set to 0x%04x", res->params);
	if (!f->info.stub)
		rc = rom_write(f, off, buf, plen, res, cause);
	else
		rc = stub_write(f, off, buf, plen, res, cause);
	free(buf);
	return rc;
}
