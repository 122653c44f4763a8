#include "config.h"

#include "sim/sim_loader.h"

#include <string.h>

#include "core/buf.h"
#include "core/common.h"

enum {
	OP_FLASH_BEGIN = 0x02, OP_FLASH_DATA = 0x03, OP_FLASH_END = 0x04, OP_MEM_BEGIN = 0x05,
	OP_MEM_END = 0x06, OP_MEM_DATA = 0x07, OP_SYNC = 0x08, OP_WRITE_REG = 0x09,
	OP_READ_REG = 0x0A, OP_SPI_SET_PARAMS = 0x0B,
};

/* ROM error codes (protocol.md §3.3). */
enum {
	ERR_INVALID_PARAM = 0x01, ERR_INVALID_MSG = 0x05, ERR_FAILED = 0x06, ERR_CHECKSUM = 0x07,
};

/* The ROM addresses flash with 24-bit SPI addresses: whatever SPI_SET_PARAMS claims, no erase or
 * write reaches beyond 16 MB. */
#define ROM_MAX_CHIP (16u << 20)

static uint32_t
rom_chip_size(const struct sim_loader *l)
{
	return l->chip->flashchip[1] < ROM_MAX_CHIP ? l->chip->flashchip[1] : ROM_MAX_CHIP;
}

/* The largest frame the ROM takes: a 0x1800-byte MEM_DATA block plus headers, with room to spare
 * for tools that send bigger blocks. */
#define LOADER_MAX_FRAME (0x4000 + 64)

uint8_t
sim_loader_checksum(const uint8_t *data, size_t len)
{
	uint8_t c = 0xEF;

	for (size_t i = 0; i < len; i++)
		c ^= data[i];
	return c;
}

static void
reply(struct sim_loader *l, uint32_t busy_us, uint8_t op, uint32_t value, int status, int err)
{
	uint8_t pkt[10];
	uint8_t wire[SLIP_ENCODED_MAX(10)];
	size_t n;

	pkt[0] = 0x01;
	pkt[1] = op;
	wr_le16(pkt + 2, 2);
	wr_le32(pkt + 4, value);
	pkt[8] = (uint8_t)status;
	pkt[9] = (uint8_t)err;
	n = slip_encode(wire, pkt, sizeof pkt);
	l->ops->send(l->arg, busy_us, wire, n);
}

#define OK(op) reply(l, busy, (op), 0, 0, 0)
#define FAIL(op, e) reply(l, busy, (op), 0, 1, (e))

static void
cmd_sync(struct sim_loader *l, const uint8_t *d, size_t len)
{
	/* The ROM's autobaud needs the 07 07 12 20 55... pattern; anything else is not a SYNC. */
	if (len < 36 || rd_le32(d) != 0x20120707u)
		return;
	for (int i = 0; i < 8; i++)
		reply(l, 0, OP_SYNC, 0x20120707u, 0, 0);
}

static void
cmd_flash_begin(struct sim_loader *l, const uint8_t *d, size_t len)
{
	uint32_t erase_size, busy = 0;
	int rc;

	if (len < 16) {
		FAIL(OP_FLASH_BEGIN, ERR_INVALID_MSG);
		return;
	}
	erase_size = rd_le32(d);
	l->fl_blocks = rd_le32(d + 4);
	l->fl_block_size = rd_le32(d + 8);
	l->fl_offset = rd_le32(d + 12);
	l->flash_on = 1;
	if (erase_size != 0) {
		rc = sim_flash_rom_erase_area(l->flash, l->fl_offset, erase_size, rom_chip_size(l),
		    &busy);
		if (rc == RC_ERR_GONE) {
			l->stopped = 1;
			l->ops->event(l->arg, SIM_LOADER_EV_POWER_LOST, 0);
			return;
		}
		if (rc != RC_OK) {
			/* Unaligned or beyond flashchip.chip_size: SPIEraseArea returns an error. Which
			 * code the ROM then sends is not documented (§7.5, §17.4); 0x06 "operation
			 * failed" is our pick. */
			l->flash_on = 0;
			FAIL(OP_FLASH_BEGIN, ERR_FAILED);
			return;
		}
	}
	OK(OP_FLASH_BEGIN);
}

/* Checks the 16-byte *_DATA header; returns the data length or -1 after replying with a failure. */
static long
data_hdr(struct sim_loader *l, uint8_t op, const uint8_t *d, size_t len, uint32_t cks)
{
	uint32_t busy = 0, dlen;

	if (len < 16 || (dlen = rd_le32(d)) != len - 16) {
		FAIL(op, ERR_INVALID_MSG);
		return -1;
	}
	if (sim_loader_checksum(d + 16, dlen) != (uint8_t)cks) {
		FAIL(op, ERR_CHECKSUM);
		return -1;
	}
	return (long)dlen;
}

static void
cmd_flash_data(struct sim_loader *l, const uint8_t *d, size_t len, uint32_t cks)
{
	uint32_t busy = 0, seq, addr;
	long dlen;
	int rc;

	if ((dlen = data_hdr(l, OP_FLASH_DATA, d, len, cks)) < 0)
		return;
	if (!l->flash_on) {
		/* Data without FLASH_BEGIN: not documented; refuse as an invalid message. */
		FAIL(OP_FLASH_DATA, ERR_INVALID_MSG);
		return;
	}
	seq = rd_le32(d + 4);
	addr = l->fl_offset + seq * l->fl_block_size;
	if ((uint64_t)addr + (uint64_t)dlen > rom_chip_size(l)) {
		FAIL(OP_FLASH_DATA, ERR_FAILED);
		return;
	}
	rc = sim_flash_program(l->flash, addr, d + 16, (uint32_t)dlen, &busy);
	if (rc == RC_ERR_GONE) {
		l->stopped = 1;
		l->ops->event(l->arg, SIM_LOADER_EV_POWER_LOST, 0);
		return;
	}
	OK(OP_FLASH_DATA);
}

static void
cmd_flash_end(struct sim_loader *l, const uint8_t *d, size_t len)
{
	uint32_t busy = 0, flag = len >= 4 ? rd_le32(d) : 0;

	l->flash_on = 0;
	OK(OP_FLASH_END);
	l->stopped = 1;
	l->ops->event(l->arg, flag ? SIM_LOADER_EV_RUN_USER : SIM_LOADER_EV_REBOOT, flag);
}

static void
cmd_mem_begin(struct sim_loader *l, const uint8_t *d, size_t len)
{
	uint32_t busy = 0;

	if (len < 16) {
		FAIL(OP_MEM_BEGIN, ERR_INVALID_MSG);
		return;
	}
	l->mem_size = rd_le32(d);
	l->mem_blocks = rd_le32(d + 4);
	l->mem_block_size = rd_le32(d + 8);
	l->mem_addr = rd_le32(d + 12);
	l->mem_on = 1;
	OK(OP_MEM_BEGIN);
}

static void
cmd_mem_data(struct sim_loader *l, const uint8_t *d, size_t len, uint32_t cks)
{
	uint32_t busy = 0, seq, addr;
	long dlen;

	if ((dlen = data_hdr(l, OP_MEM_DATA, d, len, cks)) < 0)
		return;
	if (!l->mem_on) {
		FAIL(OP_MEM_DATA, ERR_INVALID_MSG);
		return;
	}
	seq = rd_le32(d + 4);
	addr = l->mem_addr + seq * l->mem_block_size;
	/* Keep the words, so READ_REG sees what was loaded (partial words are padded with 0). */
	for (long i = 0; i < dlen; i += 4) {
		uint8_t w[4] = { 0, 0, 0, 0 };

		memcpy(w, d + 16 + i, (size_t)(dlen - i < 4 ? dlen - i : 4));
		sim_chip_write(l->chip, addr + (uint32_t)i, rd_le32(w), 0xFFFFFFFFu);
	}
	OK(OP_MEM_DATA);
}

static void
cmd_mem_end(struct sim_loader *l, const uint8_t *d, size_t len)
{
	uint32_t busy = 0, flag, entry;

	if (len < 8) {
		FAIL(OP_MEM_END, ERR_INVALID_MSG);
		return;
	}
	flag = rd_le32(d);
	entry = rd_le32(d + 4);
	l->mem_on = 0;
	OK(OP_MEM_END);
	if (flag == 0) {
		l->stopped = 1;
		l->ops->event(l->arg, SIM_LOADER_EV_RUN, entry);
	}
}

static void
cmd_write_reg(struct sim_loader *l, const uint8_t *d, size_t len)
{
	uint32_t busy = 0;

	if (len == 0 || len % 16 != 0) {
		FAIL(OP_WRITE_REG, ERR_INVALID_MSG);
		return;
	}
	/* One record is what the ROM is known to take; several are handled like the stub does
	 * (protocol.md §4.2: unverified for the ROM). */
	for (size_t i = 0; i < len; i += 16) {
		sim_chip_write(l->chip, rd_le32(d + i), rd_le32(d + i + 4), rd_le32(d + i + 8));
		busy += rd_le32(d + i + 12);
	}
	OK(OP_WRITE_REG);
}

static void
cmd_read_reg(struct sim_loader *l, const uint8_t *d, size_t len)
{
	uint32_t busy = 0;

	if (len < 4) {
		FAIL(OP_READ_REG, ERR_INVALID_MSG);
		return;
	}
	reply(l, 0, OP_READ_REG, sim_chip_read(l->chip, rd_le32(d)), 0, 0);
}

static void
cmd_spi_set_params(struct sim_loader *l, const uint8_t *d, size_t len)
{
	uint32_t busy = 0;

	if (len < 24) {
		FAIL(OP_SPI_SET_PARAMS, ERR_INVALID_MSG);
		return;
	}
	/* SPIParamCfg: the flashchip struct, which bounds later erases and writes. */
	for (int i = 0; i < 6; i++)
		l->chip->flashchip[i] = rd_le32(d + 4 * i);
	OK(OP_SPI_SET_PARAMS);
}

static void
on_frame(void *arg, enum slip_event ev, const uint8_t *f, size_t len)
{
	struct sim_loader *l = arg;
	uint32_t busy = 0, size, cks;
	uint8_t op;
	const uint8_t *d;

	if (ev != SLIP_EV_FRAME || l->stopped)
		return;
	if (len < 8 || f[0] != 0x00) {
		l->bad_frames++;
		return;
	}
	l->frames++;
	op = f[1];
	size = rd_le16(f + 2);
	cks = rd_le32(f + 4);
	d = f + 8;
	if (size != len - 8) {
		FAIL(op, ERR_INVALID_MSG);
		return;
	}
	switch (op) {
	case OP_SYNC: cmd_sync(l, d, size); break;
	case OP_READ_REG: cmd_read_reg(l, d, size); break;
	case OP_WRITE_REG: cmd_write_reg(l, d, size); break;
	case OP_FLASH_BEGIN: cmd_flash_begin(l, d, size); break;
	case OP_FLASH_DATA: cmd_flash_data(l, d, size, cks); break;
	case OP_FLASH_END: cmd_flash_end(l, d, size); break;
	case OP_MEM_BEGIN: cmd_mem_begin(l, d, size); break;
	case OP_MEM_DATA: cmd_mem_data(l, d, size, cks); break;
	case OP_MEM_END: cmd_mem_end(l, d, size); break;
	case OP_SPI_SET_PARAMS: cmd_spi_set_params(l, d, size); break;
	default:
		/* Undocumented for the 8266 ROM; protocol.md §4.6 advises behaviour (a). */
		FAIL(op, ERR_INVALID_MSG);
		break;
	}
}

void
sim_loader_init(struct sim_loader *l, struct sim_chip *chip, struct sim_flash *flash,
    const struct sim_loader_ops *ops, void *arg)
{
	memset(l, 0, sizeof *l);
	slip_decoder_init(&l->dec, LOADER_MAX_FRAME);
	l->chip = chip;
	l->flash = flash;
	l->ops = ops;
	l->arg = arg;
}

void
sim_loader_free(struct sim_loader *l)
{
	slip_decoder_free(&l->dec);
}

void
sim_loader_reset(struct sim_loader *l)
{
	slip_decoder_reset(&l->dec);
	l->flash_on = l->mem_on = 0;
	l->stopped = 0;
}

void
sim_loader_feed(struct sim_loader *l, const uint8_t *data, size_t len)
{
	if (!l->stopped)
		slip_decoder_feed(&l->dec, data, len, on_frame, l);
}
