/*
 * flasher_read.c: backing up flash through the stub's READ_FLASH (§5.9), one 64 KB region at a
 * time. Every data frame but a region's last must be exactly 0x1000 bytes; each one is
 * acknowledged with the running total; the stub ends with the MD5 of what it read, which must
 * equal the MD5 of what arrived, and a SPI_FLASH_MD5 of the requested range must agree too (the
 * request itself has no checksum). A region that arrives corrupt, short or late is read again
 * after a resync, at a lower baud after repeated failures, and in smaller pieces (down to 1 KB,
 * growing back after clean reads) so that a noisy line still gets through. Only verified data
 * reaches the sink.
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser.h"

#define PACKET 0x1000u
#define MAX_TRIES 10

/* Stops a broken stream. The final acknowledgement lets a stub that already sent everything
 * send its digest; any command frame then ends a stream that is still going (our stub treats a
 * frame that is not 4 bytes long during READ_FLASH as the next command, stub.h), and the
 * resync drains whatever is left. */
static void
abandon(struct flasher *f, uint32_t len)
{
	uint8_t ack[4], pkt[ROM_HDR_LEN + 4];
	uint32_t addr = ROM_MAGIC_REG;
	size_t n = rom_proto_words_cmd_build(pkt, sizeof pkt, ROM_OP_READ_REG, &addr, 1);

	wr_le32(ack, len);
	flasher_io_send(f, ack, 4);
	flasher_io_send(f, pkt, n);
}

static int
read_region(struct flasher *f, uint32_t addr, uint32_t len, uint8_t *dst, char **why)
{
	/* Smaller packets on a noisy line (a region below 4 KB): each frame is likelier whole. */
	uint32_t packet = len < PACKET ? len : PACKET;
	uint32_t w[4] = { addr, len, packet, 64 }, got = 0;
	int baud = ser_get_baud(f->ser);
	/* A frame's worth of line time twice over, plus USB latency and slack. */
	int frame_ms = 1000 + (int)(2ull * (PACKET + 8) * 10 * 1000 / (unsigned)baud);
	uint8_t want[16], ack[4];
	const uint8_t *d;
	size_t n;
	int rc, bad;

	*why = NULL;
	if ((rc = flasher_io_cmd(f, ROM_OP_READ_FLASH, w, 4, FLASHER_T_CMD, NULL, why)) < 0)
		return rc;
	while (got < len) {
		uint32_t expect = len - got < packet ? len - got : packet;

		if ((rc = flasher_io_frame(f, frame_ms, &d, &n, &bad)) < 0) {
			if (rc == RC_ERR_TIMEOUT)
				*why = xfmt("the data stream stopped after 0x%x of 0x%x bytes", got, len);
			abandon(f, len);
			return rc;
		}
		if (bad || n != expect) {
			*why = xfmt("Corrupt data, expected 0x%x bytes but received 0x%zx bytes", expect, n);
			abandon(f, len);
			return RC_ERR_PROTO;
		}
		memcpy(dst + got, d, n);
		got += (uint32_t)n;
		wr_le32(ack, got);
		if ((rc = flasher_io_send(f, ack, 4)) < 0)
			return rc;
		flasher_emit(f, FLASHER_PH_READ, 0, 0, addr, NULL);
	}
	if ((rc = flasher_io_frame(f, FLASHER_T_CMD, &d, &n, &bad)) < 0) {
		if (rc == RC_ERR_TIMEOUT)
			*why = xfmt("no MD5 digest after the data");
		return rc;
	}
	flasher_md5_local(dst, len, want);
	if (bad || n != 16) {
		*why = xfmt("expected the 16-byte digest, got a frame of %zu bytes", n);
		return RC_ERR_PROTO;
	}
	if (memcmp(d, want, 16) != 0) {
		*why = xfmt("the data's MD5 differs from the digest the stub computed (bytes changed "
		    "on the line)");
		return RC_ERR_VERIFY;
	}
	/*
	 * READ_FLASH's offset travels without a checksum: a byte changed on the line makes the stub
	 * read somewhere else and send data and digest that agree with each other. So the range is
	 * checked once more by SPI_FLASH_MD5 of the requested address. It can only be sent after
	 * the digest: the stub takes any command frame during the stream as its end.
	 */
	{
		uint8_t pkt[ROM_HDR_LEN + 16];
		uint32_t mw[4] = { addr, len, 0, 0 };
		size_t plen = rom_proto_words_cmd_build(pkt, sizeof pkt, ROM_OP_SPI_FLASH_MD5, mw, 4);

		if ((rc = flasher_io_send(f, pkt, plen)) < 0)
			return rc;
	}
	{
		struct rom_proto_resp r;

		if ((rc = flasher_io_resp(f, ROM_OP_SPI_FLASH_MD5, flasher_t_per_mb(8000, len), &r)) < 0) {
			if (rc == RC_ERR_TIMEOUT)
				*why = xfmt("no answer to the MD5 check of the range");
			return rc;
		}
		if (rom_proto_resp_failed(&r) || r.data_len != 16 || memcmp(r.data, want, 16) != 0) {
			*why = xfmt("the data is not what the flash holds at 0x%x (the request was changed "
			    "on the line)", addr);
			return RC_ERR_VERIFY;
		}
	}
	return RC_OK;
}

int
flasher_read(struct flasher *f, uint32_t off, uint32_t len, flasher_sink *sink, void *arg,
    char **cause)
{
	uint8_t *buf;
	uint64_t done = 0;
	uint32_t chunk = FLASHER_REGION;
	int rc = RC_OK, fails_here = 0, good_run = 0;

	*cause = NULL;
	if (!f->info.stub) {
		*cause = xfmt("%s: the ESP8266 ROM cannot read flash; reading needs the stub (run "
		    "without --no-stub)", f->o.port);
		return RC_ERR_NOTSUP;
	}
	if (len == 0 || (uint64_t)off + len > flasher_flash_size(f)) {
		*cause = xfmt("cannot read %u bytes at 0x%x: the flash has %u KB (0x%x bytes)%s", len,
		    off, flasher_flash_size(f) / 1024, flasher_flash_size(f),
		    len == 0 ? "; the size is 0" : "");
		return RC_ERR_ARG;
	}
	if (flasher_chip_jedec_dead(f->info.jedec)) {
		*cause = xfmt("%s: the flash chip is not answering (JEDEC id 0x%06x): check its 3.3 V "
		    "supply and wiring", f->o.port, f->info.jedec);
		return RC_ERR_DEVICE;
	}
	buf = xmalloc(FLASHER_REGION);
	flasher_phase_start(f, FLASHER_PH_READ);
	flasher_emit(f, FLASHER_PH_READ, 0, len, off, NULL);
	while (done < len) {
		uint32_t addr = off + (uint32_t)done;
		uint32_t n = len - done < chunk ? (uint32_t)(len - done) : chunk;
		char *why = NULL, *c2 = NULL;

		rc = read_region(f, addr, n, buf, &why);
		if (rc == RC_OK) {
			free(why);
			if (sink(arg, addr, buf, n) != 0) {
				*cause = xfmt("could not store the data read at 0x%x", addr);
				rc = RC_ERR_IO;
				break;
			}
			done += n;
			fails_here = 0;
			/* Back to full regions once the line behaves again. */
			if (chunk < FLASHER_REGION && ++good_run >= 4) {
				chunk *= 2;
				good_run = 0;
			}
			flasher_emit(f, FLASHER_PH_READ, done, len, addr, NULL);
			continue;
		}
		if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE) {
			free(why);
			*cause = flasher_io_cause(f, rc, "reading");
			break;
		}
		fails_here++;
		good_run = 0;
		/* A noisy line: smaller regions are likelier to get through whole. */
		if (chunk > 0x400)
			chunk /= 2;
		log_debug("flasher: region 0x%x: %s (%s)", addr, why ? why : "?", rc_str(rc));
		flasher_notice(f, "region 0x%06x..0x%06x: %s; reading it again", addr, addr + n - 1,
		    why ? why : rc_str(rc));
		if (fails_here >= MAX_TRIES) {
			char *hint = flasher_io_noise_hint(f);

			*cause = xfmt("%s: the region at 0x%x could not be read intact in %d tries (last "
			    "error: %s). %s; then run again with --resume", f->o.port, addr, MAX_TRIES,
			    why ? why : rc_str(rc), hint);
			free(hint);
			free(why);
			rc = RC_ERR_VERIFY;
			break;
		}
		free(why);
		if (flasher_conn_resync(f, &c2) < 0) {
			*cause = c2;
			rc = RC_ERR_TIMEOUT;
			break;
		}
		if (fails_here % 2 == 0 && flasher_conn_step_down(f, "data arrived corrupt", &c2) < 0)
			free(c2);
	}
	free(buf);
	return done == len ? RC_OK : rc;
}
