/*
 * flasher_stub.c: uploading the flasher stub into the chip's RAM with MEM_BEGIN/MEM_DATA/MEM_END
 * and waiting for its "OHAI" greeting (§4.4).
 *
 * The image: src/stub/ builds `stub_image_esp8266` for the real chip. Until that image is in
 * the tree this file carries a placeholder that only the simulator accepts (it runs our stub
 * logic natively after any executed upload, §15.8); on a real adapter the engine refuses the
 * placeholder and says to use --no-stub.
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser.h"

struct stub_seg {
	uint32_t addr;
	const uint8_t *data;
	size_t len;
};

/* Placeholder: a literal word and a `ret.n`-sized body at esptool's legacy stub addresses
 * (text 0x4010D000, entry 0x4010D004, data at 0x3FFFACA8; stub.md). */
static const uint8_t placeholder_text[8] = { 0x00, 0x00, 0x00, 0x00, 0x0D, 0xF0, 0x00, 0x00 };
static const uint8_t placeholder_data[4] = { 0 };
static const struct stub_seg stub_segs[] = {
	{ 0x4010D000u, placeholder_text, sizeof placeholder_text },
	{ 0x3FFFACA8u, placeholder_data, sizeof placeholder_data },
};
static const uint32_t stub_entry = 0x4010D004u;
static const int stub_is_placeholder = 1;

static int
upload_seg(struct flasher *f, const struct stub_seg *s, char **cause)
{
	uint32_t nblocks = (uint32_t)((s->len + ROM_RAM_BLOCK - 1) / ROM_RAM_BLOCK);
	uint32_t w[4] = { (uint32_t)s->len, nblocks, ROM_RAM_BLOCK, s->addr };
	uint8_t *pkt = xmalloc(ROM_HDR_LEN + ROM_DATA_HDR_LEN + ROM_RAM_BLOCK);
	char *c = NULL;
	int rc;

	if ((rc = flasher_io_cmd(f, ROM_OP_MEM_BEGIN, w, 4, FLASHER_T_CMD, NULL, &c)) < 0)
		goto out;
	for (uint32_t seq = 0; seq < nblocks; seq++) {
		size_t off = (size_t)seq * ROM_RAM_BLOCK, n = s->len - off;
		struct rom_proto_resp r;
		size_t len;

		if (n > ROM_RAM_BLOCK)
			n = ROM_RAM_BLOCK;
		len = rom_proto_data_cmd_build(pkt, ROM_HDR_LEN + ROM_DATA_HDR_LEN + ROM_RAM_BLOCK,
		    ROM_OP_MEM_DATA, seq, s->data + off, n);
		if ((rc = flasher_io_send(f, pkt, len)) < 0 ||
		    (rc = flasher_io_resp(f, ROM_OP_MEM_DATA, FLASHER_T_CMD, &r)) < 0)
			goto out;
		if (rom_proto_resp_failed(&r)) {
			c = rom_proto_failure_str(&r, 0, seq);
			rc = RC_ERR_DEVICE;
			goto out;
		}
		flasher_emit(f, FLASHER_PH_STUB, off + n, s->len, s->addr, NULL);
	}
out:
	free(pkt);
	if (rc < 0) {
		if (rc == RC_ERR_DEVICE && c != NULL)
			*cause = xfmt("%s: %s while uploading the stub to 0x%08x", f->o.port, c, s->addr);
		else
			*cause = flasher_io_cause(f, rc, "uploading the stub");
	}
	free(c);
	return rc;
}

int
flasher_stub_upload(struct flasher *f, char **cause)
{
	uint32_t w[2] = { 0, stub_entry };
	const uint8_t *d;
	size_t n;
	int rc, bad;

	*cause = NULL;
	if (stub_is_placeholder && ser_kind(f->ser) == SER_KIND_USB) {
		*cause = xfmt("%s: this build of espdesk carries no stub image for a real chip (the "
		    "cross compiler was missing); run again with --no-stub", f->o.port);
		return RC_ERR_NOTSUP;
	}
	flasher_phase_start(f, FLASHER_PH_STUB);
	for (size_t i = 0; i < ARRAY_SIZE(stub_segs); i++)
		if ((rc = upload_seg(f, &stub_segs[i], cause)) < 0)
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
	if (rc == RC_ERR_TIMEOUT)
		*cause = xfmt("%s: the stub did not start (no OHAI greeting within 3 s after MEM_END); "
		    "power-cycle the board into download mode and run again, or use --no-stub",
		    f->o.port);
	else
		*cause = flasher_io_cause(f, rc, "starting the stub");
	return rc;
}
