/*
 * test_write_pipe.c: the pipelined stub write (flasher_write.c) and the stub behaviour it
 * relies on (stub.c: decoded output programmed in whole pages, blank page pieces left alone).
 *
 * The stub cases run src/stub over a fake flash that counts program operations per page; the
 * expected counts come from the image (a page that holds data is programmed once, a blank one
 * never). The engine cases run against the real espdesk-sim over a pty, with chips that already
 * hold parts of the image, so that the runs are split by skipped sectors, also through dropped
 * and corrupted bytes, a pulled cable, a power loss and a cancel. Each one compares the
 * simulator's flash file with the expected bytes, and checks that what the engine reports as
 * skipped or written is really on the chip.
 */
#include "config.h"

#include <md5.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/buf.h"
#include "flasher/flasher.h"
#include "rom/rom_proto.h"
#include "rom/slip.h"
#include "stub/stub.h"
#include "tap.h"

#include "flasher/flasher_simh.h"

/* ---- the stub over a fake flash ------------------------------------------------------- */

#define FK_SIZE 0x80000u
#define FK_PAGES (FK_SIZE / 256)

static struct {
	uint8_t *flash;
	uint8_t programs[FK_PAGES];   /* program operations that touched each page */
	int overlap;                  /* a program hit a byte that was not erased */
	struct buf tx;
} fk;

static int
f_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	(void)ctx;
	memcpy(dst, fk.flash + addr, len);
	return 0;
}

static int
f_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	(void)ctx;
	for (uint32_t p = addr / 256; p <= (addr + len - 1) / 256; p++)
		fk.programs[p]++;
	for (uint32_t i = 0; i < len; i++) {
		if (fk.flash[addr + i] != 0xFF && s[i] != 0xFF)
			fk.overlap = 1;
		fk.flash[addr + i] &= s[i];
	}
	return 0;
}

static int
f_erase_sector(void *ctx, uint32_t sector)
{
	(void)ctx;
	memset(fk.flash + sector * 4096u, 0xFF, 4096);
	return 0;
}

static int
f_erase_block(void *ctx, uint32_t block)
{
	(void)ctx;
	memset(fk.flash + block * 0x10000u, 0xFF, 0x10000);
	return 0;
}

static int
f_erase_chip(void *ctx)
{
	(void)ctx;
	memset(fk.flash, 0xFF, FK_SIZE);
	return 0;
}

static void
f_tx(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	buf_add(&fk.tx, data, len);
}

static void f_baud(void *ctx, uint32_t n, uint32_t o) { (void)ctx; (void)n; (void)o; }
static uint32_t f_reg_read(void *ctx, uint32_t a) { (void)ctx; (void)a; return 0; }
static void f_reg_write(void *ctx, uint32_t a, uint32_t v) { (void)ctx; (void)a; (void)v; }
static void f_md5_init(void *ctx, struct stub_md5 *m) { (void)ctx; MD5Init((MD5_CTX *)(void *)m->u.bytes); }
static void f_md5_update(void *ctx, struct stub_md5 *m, const void *d, uint32_t n) { (void)ctx; MD5Update((MD5_CTX *)(void *)m->u.bytes, d, n); }
static void f_md5_final(void *ctx, struct stub_md5 *m, uint8_t out[16]) { (void)ctx; MD5Final(out, (MD5_CTX *)(void *)m->u.bytes); }
static void f_exit(void *ctx) { (void)ctx; }

static const struct stub_hal hal = {
	.flash_read = f_read, .flash_write = f_write, .flash_erase_sector = f_erase_sector,
	.flash_erase_block = f_erase_block, .flash_erase_chip = f_erase_chip,
	.uart_tx = f_tx, .uart_set_baud = f_baud, .reg_read = f_reg_read, .reg_write = f_reg_write,
	.md5_init = f_md5_init, .md5_update = f_md5_update, .md5_final = f_md5_final,
	.run_user_code = f_exit, .reset_to_rom = f_exit,
};

/* Sends pkt to the stub SLIP-encoded, in pieces of 1..97 bytes. */
static void
feed(struct stub *st, const uint8_t *pkt, size_t len)
{
	struct buf out = BUF_INIT;

	slip_encode_buf(&out, pkt, len);
	for (size_t at = 0; at < buf_len(&out);) {
		size_t n = 1 + rnd() % 97;

		if (n > buf_len(&out) - at)
			n = buf_len(&out) - at;
		stub_feed(st, buf_head(&out) + at, n);
		at += n;
	}
	buf_free(&out);
}

/* Counts the stub's replies since the last call and how many reported a failure. */
static void
replies(int *n, int *failed)
{
	const uint8_t *p = buf_head(&fk.tx);
	size_t len = buf_len(&fk.tx), i = 0;

	*n = *failed = 0;
	while (i < len) {
		size_t s = i + 1, e;

		if (p[i] != 0xC0) {
			i++;
			continue;
		}
		for (e = s; e < len && p[e] != 0xC0; e++)
			;
		/* Unescaped, a reply has no 0xDB here: the status is the last two bytes. */
		if (e < len && e - s >= 10) {
			(*n)++;
			if (p[e - 2] != 0)
				(*failed)++;
		}
		i = e + 1;
	}
	buf_reset(&fk.tx);
}

/* One FLASH_DEFL session of img (len bytes) at addr, in blocks of block bytes. */
static void
defl_session(struct stub *st, uint32_t addr, const uint8_t *img, uint32_t len, uint32_t block)
{
	uLongf zlen = compressBound(len);
	uint8_t *z = malloc(zlen), *pkt = malloc(ROM_HDR_LEN + ROM_DATA_HDR_LEN + block);
	uint32_t w[4], nblocks;
	size_t plen;
	int n, failed;

	compress2(z, &zlen, img, len, 9);
	nblocks = (uint32_t)((zlen + block - 1) / block);
	w[0] = len; w[1] = nblocks; w[2] = block; w[3] = addr;
	plen = rom_proto_words_cmd_build(pkt, ROM_HDR_LEN + 16, ROM_OP_FLASH_DEFL_BEGIN, w, 4);
	feed(st, pkt, plen);
	for (uint32_t seq = 0; seq < nblocks; seq++) {
		size_t k = zlen - (size_t)seq * block < block ? zlen - (size_t)seq * block : block;

		plen = rom_proto_data_cmd_build(pkt, ROM_HDR_LEN + ROM_DATA_HDR_LEN + block,
		    ROM_OP_FLASH_DEFL_DATA, seq, z + (size_t)seq * block, k);
		feed(st, pkt, plen);
	}
	replies(&n, &failed);
	T_EQ_INT(n, (int)nblocks + 1);
	T_EQ_INT(failed, 0);
	free(z);
	free(pkt);
}

/* An image whose pages are random, blank, or partly blank, in a pattern that does not repeat
 * with the 4 KB sector or the block size. */
static void
mixed_image(uint8_t *img, uint32_t len)
{
	for (uint32_t p = 0; p < len / 256; p++) {
		uint8_t *q = img + p * 256;

		switch (p % 7) {
		case 1: case 4:
			memset(q, 0xFF, 256);
			break;
		case 5:
			fill_random(q, 256);
			memset(q + 100, 0xFF, 156);
			break;
		default:
			fill_random(q, 256);
		}
	}
}

static void
check_pages(uint32_t addr, const uint8_t *img, uint32_t len)
{
	int twice = 0, blank_programmed = 0, missed = 0;

	T_EQ_MEM(fk.flash + addr, img, len);
	T_FALSE(fk.overlap);
	for (uint32_t p = 0; p < len / 256; p++) {
		int blank = 1;

		for (uint32_t i = 0; i < 256; i++)
			blank &= img[p * 256 + i] == 0xFF;
		twice += fk.programs[addr / 256 + p] > 1;
		blank_programmed += blank && fk.programs[addr / 256 + p] > 0;
		missed += !blank && fk.programs[addr / 256 + p] == 0;
	}
	T_EQ_INT(twice, 0);
	T_EQ_INT(blank_programmed, 0);
	T_EQ_INT(missed, 0);
}

static struct stub st;

static void
stub_setup(void)
{
	if (fk.flash == NULL)
		fk.flash = malloc(FK_SIZE);
	memset(fk.flash, 0x00, FK_SIZE); /* a write without an erase shows */
	memset(fk.programs, 0, sizeof fk.programs);
	fk.overlap = 0;
	buf_free(&fk.tx);
	buf_init(&fk.tx);
	stub_init(&st, &hal);
	buf_reset(&fk.tx); /* OHAI */
}

/* Decoded output leaves in whole pages, each programmed once, whatever the block size; blank
 * pages are never programmed. */
static void
test_stub_pages_once(void)
{
	static const uint32_t blocks[] = { 0x4000, 0x2000, 0x1000, 0x333 };
	uint32_t len = 0x30000;
	uint8_t *img = malloc(len);

	mixed_image(img, len);
	for (size_t b = 0; b < ARRAY_SIZE(blocks); b++) {
		stub_setup();
		defl_session(&st, 0x10000, img, len, blocks[b]);
		check_pages(0x10000, img, len);
	}
	free(img);
}

/* A session that starts and ends inside a page: the partial first and last pages are
 * programmed too, and nothing outside the session changes. */
static void
test_stub_pages_unaligned(void)
{
	uint32_t len = 0x5432, addr = 0x21000;
	uint8_t *img = malloc(len), *before = malloc(FK_SIZE);

	fill_random(img, len);
	stub_setup();
	memcpy(before, fk.flash, FK_SIZE);
	defl_session(&st, addr, img, len, 0x2000);
	T_EQ_MEM(fk.flash + addr, img, len);
	T_EQ_MEM(fk.flash, before, addr);
	/* The rest of the last sector was erased (the stub erases whole sectors), then left. */
	for (uint32_t i = addr + len; i < ((addr + len + 4095) & ~4095u); i++)
		if (fk.flash[i] != 0xFF) {
			T_TRUE(!"byte after the session not erased");
			break;
		}
	T_EQ_MEM(fk.flash + ((addr + len + 4095) & ~4095u), before + ((addr + len + 4095) & ~4095u),
	    FK_SIZE - ((addr + len + 4095) & ~4095u));
	T_FALSE(fk.overlap);
	free(img);
	free(before);
}

/* ---- the engine against espdesk-sim -------------------------------------------------- */

static int
have_sim(const char *name)
{
	if (access(sim_bin(), X_OK) != 0) {
		t_skip(name, "espdesk-sim is not built (src/sim)");
		return 0;
	}
	return 1;
}

static void
on_event(void *arg, const struct flasher_event *ev)
{
	(void)arg;
	if (ev->phase == FLASHER_PH_NOTICE)
		printf("# notice: %s\n", ev->msg ? ev->msg : "");
}

static int
fl_open(struct sim *s, struct flasher **f, int baud, atomic_bool *cancel)
{
	struct flasher_opts o = { .baud = baud, .cb = on_event, .cancel = cancel };

	return sim_flasher_open(s, &o, f);
}

#define CHIP (2 * MB)
#define IMG_OFF 0x40000u
#define IMG_LEN 0xC0000u      /* 768 KB: sectors 0x40..0xFF of the chip */

/*
 * The chip before the write: the image at IMG_OFF, except the sectors listed here (sector
 * numbers within the image), which hold other bytes; random bytes elsewhere. The list splits
 * the write into runs: single sectors, pairs, a stretch across a 64 KB boundary, a stretch of
 * more than one full run (256 KB), the first and the last sector.
 */
static const uint32_t dirty[] = {
	0, 3, 4, 9, 0x1E, 0x1F, 0x20, 0x21, 0x22, 0x35,
	0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x5B, 0x5C,
	0xBF,
};

static uint8_t *
random_image(void)
{
	uint8_t *img = malloc(IMG_LEN);

	fill_random(img, IMG_LEN);
	img[0] = 0x12; /* not an 0xE9 image: no header patch */
	return img;
}

/* How many sectors of the image the dirty list plus [from, to) cover. */
static uint32_t
count_dirty(uint32_t from, uint32_t to)
{
	uint8_t mark[IMG_LEN / 4096];
	uint32_t n = 0;

	memset(mark, 0, sizeof mark);
	for (size_t i = 0; i < ARRAY_SIZE(dirty); i++)
		mark[dirty[i]] = 1;
	for (uint32_t s = from; s < to && s < IMG_LEN / 4096; s++)
		mark[s] = 1;
	for (size_t i = 0; i < sizeof mark; i++)
		n += mark[i];
	return n;
}

/* The chip's first contents: the image, with the listed sectors and [from, to) changed (a
 * range may run past the image's end, where the bytes must stay as they are). */
static uint8_t *
chip_with(const uint8_t *img, const uint32_t *list, size_t n, uint32_t from, uint32_t to)
{
	uint8_t *chip = malloc(CHIP);

	fill_random(chip, CHIP);
	memcpy(chip + IMG_OFF, img, IMG_LEN);
	for (size_t i = 0; i < n; i++)
		fill_random(chip + IMG_OFF + list[i] * 4096u, 4096);
	for (uint32_t s = from; s < to; s++)
		fill_random(chip + IMG_OFF + s * 4096u, 4096);
	return chip;
}

/*
 * Writes img over chip at baud with extra simulator options and checks the result byte for
 * byte, and the written/skipped counts against the number of sectors that differed. With
 * may_fail (heavy faults) the write may also fail, but then it must say why and claim nothing
 * verified, and what it called written or skipped must be on the chip: a second write on a
 * clean line skips all of it and finishes the image.
 */
static void
scattered_case(int baud, const char *const *extra, int may_fail, uint32_t from, uint32_t to)
{
	uint8_t *img = random_image(), *chip = chip_with(img, dirty, ARRAY_SIZE(dirty), from, to);
	uint8_t *flash = NULL;
	uint32_t ndirty = count_dirty(from, to);
	struct flasher_write_result res, r2;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	int rc = RC_ERR_IO;

	memset(&res, 0, sizeof res);
	T_TRUE(sim_start(&s, CHIP, chip, extra) == 0);
	T_EQ_INT(fl_open(&s, &f, baud, NULL), RC_OK);
	if (f != NULL) {
		rc = flasher_write(f, IMG_OFF, img, IMG_LEN, NULL, &res, &cause);
		if (rc < 0)
			printf("# %s\n", cause);
	}
	if (!may_fail || rc == RC_OK || f == NULL)
		T_EQ_INT(rc, RC_OK);
	sim_flasher_done(f);
	if (rc != RC_OK && f != NULL) {
		printf("# failed as allowed; checking what it claimed, then writing again\n");
		T_FALSE(res.verified);
		T_TRUE(cause != NULL && strstr(cause, "run the same command again") != NULL);
		T_TRUE(res.written + res.skipped < IMG_LEN);
		flash = sim_flash(&s);
		sim_stop(&s);
		T_TRUE(flash != NULL && sim_start(&s, CHIP, flash, NULL) == 0);
		free(flash);
		flash = NULL;
		f = NULL;
		T_EQ_INT(fl_open(&s, &f, baud, NULL), RC_OK);
		rc = RC_ERR_IO;
		if (f != NULL)
			rc = flasher_write(f, IMG_OFF, img, IMG_LEN, NULL, &r2, &cause);
		T_EQ_INT(rc, RC_OK);
		sim_flasher_done(f);
		if (rc == RC_OK)
			T_TRUE(r2.skipped >= res.written + res.skipped);
		res = r2;
		/* The second write's counts are about the first one's leftovers. */
		ndirty = (IMG_LEN - r2.skipped) / 4096u;
	}
	memcpy(chip + IMG_OFF, img, IMG_LEN);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL);
	if (flash != NULL)
		T_EQ_MEM(flash, chip, CHIP);
	if (rc == RC_OK) {
		T_TRUE(res.verified);
		/* No sector of this image is blank, so nothing is widened: exact counts. */
		T_EQ_INT(res.written, ndirty * 4096u);
		T_EQ_INT(res.skipped, IMG_LEN - ndirty * 4096u);
	}
	free(flash);
	free(cause);
	sim_stop(&s);
	free(img);
	free(chip);
}

static void
test_scattered_921600(void)
{
	scattered_case(921600, NULL, 0, 0x80, 0xC5);
}

static void
test_scattered_115200_latency(void)
{
	static const char *const ex[] = { "--usb-latency", "16", NULL };

	scattered_case(115200, ex, 0, 0, 0);
}

static void
test_scattered_faults(void)
{
	static const char *const ex1[] = { "--faults", "corrupt=0.00002,drop=0.00001", "--seed",
		"21", NULL };
	static const char *const ex2[] = { "--faults", "drop=0.0001", "--seed", "4", NULL };
	static const char *const ex3[] = { "--faults", "corrupt=0.0001", "--seed", "9", NULL };

	/* The rates test_flasher_sim's write uses: the write must get through. */
	scattered_case(921600, ex1, 0, 0x80, 0xC5);
	/* Ten times that: it may give up, but only honestly. */
	scattered_case(921600, ex2, 1, 0x80, 0xA0);
	scattered_case(921600, ex3, 1, 0x60, 0x70);
}

/*
 * Blank sectors. Block 0x10000 of the image: 5 sectors of data, the other 11 blank in the file
 * and on the chip: the run takes the whole block (one block erase). Block 0x30000: 5 sectors
 * of data and 11 blank in the file, but one of them holds old bytes on the chip: it must be
 * written (to 0xFF), never skipped, and the block cannot be widened.
 */
static void
test_blank_sectors(void)
{
	uint8_t *img = malloc(IMG_LEN), *chip = malloc(CHIP), *flash;
	struct flasher_write_result res;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	int rc = RC_ERR_IO;

	fill_random(img, IMG_LEN);
	img[0] = 0x12;
	memset(img + 0x10000, 0xFF, 0x10000);
	memset(img + 0x30000, 0xFF, 0x10000);
	fill_random(img + 0x13000, 0x5000);
	fill_random(img + 0x30000, 0x5000);
	fill_random(chip, CHIP);
	memcpy(chip + IMG_OFF, img, IMG_LEN);
	memset(chip + IMG_OFF + 0x10000, 0xFF, 0x10000);      /* data sectors erased */
	memset(chip + IMG_OFF + 0x30000, 0xFF, 0x5000);
	fill_random(chip + IMG_OFF + 0x3C000, 0x1000);        /* old bytes where the file is blank */
	T_TRUE(sim_start(&s, CHIP, chip, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 921600, NULL), RC_OK);
	if (f != NULL) {
		rc = flasher_write(f, IMG_OFF, img, IMG_LEN, NULL, &res, &cause);
		if (rc < 0)
			printf("# %s\n", cause);
	}
	T_EQ_INT(rc, RC_OK);
	sim_flasher_done(f);
	memcpy(chip + IMG_OFF, img, IMG_LEN);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL && memcmp(flash, chip, CHIP) == 0);
	if (rc == RC_OK) {
		T_TRUE(res.verified);
		T_EQ_INT(res.written + res.skipped, IMG_LEN);
		/* The 64 KB block (widened), then 5 data sectors and the one with old bytes. */
		T_EQ_INT(res.written, 0x10000 + 6 * 4096);
	}
	free(flash);
	free(cause);
	sim_stop(&s);
	free(img);
	free(chip);
}

/*
 * A write through the fault switches ex that must stop (rc1, cause1: the caller's checks),
 * then the same write after the power comes back (a new simulator on the flash file as the
 * fault left it): it must finish, verified, and the flash must be chip with img at IMG_OFF,
 * byte for byte. r1 and r2 are the two results for the caller's checks.
 */
static void
stopped_then_finished(const char *const *ex, uint8_t *img, uint8_t *chip, int *rc1,
    char **cause1, struct flasher_write_result *r1, struct flasher_write_result *r2)
{
	uint8_t *flash;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	int rc = RC_ERR_IO;

	memset(r1, 0, sizeof *r1);
	memset(r2, 0, sizeof *r2);
	T_TRUE(sim_start(&s, CHIP, chip, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 921600, NULL), RC_OK);
	*rc1 = RC_ERR_IO;
	*cause1 = NULL;
	if (f != NULL)
		*rc1 = flasher_write(f, IMG_OFF, img, IMG_LEN, NULL, r1, cause1);
	if (*cause1 != NULL)
		printf("# %s\n", *cause1);
	flasher_close(f);
	f = NULL;
	flash = sim_flash(&s);
	sim_stop(&s);
	T_TRUE(flash != NULL);
	if (flash == NULL)
		return;
	T_TRUE(sim_start(&s, CHIP, flash, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 921600, NULL), RC_OK);
	if (f != NULL)
		rc = flasher_write(f, IMG_OFF, img, IMG_LEN, NULL, r2, &cause);
	T_EQ_INT(rc, RC_OK);
	T_TRUE(rc != RC_OK || r2->verified);
	sim_flasher_done(f);
	free(flash);
	free(cause);
	memcpy(chip + IMG_OFF, img, IMG_LEN);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL && memcmp(flash, chip, CHIP) == 0);
	free(flash);
	sim_stop(&s);
}

/* A pulled cable mid-write, then the same write on a fresh connection: what the first one
 * called written or skipped is on the chip (the second skips all of it), and the result is
 * byte for byte the image. */
static void
test_cable_pulled_resume(void)
{
	static const char *const ex[] = { "--faults", "cut-after=200000", NULL };
	uint8_t *img = random_image(), *chip = chip_with(img, dirty, ARRAY_SIZE(dirty), 0x80, 0xC5);
	struct flasher_write_result r1, r2;
	char *cause = NULL;
	int rc;

	stopped_then_finished(ex, img, chip, &rc, &cause, &r1, &r2);
	T_EQ_INT(rc, RC_ERR_GONE);
	T_FALSE(r1.verified);
	T_TRUE(cause != NULL && strstr(cause, "run the command again") != NULL);
	T_TRUE(r2.skipped >= r1.written + r1.skipped);
	T_EQ_INT(r2.written + r2.skipped, IMG_LEN);
	free(cause);
	free(img);
	free(chip);
}

/* Power lost in the middle of a page program: the write fails and says so; after a power
 * cycle the same write finishes and the flash is the image. */
static void
test_power_loss_write(void)
{
	static const char *const ex[] = { "--faults", "power-loss=write", NULL };
	uint8_t *img = random_image(), *chip = chip_with(img, dirty, ARRAY_SIZE(dirty), 0, 0);
	struct flasher_write_result r1, r2;
	char *cause = NULL;
	int rc;

	stopped_then_finished(ex, img, chip, &rc, &cause, &r1, &r2);
	T_TRUE(rc != RC_OK);
	T_FALSE(r1.verified);
	T_TRUE(cause != NULL && strstr(cause, "power") != NULL);
	free(cause);
	free(img);
	free(chip);
}

struct canceller {
	atomic_bool *flag;
	int after_ms;
	int64_t at_ms;
};

static void *
cancel_later(void *arg)
{
	struct canceller *c = arg;

	clock_sleep_ms(c->after_ms);
	c->at_ms = clock_now_ms();
	atomic_store(c->flag, 1);
	return NULL;
}

/* A cancel in the middle of a pipelined write returns RC_ERR_CANCEL, claims nothing verified,
 * and leaves a session in which the same write then finishes. */
static void
test_cancel_then_finish(void)
{
	static const char *const ex[] = { "--speed", "real", NULL };
	uint8_t *img = random_image(), *chip = chip_with(img, dirty, ARRAY_SIZE(dirty), 0, 0);
	uint8_t *flash;
	atomic_bool flag = 0;
	struct canceller cc = { &flag, 400, 0 };
	struct flasher_write_result res;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	pthread_t th;
	int rc = RC_ERR_IO;

	T_TRUE(sim_start(&s, CHIP, chip, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 921600, &flag), RC_OK);
	if (f != NULL) {
		pthread_create(&th, NULL, cancel_later, &cc);
		rc = flasher_write(f, IMG_OFF, img, IMG_LEN, NULL, &res, &cause);
		/* Reported, not asserted (no timing in unit tests; bench/ measures speed). */
		printf("# returned %lld ms after the cancel\n",
		    (long long)(clock_now_ms() - cc.at_ms));
		pthread_join(th, NULL);
		T_EQ_INT(rc, RC_ERR_CANCEL);
		T_FALSE(res.verified);
		free(cause);
		cause = NULL;
		atomic_store(&flag, 0);
		rc = flasher_write(f, IMG_OFF, img, IMG_LEN, NULL, &res, &cause);
		if (rc < 0)
			printf("# %s\n", cause);
		T_EQ_INT(rc, RC_OK);
		T_TRUE(res.verified);
	}
	sim_flasher_done(f);
	memcpy(chip + IMG_OFF, img, IMG_LEN);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL && memcmp(flash, chip, CHIP) == 0);
	free(flash);
	free(cause);
	sim_stop(&s);
	free(img);
	free(chip);
}

int
main(void)
{
	static const struct { void (*fn)(void); const char *name; int sim; } cases[] = {
#define C(x, sim) { x, #x, sim }
		C(test_stub_pages_once, 0), C(test_stub_pages_unaligned, 0),
		C(test_scattered_921600, 1), C(test_scattered_115200_latency, 1),
		C(test_scattered_faults, 1), C(test_blank_sectors, 1),
		C(test_cable_pulled_resume, 1), C(test_power_loss_write, 1),
		C(test_cancel_then_finish, 1),
#undef C
	};
	const char *only = getenv("FLASHER_TEST");

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (only != NULL && strstr(cases[i].name, only) == NULL)
			continue;
		if (cases[i].sim && !have_sim(cases[i].name))
			continue;
		t_begin_();
		cases[i].fn();
		t_end_(cases[i].name);
	}
	buf_free(&fk.tx);
	free(fk.flash);
	return t_done();
}
