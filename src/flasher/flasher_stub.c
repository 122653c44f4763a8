/*
 * flasher_stub.c: uploading the flasher stub into the chip's RAM with MEM_BEGIN/MEM_DATA/MEM_END
 * and waiting for its "OHAI" greeting (§4.4).
 *
 * The image is `stub_image_esp8266` (src/stub/stub_image.h): our portable stub cross-compiled
 * for the LX106, text in IRAM and data in DRAM, entry from the build. The simulator runs the
 * same stub logic natively after the upload (§15.8), so the simulator tests exercise this path.
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser.h"
#include "stub/stub_image.h"

struct stub_seg {
	uint32_t addr;
	const uint8_t *data;
	size_t len;
};

/*
 * One segment: MEM_BEGIN, then MEM_DATA blocks. A block that is lost or arrives garbled (the
 * ROM answers a bad checksum with a failure) is sent again: MEM_DATA writes RAM at
 * address + seq * block_size, so a repeat is harmless. On a noisy line the whole segment is
 * started over with smaller blocks, which are likelier to arrive intact.
 */
static int
upload_seg_blocks(struct flasher *f, const struct stub_seg *s, uint32_t bs, char **c)
{
	uint32_t nblocks = (uint32_t)((s->len + bs - 1) / bs);
	uint32_t w[4] = { (uint32_t)s->len, nblocks, bs, s->addr };
	uint8_t *pkt = xmalloc(ROM_HDR_LEN + ROM_DATA_HDR_LEN + bs);
	int rc;

	for (int i = 0;; i++) {
		rc = flasher_io_cmd(f, ROM_OP_MEM_BEGIN, w, 4, 1000, NULL, c);
		if (rc == RC_OK || rc == RC_ERR_CANCEL || rc == RC_ERR_GONE || i == 3)
			break;
		free(*c);
		*c = NULL;
		flasher_io_drain(f, 20, 300);
	}
	for (uint32_t seq = 0; rc == RC_OK && seq < nblocks; seq++) {
		size_t off = (size_t)seq * bs, n = s->len - off;
		size_t len;

		if (n > bs)
			n = bs;
		len = rom_proto_data_cmd_build(pkt, ROM_HDR_LEN + ROM_DATA_HDR_LEN + bs,
		    ROM_OP_MEM_DATA, seq, s->data + off, n);
		for (int attempt = 0;; attempt++) {
			struct rom_proto_resp r;

			if ((rc = flasher_io_send(f, pkt, len)) == RC_OK &&
			    (rc = flasher_io_resp(f, ROM_OP_MEM_DATA, 1000, &r)) == RC_OK &&
			    rom_proto_resp_failed(&r)) {
				free(*c);
				*c = rom_proto_failure_str(&r, 0, seq);
				rc = RC_ERR_DEVICE;
			}
			if (rc == RC_OK || rc == RC_ERR_CANCEL || rc == RC_ERR_GONE || attempt == 5)
				break;
			flasher_io_drain(f, 20, 300);
		}
		if (rc == RC_OK) {
			free(*c);
			*c = NULL;
			flasher_emit(f, FLASHER_PH_STUB, off + n, s->len, s->addr, NULL);
		}
	}
	free(pkt);
	return rc;
}

static int
upload_seg(struct flasher *f, const struct stub_seg *s, char **cause)
{
	char *c = NULL;
	int rc = RC_ERR_TIMEOUT;

	for (uint32_t bs = ROM_RAM_BLOCK; bs >= 0x100; bs /= 4) {
		free(c);
		c = NULL;
		rc = upload_seg_blocks(f, s, bs, &c);
		if (rc == RC_OK || rc == RC_ERR_CANCEL || rc == RC_ERR_GONE)
			break;
	}
	if (rc < 0) {
		if (rc == RC_ERR_DEVICE && c != NULL)
			*cause = xfmt("%s: %s while uploading the stub to 0x%08x", f->o.port, c, s->addr);
		else
			*cause = flasher_io_cause(f, rc, "uploading the stub");
	}
	free(c);
	return rc;
}

/*
 * One upload: both segments, MEM_END, and the greeting. *rom_answers is set when the stub did not
 * greet and the ROM loader still answers SYNC: MEM_END was lost on the line, so the ROM never
 * jumped, and the upload can simply be done again.
 */
static int
upload_once(struct flasher *f, int *rom_answers, char **cause)
{
	const struct stub_image *im = &stub_image_esp8266;
	const struct stub_seg segs[2] = {
		{ im->text_addr, im->text, im->text_len },
		{ im->data_addr, im->data, im->data_len },
	};
	uint32_t w[2] = { 0, im->entry };
	const uint8_t *d;
	size_t n;
	int rc, bad;

	*rom_answers = 0;
	for (size_t i = 0; i < ARRAY_SIZE(segs); i++)
		if (segs[i].len > 0 && (rc = upload_seg(f, &segs[i], cause)) < 0)
			return rc;
	/* MEM_END(0, entry): the ROM may jump before its reply is out, so its answer is optional
	 * (esptool waits 0.2 s and ignores errors). */
	{
		uint8_t pkt[ROM_HDR_LEN + 8];
		size_t len = rom_proto_words_cmd_build(pkt, sizeof pkt, ROM_OP_MEM_END, w, 2);

		if ((rc = flasher_io_send(f, pkt, len)) < 0) {
			*cause = flasher_io_cause(f, rc, "starting the stub");
			return rc;
		}
	}
	for (;;) {
		rc = flasher_io_frame(f, 3000, &d, &n, &bad);
		if (rc < 0)
			break;
		if (!bad && n == 4 && memcmp(d, "OHAI", 4) == 0) {
			f->info.stub = 1;
			log_debug("flasher: stub running");
			return RC_OK;
		}
		/* The MEM_END reply, if the ROM sent one, is skipped here. */
	}
	if (rc == RC_ERR_TIMEOUT) {
		/* The greeting may have been garbled on the way: a running stub answers SYNC with
		 * the value 0 (§4.1); the ROM, with its own value. */
		int running = 0;

		for (int i = 0; i < 3; i++)
			if (flasher_conn_sync(f, &running) == RC_OK) {
				if (!running) {
					*rom_answers = 1;
					break;
				}
				f->info.stub = 1;
				log_debug("flasher: stub running (its greeting was lost)");
				return RC_OK;
			}
	}
	if (rc == RC_ERR_TIMEOUT)
		*cause = xfmt("%s: the stub did not start (no OHAI greeting within 3 s after MEM_END); "
		    "power-cycle the board into download mode and run again, or use --no-stub",
		    f->o.port);
	else
		*cause = flasher_io_cause(f, rc, "starting the stub");
	return rc;
}

int
flasher_stub_upload(struct flasher *f, char **cause)
{
	int rc, rom;

	*cause = NULL;
	flasher_phase_start(f, FLASHER_PH_STUB);
	rc = upload_once(f, &rom, cause);
	if (rc == RC_ERR_TIMEOUT && rom) {
		free(*cause);
		*cause = NULL;
		log_debug("flasher: the ROM still answers after MEM_END; uploading the stub again");
		rc = upload_once(f, &rom, cause);
	}
	return rc;
}
