/*
 * The flasher stub over an in-memory fake HAL: every command, its reply byte for byte per
 * protocol.md (§3.3, §4, §5.9, §15.8), error codes, lazy erase granularity, a 1 MB FLASH_DEFL
 * written from a zlib level-9 stream, READ_FLASH's acknowledgement window and final MD5.
 * Expected digests come from libmd over the same bytes; expected replies from the reference.
 */
#include "config.h"

#include <md5.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/common.h"
#include "rom/rom_proto.h"
#include "rom/slip.h"
#include "stub/stub.h"
#include "tap.h"

#define FLASH_SIZE (4u << 20)
#define RAM_BASE 0x40100000u
#define RAM_SIZE 0x10000u

struct erase_op {
	char kind;      /* 's' sector, 'b' block, 'c' chip */
	uint32_t index;
};

struct fake {
	uint8_t *flash;
	uint8_t ram[RAM_SIZE];
	struct buf tx;
	struct erase_op erases[2048];
	int nerases;
	uint32_t regs_addr[16], regs_val[16];
	int nregs;
	uint32_t delays;
	uint32_t baud_new, baud_old;
	size_t tx_at_baud;      /* bytes queued when uart_set_baud was called */
	int baud_calls, user_calls, rom_calls, jumps, attach_calls;
	uint32_t jump_to, params[6];
	uint32_t fail_write_from; /* writes at or above this address fail (0: never) */
	int fail_unlock;
	int writes_unaligned;
};

static struct fake fk;
static struct stub st;

static int
f_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	struct fake *f = ctx;

	if ((uint64_t)addr + len > FLASH_SIZE)
		return 1;
	memcpy(dst, f->flash + addr, len);
	return 0;
}

static int
f_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	struct fake *f = ctx;
	const uint8_t *p = src;

	if (addr % 4 != 0 || len % 4 != 0)
		f->writes_unaligned++;
	if ((uint64_t)addr + len > FLASH_SIZE)
		return 1;
	if (f->fail_write_from != 0 && addr + len > f->fail_write_from)
		return 1;
	for (uint32_t i = 0; i < len; i++)
		f->flash[addr + i] &= p[i]; /* program can only clear bits */
	return 0;
}

static int
f_erase_sector(void *ctx, uint32_t sector)
{
	struct fake *f = ctx;

	if ((uint64_t)sector * 4096 >= FLASH_SIZE)
		return 1;
	memset(f->flash + sector * 4096, 0xFF, 4096);
	if (f->nerases < 2048)
		f->erases[f->nerases++] = (struct erase_op){ 's', sector };
	return 0;
}

static int
f_erase_block(void *ctx, uint32_t block)
{
	struct fake *f = ctx;

	if ((uint64_t)block * 65536 >= FLASH_SIZE)
		return 1;
	memset(f->flash + block * 65536, 0xFF, 65536);
	if (f->nerases < 2048)
		f->erases[f->nerases++] = (struct erase_op){ 'b', block };
	return 0;
}

static int
f_erase_chip(void *ctx)
{
	struct fake *f = ctx;

	memset(f->flash, 0xFF, FLASH_SIZE);
	f->erases[f->nerases++] = (struct erase_op){ 'c', 0 };
	return 0;
}

static int
f_unlock(void *ctx)
{
	return ((struct fake *)ctx)->fail_unlock;
}

static int
f_params(void *ctx, const uint32_t p[6])
{
	memcpy(((struct fake *)ctx)->params, p, 24);
	return 0;
}

static int
f_attach(void *ctx)
{
	((struct fake *)ctx)->attach_calls++;
	return 0;
}

static void
f_tx(void *ctx, const uint8_t *data, size_t len)
{
	buf_add(&((struct fake *)ctx)->tx, data, len);
}

static void
f_baud(void *ctx, uint32_t new_baud, uint32_t old_baud)
{
	struct fake *f = ctx;

	f->baud_calls++;
	f->baud_new = new_baud;
	f->baud_old = old_baud;
	f->tx_at_baud = buf_len(&f->tx);
}

static uint32_t
f_reg_read(void *ctx, uint32_t addr)
{
	struct fake *f = ctx;

	for (int i = 0; i < f->nregs; i++)
		if (f->regs_addr[i] == addr)
			return f->regs_val[i];
	return 0;
}

static void
f_reg_write(void *ctx, uint32_t addr, uint32_t value)
{
	struct fake *f = ctx;

	for (int i = 0; i < f->nregs; i++)
		if (f->regs_addr[i] == addr) {
			f->regs_val[i] = value;
			return;
		}
	if (f->nregs < 16) {
		f->regs_addr[f->nregs] = addr;
		f->regs_val[f->nregs++] = value;
	}
}

static void
f_delay(void *ctx, uint32_t us)
{
	((struct fake *)ctx)->delays += us;
}

static int
f_mem_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	struct fake *f = ctx;

	if (addr < RAM_BASE || (uint64_t)addr + len > (uint64_t)RAM_BASE + RAM_SIZE)
		return 1;
	memcpy(f->ram + (addr - RAM_BASE), src, len);
	return 0;
}

static void
f_md5_init(void *ctx, struct stub_md5 *m)
{
	MD5Init((MD5_CTX *)(void *)m->u.bytes);
}

static void
f_md5_update(void *ctx, struct stub_md5 *m, const void *data, uint32_t len)
{
	MD5Update((MD5_CTX *)(void *)m->u.bytes, data, len);
}

static void
f_md5_final(void *ctx, struct stub_md5 *m, uint8_t digest[16])
{
	MD5Final(digest, (MD5_CTX *)(void *)m->u.bytes);
}

static void
f_user(void *ctx)
{
	((struct fake *)ctx)->user_calls++;
}

static void
f_rom(void *ctx)
{
	((struct fake *)ctx)->rom_calls++;
}

static void
f_jump(void *ctx, uint32_t entry)
{
	((struct fake *)ctx)->jumps++;
	((struct fake *)ctx)->jump_to = entry;
}

static const struct stub_hal hal = {
	.ctx = &fk,
	.flash_read = f_read, .flash_write = f_write, .flash_erase_sector = f_erase_sector,
	.flash_erase_block = f_erase_block, .flash_erase_chip = f_erase_chip,
	.flash_unlock = f_unlock, .flash_set_params = f_params, .flash_attach = f_attach,
	.uart_tx = f_tx, .uart_set_baud = f_baud,
	.reg_read = f_reg_read, .reg_write = f_reg_write, .delay_us = f_delay,
	.mem_write = f_mem_write,
	.md5_init = f_md5_init, .md5_update = f_md5_update, .md5_final = f_md5_final,
	.run_user_code = f_user, .reset_to_rom = f_rom, .mem_jump = f_jump,
};

/* Fresh fake (flash full of 0x00 so that a missing erase shows) and a started stub. */
static void
setup(void)
{
	uint8_t *flash = fk.flash;

	buf_free(&fk.tx);
	memset(&fk, 0, sizeof fk);
	fk.flash = flash != NULL ? flash : malloc(FLASH_SIZE);
	memset(fk.flash, 0x00, FLASH_SIZE);
	buf_init(&fk.tx);
	stub_init(&st, &hal);
}

/* ---- host side helpers ---- */

struct frames {
	uint8_t *data[400];
	size_t len[400];
	int n, noise, bad;
};

static void
frames_cb(void *arg, enum slip_event ev, const uint8_t *data, size_t len)
{
	struct frames *fr = arg;

	if (ev == SLIP_EV_NOISE) {
		fr->noise += (int)len;
		return;
	}
	if (ev != SLIP_EV_FRAME) {
		fr->bad++;
		return;
	}
	if (fr->n < 400) {
		fr->data[fr->n] = malloc(len ? len : 1);
		memcpy(fr->data[fr->n], data, len);
		fr->len[fr->n] = len;
	}
	fr->n++;
}

/* Decodes everything the stub sent since the last call into fr (caller frames_free()s). */
static void
take(struct frames *fr)
{
	struct slip_decoder d;

	memset(fr, 0, sizeof *fr);
	slip_decoder_init(&d, 0x10000);
	slip_decoder_feed(&d, buf_head(&fk.tx), buf_len(&fk.tx), frames_cb, fr);
	slip_decoder_free(&d);
	buf_reset(&fk.tx);
}

static void
frames_free(struct frames *fr)
{
	for (int i = 0; i < fr->n && i < 400; i++)
		free(fr->data[i]);
}

/* Discards what the stub sent. */
static void
drain(void)
{
	struct frames fr;

	take(&fr);
	frames_free(&fr);
}

/* Sends one packet, SLIP-encoded, in chunks of `chunk` bytes (0 = all at once). */
static void
send_chunked(const uint8_t *pkt, size_t len, size_t chunk)
{
	uint8_t *enc = malloc(SLIP_ENCODED_MAX(len));
	size_t n = slip_encode(enc, pkt, len);

	for (size_t off = 0; off < n;) {
		size_t k = chunk == 0 || chunk > n - off ? n - off : chunk;

		stub_feed(&st, enc + off, k);
		off += k;
	}
	free(enc);
}

static void
cmd_words(uint8_t op, const uint32_t *w, size_t nw)
{
	uint8_t pkt[64];
	size_t n = rom_proto_words_cmd_build(pkt, sizeof pkt, op, w, nw);

	send_chunked(pkt, n, 0);
}

static void
cmd_data(uint8_t op, uint32_t seq, const uint8_t *data, size_t len)
{
	uint8_t *pkt = malloc(len + 64);
	size_t n = rom_proto_data_cmd_build(pkt, len + 64, op, seq, data, len);

	send_chunked(pkt, n, 0);
	free(pkt);
}

/* Checks that exactly one frame came back and that it is the stub reply op/error (status 0). */
static void
expect_reply(uint8_t op, uint8_t err, uint32_t value)
{
	struct frames fr;
	uint8_t want[10];

	take(&fr);
	T_CHECK_(fr.n == 1, "op 0x%02x: %d frames, expected 1", op, fr.n);
	if (fr.n >= 1) {
		rom_proto_resp_build_stub(want, sizeof want, op, value, NULL, 0, err, 0);
		T_EQ_INT(fr.len[0], 10);
		T_CHECK_(fr.len[0] == 10 && memcmp(fr.data[0], want, 10) == 0,
		    "op 0x%02x reply %02x %02x .. status %02x %02x, expected error 0x%02x", op,
		    fr.data[0][0], fr.data[0][1], fr.len[0] >= 10 ? fr.data[0][8] : 0,
		    fr.len[0] >= 10 ? fr.data[0][9] : 0, err);
	}
	T_EQ_INT(fr.noise, 0);
	frames_free(&fr);
}

/* ---- tests ---- */

static void
test_constants_agree(void)
{
	/* The stub names opcodes and errors itself; they must be rom_proto.h's. */
	T_EQ_INT(STUB_MAX_WRITE_BLOCK, ROM_STUB_FLASH_BLOCK);
	T_EQ_INT(STUB_FRAME_MAX, ROM_HDR_LEN + ROM_DATA_HDR_LEN + ROM_STUB_FLASH_BLOCK);
	T_EQ_INT(sizeof(MD5_CTX) <= STUB_MD5_CTX_SIZE, 1);
}

static void
test_ohai(void)
{
	/* §4.4: once running, the stub sends c0 4f 48 41 49 c0. */
	setup();
	T_EQ_INT(buf_len(&fk.tx), 6);
	T_EQ_MEM(buf_head(&fk.tx), "\xc0\x4f\x48\x41\x49\xc0", 6);
	T_EQ_INT(stub_state(&st), STUB_RUNNING);
}

static void
test_sync(void)
{
	/* §4.1: eight replies 01 08 02 00 00000000 00 00 (value 0 = "stub running"). */
	static const uint8_t want[] = { 0x01, 0x08, 0x02, 0x00, 0, 0, 0, 0, 0x00, 0x00 };
	uint8_t data[36], pkt[64];
	struct frames fr;
	size_t n;

	setup();
	buf_reset(&fk.tx);
	data[0] = 0x07; data[1] = 0x07; data[2] = 0x12; data[3] = 0x20;
	memset(data + 4, 0x55, 32);
	n = rom_proto_cmd_build(pkt, sizeof pkt, ROM_OP_SYNC, data, 36, 0);
	send_chunked(pkt, n, 1); /* byte by byte */
	take(&fr);
	T_EQ_INT(fr.n, 8);
	for (int i = 0; i < fr.n && i < 8; i++) {
		T_EQ_INT(fr.len[i], 10);
		T_EQ_MEM(fr.data[i], want, 10);
	}
	frames_free(&fr);
	/* A SYNC of the wrong length: one reply, bad data length. */
	n = rom_proto_cmd_build(pkt, sizeof pkt, ROM_OP_SYNC, data, 20, 0);
	send_chunked(pkt, n, 0);
	expect_reply(ROM_OP_SYNC, ROM_STUB_BAD_DATA_LEN, 0);
}

static void
test_read_write_reg(void)
{
	uint32_t w[8];

	setup();
	buf_reset(&fk.tx);
	f_reg_write(&fk, 0x60000014, 0x1C4);
	w[0] = 0x60000014;
	cmd_words(ROM_OP_READ_REG, w, 1);
	expect_reply(ROM_OP_READ_REG, 0, 0x1C4);
	/* Two WRITE_REG records; the second with a mask and a delay (§4.2). */
	f_reg_write(&fk, 0x3FFE8000, 0xAABBCCDD);
	w[0] = 0x60000200; w[1] = 0x00040000; w[2] = 0xFFFFFFFF; w[3] = 0;
	w[4] = 0x3FFE8000; w[5] = 0x11223344; w[6] = 0x0000FFFF; w[7] = 50;
	cmd_words(ROM_OP_WRITE_REG, w, 8);
	expect_reply(ROM_OP_WRITE_REG, 0, 0);
	T_EQ_HEX(f_reg_read(&fk, 0x60000200), 0x00040000);
	T_EQ_HEX(f_reg_read(&fk, 0x3FFE8000), 0xAABB3344);
	T_EQ_INT(fk.delays, 50);
	/* Not a multiple of 16 bytes. */
	cmd_words(ROM_OP_WRITE_REG, w, 5);
	expect_reply(ROM_OP_WRITE_REG, ROM_STUB_BAD_DATA_LEN, 0);
	/* READ_REG with 8 bytes. */
	cmd_words(ROM_OP_READ_REG, w, 2);
	expect_reply(ROM_OP_READ_REG, ROM_STUB_BAD_DATA_LEN, 0);
}

static uint8_t *
pattern(size_t len, uint32_t seed)
{
	uint8_t *p = malloc(len);

	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
	return p;
}

static void
test_flash_write_plain(void)
{
	/* 0x9000 bytes at 0x10000 in 0x4000 blocks; the last block is padded with 0xFF. */
	uint32_t w[4] = { 0x9000, 3, 0x4000, 0x10000 };
	uint8_t *img = pattern(0xC000, 1), blk[0x4000];

	setup();
	buf_reset(&fk.tx);
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, 0, 0);
	T_EQ_INT(fk.nerases, 0); /* lazy: nothing erased yet */
	cmd_data(ROM_OP_FLASH_DATA, 0, img, 0x4000);
	expect_reply(ROM_OP_FLASH_DATA, 0, 0);
	/* The first block ends exactly at 0x14000; sectors 0x10..0x14 are erased (one ahead). */
	T_EQ_INT(fk.nerases, 5);
	T_EQ_INT(fk.erases[0].kind, 's');
	T_EQ_INT(fk.erases[0].index, 0x10);
	cmd_data(ROM_OP_FLASH_DATA, 1, img + 0x4000, 0x4000);
	expect_reply(ROM_OP_FLASH_DATA, 0, 0);
	memcpy(blk, img + 0x8000, 0x1000);
	memset(blk + 0x1000, 0xFF, 0x3000);
	cmd_data(ROM_OP_FLASH_DATA, 2, blk, 0x4000);
	expect_reply(ROM_OP_FLASH_DATA, 0, 0);
	/* Nine sectors (0x10..0x18), never a block: the region is less than 64 KB. */
	T_EQ_INT(fk.nerases, 9);
	for (int i = 0; i < fk.nerases; i++)
		T_TRUE(fk.erases[i].kind == 's' && fk.erases[i].index == 0x10u + (uint32_t)i);
	T_EQ_MEM(fk.flash + 0x10000, img, 0x9000);
	/* Outside the region nothing changed (the fake's flash starts as 0x00). */
	T_EQ_INT(fk.flash[0x19000], 0x00);
	T_EQ_INT(fk.flash[0xFFFF], 0x00);
	T_EQ_INT(fk.writes_unaligned, 0);
	w[0] = 1;
	cmd_words(ROM_OP_FLASH_END, w, 1);
	expect_reply(ROM_OP_FLASH_END, 0, 0);
	T_EQ_INT(stub_state(&st), STUB_RUNNING);
	T_EQ_INT(fk.rom_calls, 0);
	free(img);
}

static void
test_erase_granularity_lazy(void)
{
	/* 0x22000 bytes at 0xF000: sector 0xF, blocks 1 and 2, then sector 0x30. */
	uint32_t w[4] = { 0x22000, 9, 0x4000, 0xF000 };
	uint8_t *img = pattern(0x24000, 2);

	setup();
	buf_reset(&fk.tx);
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, 0, 0);
	for (uint32_t seq = 0; seq < 9; seq++) {
		cmd_data(ROM_OP_FLASH_DATA, seq, img + seq * 0x4000, 0x4000);
		expect_reply(ROM_OP_FLASH_DATA, 0, 0);
	}
	T_EQ_INT(fk.nerases, 4);
	T_TRUE(fk.erases[0].kind == 's' && fk.erases[0].index == 0xF);
	T_TRUE(fk.erases[1].kind == 'b' && fk.erases[1].index == 1);
	T_TRUE(fk.erases[2].kind == 'b' && fk.erases[2].index == 2);
	T_TRUE(fk.erases[3].kind == 's' && fk.erases[3].index == 0x30);
	T_EQ_MEM(fk.flash + 0xF000, img, 0x22000);
	T_EQ_INT(fk.flash[0x31000], 0x00);
	T_EQ_INT(fk.flash[0xEFFF], 0x00);
	free(img);
}

static void
test_unaligned_offset(void)
{
	/* An unaligned offset and size: bytes around the data stay as they were. */
	uint32_t w[4] = { 7, 1, 0x4000, 0x2001 };
	uint8_t blk[0x4000];

	setup();
	buf_reset(&fk.tx);
	memset(blk, 0xFF, sizeof blk);
	memcpy(blk, "\x11\x22\x33\x44\x55\x66\x77", 7);
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, 0, 0);
	cmd_data(ROM_OP_FLASH_DATA, 0, blk, sizeof blk);
	expect_reply(ROM_OP_FLASH_DATA, 0, 0);
	T_EQ_INT(fk.nerases, 1);
	T_EQ_INT(fk.flash[0x2000], 0xFF);
	T_EQ_MEM(fk.flash + 0x2001, "\x11\x22\x33\x44\x55\x66\x77", 7);
	T_EQ_INT(fk.flash[0x2008], 0xFF);
	T_EQ_INT(fk.writes_unaligned, 0);
}

static void
test_flash_errors(void)
{
	uint32_t w[4] = { 0x8000, 2, 0x4000, 0x0 };
	uint8_t *img = pattern(0x4000, 3);
	uint8_t pkt[0x4100];
	size_t n;

	setup();
	buf_reset(&fk.tx);
	/* FLASH_DATA before FLASH_BEGIN: not in flash mode. */
	cmd_data(ROM_OP_FLASH_DATA, 0, img, 0x4000);
	expect_reply(ROM_OP_FLASH_DATA, ROM_STUB_NOT_IN_FLASH_MODE, 0);
	w[0] = 1;
	cmd_words(ROM_OP_FLASH_END, w, 1);
	expect_reply(ROM_OP_FLASH_END, ROM_STUB_NOT_IN_FLASH_MODE, 0);
	/* Block size above 0x4000: 0xC2. */
	w[0] = 0x8000; w[2] = 0x4001;
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, ROM_STUB_BAD_BLOCKSIZE, 0);
	/* FLASH_BEGIN with 12 bytes: 0xC0. */
	cmd_words(ROM_OP_FLASH_BEGIN, w, 3);
	expect_reply(ROM_OP_FLASH_BEGIN, ROM_STUB_BAD_DATA_LEN, 0);
	/* SPI unlock failure: 0xC5. */
	fk.fail_unlock = 1;
	w[2] = 0x4000;
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, ROM_STUB_FAILED_SPI_UNLOCK, 0);
	fk.fail_unlock = 0;
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, 0, 0);
	/* Bad checksum: 0xC1, nothing written. */
	n = rom_proto_data_cmd_build(pkt, sizeof pkt, ROM_OP_FLASH_DATA, 0, img, 0x4000);
	pkt[4] ^= 0x01;
	send_chunked(pkt, n, 0);
	expect_reply(ROM_OP_FLASH_DATA, ROM_STUB_BAD_DATA_CHECKSUM, 0);
	T_EQ_INT(fk.nerases, 0);
	/* Length word disagreeing with the size: 0xC0. */
	pkt[4] ^= 0x01;
	wr_le32(pkt + 8, 0x3FFF);
	send_chunked(pkt, n, 0);
	expect_reply(ROM_OP_FLASH_DATA, ROM_STUB_BAD_DATA_LEN, 0);
	/* A write failure is reported in the reply to the next command (§4.3: reply first). */
	fk.fail_write_from = 0x1000;
	cmd_data(ROM_OP_FLASH_DATA, 0, img, 0x4000);
	expect_reply(ROM_OP_FLASH_DATA, 0, 0);
	cmd_data(ROM_OP_FLASH_DATA, 1, img, 0x4000);
	expect_reply(ROM_OP_FLASH_DATA, ROM_STUB_FAILED_SPI_OP, 0);
	fk.fail_write_from = 0;
	/* FLASH_END while data is missing: 0xC8. */
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, 0, 0);
	cmd_data(ROM_OP_FLASH_DATA, 0, img, 0x4000);
	expect_reply(ROM_OP_FLASH_DATA, 0, 0);
	w[0] = 1;
	cmd_words(ROM_OP_FLASH_END, w, 1);
	expect_reply(ROM_OP_FLASH_END, ROM_STUB_NOT_ENOUGH_DATA, 0);
	free(img);
}

static size_t
zlib9(const uint8_t *in, size_t len, uint8_t **out)
{
	uLongf zlen = compressBound((uLong)len);

	*out = malloc(zlen);
	if (compress2(*out, &zlen, in, (uLong)len, 9) != Z_OK)
		abort();
	return zlen;
}

/* A 1 MB image shaped like a stock Sonoff dump: code-like data, about half 0xFF. */
static uint8_t *
sonoff_image(size_t len)
{
	uint8_t *p = pattern(len, 4);

	for (size_t i = 0; i < len; i++) {
		if (i >= len / 2 && i < len - 0x5000)
			p[i] = 0xFF;
		else if (i >= 64 && p[i] % 3 != 0)
			p[i] = p[i - 1 - p[i] % 64];
	}
	p[0] = 0xE9;
	return p;
}

static void
test_flash_defl_1mb(void)
{
	/* §5.5: FLASH_DEFL_BEGIN(uncompressed, blocks, 0x4000, offset), 0x4000-byte chunks of one
	 * zlib level-9 stream, then SPI_FLASH_MD5 against libmd, then FLASH_BEGIN(0,0) +
	 * FLASH_DEFL_END(1), which keeps the stub running. */
	size_t len = 1u << 20;
	uint8_t *img = sonoff_image(len), *z, want[16];
	size_t zlen = zlib9(img, len, &z);
	uint32_t blocks = (uint32_t)((zlen + 0x3FFF) / 0x4000);
	uint32_t w[4] = { (uint32_t)len, blocks, 0x4000, 0x0 };
	struct frames fr;
	MD5_CTX m;

	setup();
	memset(fk.flash, 0x5A, FLASH_SIZE);
	buf_reset(&fk.tx);
	cmd_words(ROM_OP_FLASH_DEFL_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_DEFL_BEGIN, 0, 0);
	for (uint32_t seq = 0; seq < blocks; seq++) {
		size_t n = zlen - seq * 0x4000u < 0x4000 ? zlen - seq * 0x4000u : 0x4000;

		cmd_data(ROM_OP_FLASH_DEFL_DATA, seq, z + seq * 0x4000u, n);
		expect_reply(ROM_OP_FLASH_DEFL_DATA, 0, 0);
	}
	T_EQ_MEM(fk.flash, img, len);
	T_EQ_INT(fk.flash[len], 0x5A); /* nothing past the image */
	/* A 1 MB region at 0 is erased as 16 blocks. */
	T_EQ_INT(fk.nerases, 16);
	for (int i = 0; i < fk.nerases; i++)
		T_TRUE(fk.erases[i].kind == 'b');
	/* esptool's dummy READ_REG, then the MD5. */
	w[0] = ROM_MAGIC_REG;
	cmd_words(ROM_OP_READ_REG, w, 1);
	expect_reply(ROM_OP_READ_REG, 0, 0);
	w[0] = 0; w[1] = (uint32_t)len; w[2] = 0; w[3] = 0;
	cmd_words(ROM_OP_SPI_FLASH_MD5, w, 4);
	MD5Init(&m);
	MD5Update(&m, img, len);
	MD5Final(want, &m);
	take(&fr);
	T_EQ_INT(fr.n, 1);
	if (fr.n == 1) {
		/* size 18: 16 raw digest bytes, then 00 00. */
		T_EQ_INT(fr.len[0], 26);
		T_EQ_MEM(fr.data[0], "\x01\x13\x12\x00\x00\x00\x00\x00", 8);
		T_EQ_MEM(fr.data[0] + 8, want, 16);
		T_EQ_MEM(fr.data[0] + 24, "\x00\x00", 2);
	}
	frames_free(&fr);
	w[0] = 0; w[1] = 0; w[2] = 0x4000; w[3] = 0;
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, 0, 0);
	w[0] = 1;
	cmd_words(ROM_OP_FLASH_DEFL_END, w, 1);
	expect_reply(ROM_OP_FLASH_DEFL_END, 0, 0);
	T_EQ_INT(stub_state(&st), STUB_RUNNING);
	free(z);
	free(img);
}

static void
test_flash_defl_any_chunking(void)
{
	/* The same session with every command fed in random-sized pieces (1..700 bytes), a zlib
	 * level-9 stream cut into 0x4000-byte blocks: framing and inflate must not care. */
	size_t len = 0x30000;
	uint8_t *img = sonoff_image(len), *z, *pkt = malloc(0x4100);
	size_t zlen = zlib9(img, len, &z);
	uint32_t blocks = (uint32_t)((zlen + 0x3FFF) / 0x4000), seed = 99;
	uint32_t w[4] = { (uint32_t)len, blocks, 0x4000, 0x40000 };
	size_t n;

	setup();
	buf_reset(&fk.tx);
	n = rom_proto_words_cmd_build(pkt, 0x4100, ROM_OP_FLASH_DEFL_BEGIN, w, 4);
	send_chunked(pkt, n, 3);
	expect_reply(ROM_OP_FLASH_DEFL_BEGIN, 0, 0);
	for (uint32_t seq = 0; seq < blocks; seq++) {
		size_t k = zlen - seq * 0x4000u < 0x4000 ? zlen - seq * 0x4000u : 0x4000;

		seed = seed * 1103515245u + 12345u;
		n = rom_proto_data_cmd_build(pkt, 0x4100, ROM_OP_FLASH_DEFL_DATA, seq,
		    z + seq * 0x4000u, k);
		send_chunked(pkt, n, 1 + (seed >> 8) % 700);
		expect_reply(ROM_OP_FLASH_DEFL_DATA, 0, 0);
	}
	w[0] = 1;
	cmd_words(ROM_OP_FLASH_DEFL_END, w, 1);
	expect_reply(ROM_OP_FLASH_DEFL_END, 0, 0);
	T_EQ_MEM(fk.flash + 0x40000, img, len);
	free(pkt);
	free(z);
	free(img);
}

static void
test_flash_defl_errors(void)
{
	size_t len = 0x10000;
	uint8_t *img = pattern(len, 5), *z;
	size_t zlen = zlib9(img, len, &z);
	uint32_t w[4] = { (uint32_t)len, (uint32_t)((zlen + 0x3FFF) / 0x4000), 0x4000, 0x0 };

	setup();
	buf_reset(&fk.tx);
	/* Corrupt stream: the reply to the next block says 0xC7. */
	cmd_words(ROM_OP_FLASH_DEFL_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_DEFL_BEGIN, 0, 0);
	cmd_data(ROM_OP_FLASH_DEFL_DATA, 0, (const uint8_t *)"\x78\x9c\xff\xff\xff\xff", 6);
	expect_reply(ROM_OP_FLASH_DEFL_DATA, 0, 0);
	cmd_data(ROM_OP_FLASH_DEFL_DATA, 1, z, 0x4000);
	expect_reply(ROM_OP_FLASH_DEFL_DATA, ROM_STUB_INFLATE_ERROR, 0);
	/* More data than announced: 0xC9 (announce half the image). */
	w[0] = (uint32_t)len / 2;
	cmd_words(ROM_OP_FLASH_DEFL_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_DEFL_BEGIN, 0, 0);
	for (uint32_t seq = 0; seq * 0x4000u < zlen; seq++) {
		size_t n = zlen - seq * 0x4000u < 0x4000 ? zlen - seq * 0x4000u : 0x4000;

		cmd_data(ROM_OP_FLASH_DEFL_DATA, seq, z + seq * 0x4000u, n);
		drain();
	}
	w[0] = 1;
	cmd_words(ROM_OP_FLASH_DEFL_END, w, 1);
	expect_reply(ROM_OP_FLASH_DEFL_END, ROM_STUB_TOO_MUCH_DATA, 0);
	/* Less data than announced: the stream ends early, 0xC8. */
	w[0] = (uint32_t)len * 2;
	cmd_words(ROM_OP_FLASH_DEFL_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_DEFL_BEGIN, 0, 0);
	for (uint32_t seq = 0; seq * 0x4000u < zlen; seq++) {
		size_t n = zlen - seq * 0x4000u < 0x4000 ? zlen - seq * 0x4000u : 0x4000;

		cmd_data(ROM_OP_FLASH_DEFL_DATA, seq, z + seq * 0x4000u, n);
		drain();
	}
	w[0] = 1;
	cmd_words(ROM_OP_FLASH_DEFL_END, w, 1);
	expect_reply(ROM_OP_FLASH_DEFL_END, ROM_STUB_NOT_ENOUGH_DATA, 0);
	/* Uncompressed data in a compressed session. */
	w[0] = (uint32_t)len;
	cmd_words(ROM_OP_FLASH_DEFL_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_DEFL_BEGIN, 0, 0);
	cmd_data(ROM_OP_FLASH_DATA, 0, img, 0x4000);
	expect_reply(ROM_OP_FLASH_DATA, ROM_STUB_NOT_IN_FLASH_MODE, 0);
	free(z);
	free(img);
}

static void
test_read_flash_window(void)
{
	/* §5.9: READ_FLASH offset, length, packet, max_in_flight; frames wait for the cumulative
	 * 4-byte ACKs; after the last ACK one 16-byte MD5 frame. */
	uint32_t w[4] = { 0x1000, 0x2800, 0x1000, 2 };
	uint8_t *img = pattern(0x4000, 6), want[16], ack[4], pkt[16];
	struct frames fr;
	MD5_CTX m;

	setup();
	memcpy(fk.flash + 0x1000, img, 0x4000);
	buf_reset(&fk.tx);
	cmd_words(ROM_OP_READ_FLASH, w, 4);
	expect_reply(ROM_OP_READ_FLASH, 0, 0);
	T_EQ_INT(stub_state(&st), STUB_READING);
	/* Two packets may be in flight, not three. */
	T_EQ_INT(stub_poll(&st), 1);
	T_EQ_INT(stub_poll(&st), 1);
	T_EQ_INT(stub_poll(&st), 0);
	take(&fr);
	T_EQ_INT(fr.n, 2);
	if (fr.n == 2) {
		T_EQ_INT(fr.len[0], 0x1000);
		T_EQ_MEM(fr.data[0], img, 0x1000);
		T_EQ_MEM(fr.data[1], img + 0x1000, 0x1000);
	}
	frames_free(&fr);
	/* ACK the first packet: one more (the short last one, 0x800 bytes). */
	wr_le32(ack, 0x1000);
	send_chunked(ack, 4, 0);
	T_EQ_INT(stub_poll(&st), 1);
	T_EQ_INT(stub_poll(&st), 0);
	take(&fr);
	T_EQ_INT(fr.n, 1);
	if (fr.n == 1) {
		T_EQ_INT(fr.len[0], 0x800);
		T_EQ_MEM(fr.data[0], img + 0x2000, 0x800);
	}
	frames_free(&fr);
	/* Everything sent; the digest waits for the final ACK. */
	wr_le32(ack, 0x2000);
	send_chunked(ack, 4, 0);
	T_EQ_INT(stub_poll(&st), 0);
	wr_le32(ack, 0x2800);
	send_chunked(ack, 4, 2); /* the ACK frame split in pieces */
	T_EQ_INT(stub_poll(&st), 1);
	MD5Init(&m);
	MD5Update(&m, img, 0x2800);
	MD5Final(want, &m);
	take(&fr);
	T_EQ_INT(fr.n, 1);
	if (fr.n == 1) {
		T_EQ_INT(fr.len[0], 16);
		T_EQ_MEM(fr.data[0], want, 16);
	}
	frames_free(&fr);
	T_EQ_INT(stub_state(&st), STUB_RUNNING);
	T_EQ_INT(stub_poll(&st), 0);
	/* The stub answers commands again. */
	w[0] = ROM_MAGIC_REG;
	cmd_words(ROM_OP_READ_REG, w, 1);
	expect_reply(ROM_OP_READ_REG, 0, 0);
	/* esptool's parameters: 0x1000 packets, 64 in flight; a full 1 MB read with ACKs. */
	w[0] = 0; w[1] = 0x100000; w[2] = 0x1000; w[3] = 64;
	memset(fk.flash, 0xA5, 0x100000);
	cmd_words(ROM_OP_READ_FLASH, w, 4);
	expect_reply(ROM_OP_READ_FLASH, 0, 0);
	{
		uint32_t got = 0, frames = 0, max_burst = 0;

		while (stub_state(&st) == STUB_READING) {
			uint32_t burst = 0;

			while (stub_poll(&st))
				burst++;
			if (burst > max_burst)
				max_burst = burst;
			take(&fr);
			for (int i = 0; i < fr.n; i++) {
				if (fr.len[i] == 16 && got == 0x100000)
					continue;
				got += (uint32_t)fr.len[i];
				frames++;
				wr_le32(ack, got);
				send_chunked(ack, 4, 0);
			}
			frames_free(&fr);
			if (burst == 0)
				break;
		}
		T_EQ_INT(got, 0x100000);
		T_EQ_INT(frames, 256);
		T_EQ_INT(max_burst, 64);
	}
	/* Bad packet size or window: 0xC2 (our choice; esptool's stub would hang). */
	w[2] = 0x2000;
	cmd_words(ROM_OP_READ_FLASH, w, 4);
	expect_reply(ROM_OP_READ_FLASH, ROM_STUB_BAD_BLOCKSIZE, 0);
	w[2] = 0x1000; w[3] = 0;
	cmd_words(ROM_OP_READ_FLASH, w, 4);
	expect_reply(ROM_OP_READ_FLASH, ROM_STUB_BAD_BLOCKSIZE, 0);
	/* A command during a stream ends it. */
	w[0] = 0; w[1] = 0x10000; w[2] = 0x1000; w[3] = 4;
	cmd_words(ROM_OP_READ_FLASH, w, 4);
	expect_reply(ROM_OP_READ_FLASH, 0, 0);
	(void)stub_poll(&st);
	buf_reset(&fk.tx);
	wr_le32(pkt, ROM_MAGIC_REG);
	cmd_words(ROM_OP_READ_REG, (uint32_t[]){ ROM_MAGIC_REG }, 1);
	expect_reply(ROM_OP_READ_REG, 0, 0);
	T_EQ_INT(stub_state(&st), STUB_RUNNING);
	free(img);
}

static void
test_erase(void)
{
	uint32_t w[2];

	setup();
	buf_reset(&fk.tx);
	/* ERASE_REGION 0xF000 + 0x22000: sector 0xF, blocks 1 and 2, sector 0x30. */
	w[0] = 0xF000; w[1] = 0x22000;
	cmd_words(ROM_OP_ERASE_REGION, w, 2);
	expect_reply(ROM_OP_ERASE_REGION, 0, 0);
	T_EQ_INT(fk.nerases, 4);
	T_TRUE(fk.erases[0].kind == 's' && fk.erases[0].index == 0xF);
	T_TRUE(fk.erases[1].kind == 'b' && fk.erases[1].index == 1);
	T_TRUE(fk.erases[2].kind == 'b' && fk.erases[2].index == 2);
	T_TRUE(fk.erases[3].kind == 's' && fk.erases[3].index == 0x30);
	T_EQ_INT(fk.flash[0xF000], 0xFF);
	T_EQ_INT(fk.flash[0x30FFF], 0xFF);
	T_EQ_INT(fk.flash[0x31000], 0x00);
	T_EQ_INT(fk.flash[0xEFFF], 0x00);
	/* Unaligned: 0xC0 (esptool checks this itself, §4.5). */
	w[0] = 0x1001;
	cmd_words(ROM_OP_ERASE_REGION, w, 2);
	expect_reply(ROM_OP_ERASE_REGION, ROM_STUB_BAD_DATA_LEN, 0);
	w[0] = 0x1000; w[1] = 0x800;
	cmd_words(ROM_OP_ERASE_REGION, w, 2);
	expect_reply(ROM_OP_ERASE_REGION, ROM_STUB_BAD_DATA_LEN, 0);
	/* Beyond the chip: the flash fails, 0xC4. */
	w[0] = FLASH_SIZE; w[1] = 0x1000;
	cmd_words(ROM_OP_ERASE_REGION, w, 2);
	expect_reply(ROM_OP_ERASE_REGION, ROM_STUB_FAILED_SPI_OP, 0);
	/* ERASE_FLASH. */
	fk.nerases = 0;
	cmd_words(ROM_OP_ERASE_FLASH, w, 0);
	expect_reply(ROM_OP_ERASE_FLASH, 0, 0);
	T_EQ_INT(fk.nerases, 1);
	T_EQ_INT(fk.erases[0].kind, 'c');
	T_EQ_INT(fk.flash[FLASH_SIZE - 1], 0xFF);
}

static void
test_change_baud(void)
{
	/* §4.5: reply at the old rate, then switch; words are new, old. */
	uint32_t w[2] = { 921600, 115200 };

	setup();
	buf_reset(&fk.tx);
	cmd_words(ROM_OP_CHANGE_BAUDRATE, w, 2);
	T_EQ_INT(fk.baud_calls, 1);
	T_EQ_INT(fk.baud_new, 921600);
	T_EQ_INT(fk.baud_old, 115200);
	T_EQ_INT(fk.tx_at_baud, 12); /* the whole reply was queued before the switch */
	expect_reply(ROM_OP_CHANGE_BAUDRATE, 0, 0);
	/* Old baud 0 (the ESP32 ROM form): the stub's last known rate. */
	w[0] = 460800; w[1] = 0;
	cmd_words(ROM_OP_CHANGE_BAUDRATE, w, 2);
	T_EQ_INT(fk.baud_old, 921600);
	expect_reply(ROM_OP_CHANGE_BAUDRATE, 0, 0);
	cmd_words(ROM_OP_CHANGE_BAUDRATE, w, 1);
	expect_reply(ROM_OP_CHANGE_BAUDRATE, ROM_STUB_BAD_DATA_LEN, 0);
	T_EQ_INT(fk.baud_calls, 2);
}

static void
test_spi_params_attach_md5(void)
{
	uint32_t w[6] = { 0, 0x100000, 0x10000, 0x1000, 0x100, 0xFFFF };
	uint8_t want[16];
	struct frames fr;
	MD5_CTX m;

	setup();
	buf_reset(&fk.tx);
	/* §4.5: esptool's SPI_SET_PARAMS values. */
	cmd_words(ROM_OP_SPI_SET_PARAMS, w, 6);
	expect_reply(ROM_OP_SPI_SET_PARAMS, 0, 0);
	T_EQ_HEX(fk.params[1], 0x100000);
	T_EQ_HEX(fk.params[5], 0xFFFF);
	cmd_words(ROM_OP_SPI_SET_PARAMS, w, 5);
	expect_reply(ROM_OP_SPI_SET_PARAMS, ROM_STUB_BAD_DATA_LEN, 0);
	/* SPI_ATTACH takes one word on the ESP8266. */
	cmd_words(ROM_OP_SPI_ATTACH, w, 1);
	expect_reply(ROM_OP_SPI_ATTACH, 0, 0);
	T_EQ_INT(fk.attach_calls, 1);
	/* MD5 of an odd-sized range (not a multiple of the stub's read buffer). */
	for (uint32_t i = 0; i < 5000; i++)
		fk.flash[0x3001 + i] = (uint8_t)(i * 13);
	w[0] = 0x3001; w[1] = 5000; w[2] = 0; w[3] = 0;
	cmd_words(ROM_OP_SPI_FLASH_MD5, w, 4);
	MD5Init(&m);
	MD5Update(&m, fk.flash + 0x3001, 5000);
	MD5Final(want, &m);
	take(&fr);
	T_EQ_INT(fr.n, 1);
	if (fr.n == 1) {
		T_EQ_INT(fr.len[0], 26);
		T_EQ_MEM(fr.data[0] + 8, want, 16);
		T_EQ_INT(fr.data[0][24], 0);
	}
	frames_free(&fr);
	/* Past the end of the flash: C4, and still 16 digest bytes. */
	w[0] = FLASH_SIZE - 16; w[1] = 32;
	cmd_words(ROM_OP_SPI_FLASH_MD5, w, 4);
	take(&fr);
	T_EQ_INT(fr.n, 1);
	if (fr.n == 1) {
		T_EQ_INT(fr.len[0], 26);
		T_EQ_INT(fr.data[0][24], ROM_STUB_FAILED_SPI_OP);
	}
	frames_free(&fr);
}

static void
test_unknown_and_malformed(void)
{
	static uint8_t pkt[STUB_FRAME_MAX + 64], big[0x4000 + 4];
	size_t n;

	setup();
	buf_reset(&fk.tx);
	/* §4.5: unknown opcode -> header echo, status FF 00. GET_SECURITY_INFO is unknown too. */
	cmd_words(0x42, NULL, 0);
	expect_reply(0x42, ROM_STUB_CMD_NOT_IMPLEMENTED, 0);
	cmd_words(ROM_OP_GET_SECURITY_INFO, NULL, 0);
	expect_reply(ROM_OP_GET_SECURITY_INFO, ROM_STUB_CMD_NOT_IMPLEMENTED, 0);
	/* More than 0x4000 + 16 data bytes: 0xC0 (§7.4). */
	memset(pkt, 0, sizeof pkt);
	n = rom_proto_data_cmd_build(pkt, sizeof pkt, ROM_OP_FLASH_DATA, 0, big, sizeof big);
	T_TRUE(n > 0);
	send_chunked(pkt, n, 0);
	expect_reply(ROM_OP_FLASH_DATA, ROM_STUB_BAD_DATA_LEN, 0);
	/* Size field bigger than the frame. */
	n = rom_proto_cmd_build(pkt, sizeof pkt, ROM_OP_READ_REG, "\0\0\0\0", 4, 0);
	pkt[2] = 8;
	send_chunked(pkt, n, 0);
	expect_reply(ROM_OP_READ_REG, ROM_STUB_BAD_DATA_LEN, 0);
	/* Noise, empty frames, a response-direction frame, a bad escape: all ignored. */
	stub_feed(&st, (const uint8_t *)"abc\xc0\xc0\xc0\x01\x0a\x04\x00\0\0\0\0\0\0\0\0\xc0"
	    "\xc0\x00\xdb\x01\xc0", 23);
	T_EQ_INT(buf_len(&fk.tx), 0);
	/* Doubled opening delimiters before a real command are tolerated (§15.1). */
	stub_feed(&st, (const uint8_t *)"\xc0\xc0\xc0\x00\x0a\x04\x00\0\0\0\0\0\x10\0\x40\xc0", 16);
	expect_reply(ROM_OP_READ_REG, 0, 0);
}

static void
test_escapes_in_payload(void)
{
	/* Payload bytes 0xC0 and 0xDB arrive escaped and are written as themselves; replies that
	 * contain them (a READ_REG value) are escaped on the way out. */
	uint32_t w[4] = { 0x100, 1, 0x4000, 0x0 };
	uint8_t blk[0x4000];

	setup();
	buf_reset(&fk.tx);
	for (size_t i = 0; i < sizeof blk; i++)
		blk[i] = i % 2 ? 0xC0 : 0xDB;
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, 0, 0);
	cmd_data(ROM_OP_FLASH_DATA, 0, blk, sizeof blk);
	expect_reply(ROM_OP_FLASH_DATA, 0, 0);
	T_EQ_MEM(fk.flash, blk, 0x100);
	T_EQ_INT(fk.flash[0x100], 0xFF);
	f_reg_write(&fk, 0x1234, 0xC0DBC0DB);
	w[0] = 0x1234;
	cmd_words(ROM_OP_READ_REG, w, 1);
	T_EQ_MEM(buf_head(&fk.tx), "\xc0\x01\x0a\x02\x00\xdb\xdd\xdb\xdc\xdb\xdd\xdb\xdc\x00\x00\xc0",
	    16);
	expect_reply(ROM_OP_READ_REG, 0, 0xC0DBC0DB);
}

static void
test_mem_upload(void)
{
	/* §4.4: MEM_BEGIN(size, blocks, 0x1800, addr), MEM_DATA blocks, MEM_END(0, entry). */
	uint8_t *code = pattern(0x3000, 7);
	uint32_t w[4] = { 0x2000, 2, 0x1800, RAM_BASE + 0x100 };

	setup();
	buf_reset(&fk.tx);
	cmd_data(ROM_OP_MEM_DATA, 0, code, 0x1800);
	expect_reply(ROM_OP_MEM_DATA, ROM_STUB_NOT_IN_FLASH_MODE, 0);
	cmd_words(ROM_OP_MEM_BEGIN, w, 4);
	expect_reply(ROM_OP_MEM_BEGIN, 0, 0);
	cmd_data(ROM_OP_MEM_DATA, 0, code, 0x1800);
	expect_reply(ROM_OP_MEM_DATA, 0, 0);
	w[0] = 0; w[1] = RAM_BASE + 0x104;
	cmd_words(ROM_OP_MEM_END, w, 2);
	expect_reply(ROM_OP_MEM_END, ROM_STUB_NOT_ENOUGH_DATA, 0);
	cmd_data(ROM_OP_MEM_DATA, 1, code + 0x1800, 0x1000);
	expect_reply(ROM_OP_MEM_DATA, ROM_STUB_TOO_MUCH_DATA, 0);
	cmd_data(ROM_OP_MEM_DATA, 1, code + 0x1800, 0x800);
	expect_reply(ROM_OP_MEM_DATA, 0, 0);
	T_EQ_MEM(fk.ram + 0x100, code, 0x2000);
	T_EQ_INT(fk.jumps, 0);
	cmd_words(ROM_OP_MEM_END, w, 2);
	expect_reply(ROM_OP_MEM_END, 0, 0);
	T_EQ_INT(fk.jumps, 1);
	T_EQ_HEX(fk.jump_to, RAM_BASE + 0x104);
	/* Outside the fake's RAM: 0xC4. */
	w[0] = 16; w[1] = 1; w[2] = 0x1800; w[3] = 0x3FF00000;
	cmd_words(ROM_OP_MEM_BEGIN, w, 4);
	expect_reply(ROM_OP_MEM_BEGIN, 0, 0);
	cmd_data(ROM_OP_MEM_DATA, 0, code, 16);
	expect_reply(ROM_OP_MEM_DATA, ROM_STUB_FAILED_SPI_OP, 0);
	free(code);
}

static void
test_exits(void)
{
	uint32_t w[4] = { 0, 0, 0x4000, 0 };

	/* FLASH_BEGIN(0,0) + FLASH_END(0): reply, then reset to the ROM (§4.3). */
	setup();
	buf_reset(&fk.tx);
	cmd_words(ROM_OP_FLASH_BEGIN, w, 4);
	expect_reply(ROM_OP_FLASH_BEGIN, 0, 0);
	w[0] = 0;
	cmd_words(ROM_OP_FLASH_END, w, 1);
	expect_reply(ROM_OP_FLASH_END, 0, 0);
	T_EQ_INT(fk.rom_calls, 1);
	T_EQ_INT(stub_state(&st), STUB_EXIT_ROM);
	cmd_words(ROM_OP_READ_REG, w, 1);
	T_EQ_INT(buf_len(&fk.tx), 0); /* input ignored after leaving */
	/* RUN_USER_CODE: no reply at all (§4.0). */
	setup();
	buf_reset(&fk.tx);
	cmd_words(ROM_OP_RUN_USER_CODE, NULL, 0);
	T_EQ_INT(buf_len(&fk.tx), 0);
	T_EQ_INT(fk.user_calls, 1);
	T_EQ_INT(stub_state(&st), STUB_EXIT_USER);
}

int
main(void)
{
	T_RUN(test_constants_agree);
	T_RUN(test_ohai);
	T_RUN(test_sync);
	T_RUN(test_read_write_reg);
	T_RUN(test_flash_write_plain);
	T_RUN(test_erase_granularity_lazy);
	T_RUN(test_unaligned_offset);
	T_RUN(test_flash_errors);
	T_RUN(test_flash_defl_1mb);
	T_RUN(test_flash_defl_any_chunking);
	T_RUN(test_flash_defl_errors);
	T_RUN(test_read_flash_window);
	T_RUN(test_erase);
	T_RUN(test_change_baud);
	T_RUN(test_spi_params_attach_md5);
	T_RUN(test_unknown_and_malformed);
	T_RUN(test_escapes_in_payload);
	T_RUN(test_mem_upload);
	T_RUN(test_exits);
	buf_free(&fk.tx);
	free(fk.flash);
	return t_done();
}
