/*
 * test_flasher_sim.c: the flasher engine against the real espdesk-sim binary over a pty.
 *
 * Every case starts its own simulator (--speed fast --download, a flash file in a temporary
 * directory, a control socket) and checks the result against the flash file the simulator
 * keeps, byte for byte; expected erase ranges come from protocol.md §7.3. Fault cases check
 * that a backup is identical or the call fails, and that nothing unverified is called verified.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "flasher/flasher.h"
#include "tap.h"

#include "flasher/flasher_simh.h"

static int
have_sim(const char *name)
{
	if (access(sim_bin(), X_OK) != 0) {
		t_skip(name, "espdesk-sim is not built (src/sim)");
		return 0;
	}
	return 1;
}

struct evlog {
	int notices, verify_events;
	char last_notice[512];
};

static void
on_event(void *arg, const struct flasher_event *ev)
{
	struct evlog *l = arg;

	if (l == NULL)
		return;
	if (ev->phase == FLASHER_PH_NOTICE) {
		l->notices++;
		snprintf(l->last_notice, sizeof l->last_notice, "%s", ev->msg ? ev->msg : "");
		printf("# notice: %s\n", ev->msg ? ev->msg : "");
	}
	if (ev->phase == FLASHER_PH_VERIFY)
		l->verify_events++;
}

static int
fl_open(struct sim *s, struct flasher **f, int baud, int no_stub, struct evlog *log,
    atomic_bool *cancel)
{
	struct flasher_opts o = { .baud = baud, .no_stub = no_stub, .cb = on_event, .cb_arg = log,
	    .cancel = cancel };

	return sim_flasher_open(s, &o, f);
}

/* A sink that collects into a buffer. */
struct collect {
	uint8_t *buf;
	uint32_t base, len;
	uint32_t next;
	int out_of_order;
};

static int
collect_sink(void *arg, uint32_t addr, const uint8_t *data, size_t len)
{
	struct collect *c = arg;

	if (addr != c->next || addr - c->base + len > c->len)
		c->out_of_order = 1;
	else
		memcpy(c->buf + (addr - c->base), data, len);
	c->next = addr + (uint32_t)len;
	return 0;
}

/* --- identify --------------------------------------------------------------------------- */

static void
test_ident_esp8266_4mb(void)
{
	static const char *const ex[] = { "--chip", "esp8266", "--flash-id", "0xEF4016",
		"--mac", "18:fe:34:a1:b2:c3", NULL };
	struct sim s;
	struct flasher *f = NULL;
	const struct flasher_info *in;

	T_TRUE(sim_start(&s, 4 * MB, NULL, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 115200, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		in = flasher_info(f);
		T_EQ_STR(in->chip, "ESP8266EX");
		T_FALSE(in->esp8285);
		T_EQ_HEX(in->mac[0], 0x18); T_EQ_HEX(in->mac[1], 0xFE); T_EQ_HEX(in->mac[2], 0x34);
		T_EQ_HEX(in->mac[3], 0xA1); T_EQ_HEX(in->mac[4], 0xB2); T_EQ_HEX(in->mac[5], 0xC3);
		/* §8.4: chip_id = mac0>>24 | (mac1 & 0xFFFFFF) << 8: the MAC's last three bytes. */
		T_EQ_HEX(in->chip_id, 0x00A1B2C3);
		T_EQ_HEX(in->jedec, 0x1640EF);   /* §9.2: W0 = 0x001640EF for a W25Q32 */
		T_EQ_INT(in->flash_size, 4 * MB);
		T_EQ_STR(in->vendor, "Winbond");
		T_EQ_INT(in->xtal_mhz, 26);
		T_TRUE(in->stub);
		T_EQ_INT(in->baud, 115200);
	}
	sim_flasher_done(f);
	sim_stop(&s);
}

static void
test_ident_esp8285_1mb(void)
{
	static const char *const ex[] = { "--chip", "esp8285", "--flash-id", "0x514014", NULL };
	struct sim s;
	struct flasher *f = NULL;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		const struct flasher_info *in = flasher_info(f);

		T_TRUE(in->esp8285);
		T_TRUE(strncmp(in->chip, "ESP8285", 7) == 0);
		T_EQ_HEX(in->jedec, 0x144051);   /* devices.md §5c: 0x51 / 0x4014 */
		T_EQ_INT(in->flash_size, 1 * MB);
		T_TRUE(in->vendor == NULL);
		T_EQ_INT(in->baud, 921600);      /* the top of the ladder by default */
	}
	sim_flasher_done(f);
	sim_stop(&s);
}

/* --- read ------------------------------------------------------------------------------- */

static void
read_case_n(uint32_t fsize, uint32_t size, int baud, const char *const *extra, int faults)
{
	uint8_t *init = malloc(fsize);
	struct collect c = { malloc(size), 0, size, 0, 0 };
	struct sim s;
	struct flasher *f = NULL;
	struct evlog log;
	char *cause = NULL;
	int rc;

	memset(&log, 0, sizeof log);
	fill_random(init, fsize);
	/* Bytes the SLIP layer must escape, in runs. */
	memset(init + 0x1234, 0xC0, 300);
	memset(init + 0x5678, 0xDB, 300);
	T_TRUE(sim_start(&s, fsize, init, extra) == 0);
	T_EQ_INT(fl_open(&s, &f, baud, 0, &log, NULL), RC_OK);
	if (f != NULL) {
		rc = flasher_read(f, 0, size, collect_sink, &c, &cause);
		if (faults == 2 && rc != RC_OK) {
			/* Allowed: a clear failure. Never a wrong backup. */
			printf("# read failed as allowed: %s\n", cause);
			T_TRUE(cause != NULL && strlen(cause) > 20);
			T_TRUE(c.next < size);
		} else {
			T_EQ_INT(rc, RC_OK);
			if (rc != RC_OK)
				printf("# %s\n", cause);
			T_FALSE(c.out_of_order);
			T_EQ_HEX(c.next, size);
			T_EQ_MEM(c.buf, init, size);
		}
		/* Whatever reached the sink is byte-identical. */
		T_EQ_MEM(c.buf, init, c.next < size ? c.next : size);
	}
	free(cause);
	sim_flasher_done(f);
	sim_stop(&s);
	free(init);
	free(c.buf);
}

static void
read_case(uint32_t size, int baud, const char *const *extra, int faults)
{
	read_case_n(size, size, baud, extra, faults);
}

static void test_read_1mb_115200(void) { read_case(1 * MB, 115200, NULL, 0); }
static void test_read_2mb_921600(void) { read_case(2 * MB, 921600, NULL, 0); }

static void
test_read_4mb_latency(void)
{
	static const char *const ex[] = { "--usb-latency", "16", NULL };

	read_case(4 * MB, 921600, ex, 0);
}

static void
test_read_16mb_part(void)
{
	static const char *const ex[] = { "--flash-id", "0xEF4018", NULL };
	uint8_t *init = malloc(16 * MB);
	struct collect c = { malloc(0x30000), 0xFC0000, 0x30000, 0xFC0000, 0 };
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	fill_random(init, 16 * MB);
	T_TRUE(sim_start(&s, 16 * MB, init, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 921600, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		T_EQ_INT(flasher_info(f)->flash_size, 16 * MB);
		/* The last 256 KB of a 16 MB chip: addresses above 4 MB work through the stub. */
		T_EQ_INT(flasher_read(f, 0xFC0000, 0x30000, collect_sink, &c, &cause), RC_OK);
		T_EQ_MEM(c.buf, init + 0xFC0000, 0x30000);
		/* Past the end is refused with a message. */
		T_EQ_INT(flasher_read(f, 0xFF0000, 0x20000, collect_sink, &c, &cause), RC_ERR_ARG);
		T_CONTAINS(cause, "16384 KB");
	}
	free(cause);
	sim_flasher_done(f);
	sim_stop(&s);
	free(init);
	free(c.buf);
}

static void
test_read_faults_corrupt(void)
{
	static const char *const ex[] = { "--faults", "corrupt=0.00002", "--seed", "7", NULL };

	read_case(1 * MB, 921600, ex, 1);
}

static void
test_read_faults_heavy(void)
{
	static const char *const ex[] = { "--faults", "drop=0.0005,corrupt=0.0005", "--seed", "5",
		NULL };

	/* A line this bad may defeat the retries: then the read must fail and say so. */
	read_case_n(1 * MB, 256 * 1024, 921600, ex, 2);
}

static void
test_read_faults_drop(void)
{
	static const char *const ex[] = { "--faults", "drop=0.00002", "--seed", "11", NULL };

	read_case(1 * MB, 921600, ex, 1);
}

static void
test_read_cable_pulled(void)
{
	static const char *const ex[] = { "--faults", "cut-after=300000", NULL };
	uint8_t *init = malloc(1 * MB);
	struct collect c = { malloc(1 * MB), 0, 1 * MB, 0, 0 };
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	fill_random(init, 1 * MB);
	T_TRUE(sim_start(&s, 1 * MB, init, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 921600, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		int rc = flasher_read(f, 0, 1 * MB, collect_sink, &c, &cause);

		T_EQ_INT(rc, RC_ERR_GONE);
		T_CONTAINS(cause, "cable");
		T_TRUE(c.next < 1 * MB);
		T_EQ_INT(c.next % FLASHER_REGION, 0);
		T_EQ_MEM(c.buf, init, c.next);
		flasher_close(f);
	}
	free(cause);
	sim_stop(&s);
	free(init);
	free(c.buf);
}

/* Cancels from another thread after a while. */
struct canceller {
	atomic_bool *flag;
	int ms;
};

static void *
cancel_later(void *arg)
{
	struct canceller *c = arg;

	clock_sleep_ms(c->ms);
	atomic_store(c->flag, 1);
	return NULL;
}

static void
test_read_cancel(void)
{
	static const char *const ex[] = { "--speed", "real", NULL };
	struct sim s;
	struct flasher *f = NULL;
	struct collect c = { malloc(1 * MB), 0, 1 * MB, 0, 0 };
	atomic_bool flag = 0;
	char *cause = NULL;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 115200, 0, NULL, &flag), RC_OK);
	if (f != NULL) {
		struct canceller cc = { &flag, 300 };
		pthread_t th;

		pthread_create(&th, NULL, cancel_later, &cc);
		T_EQ_INT(flasher_read(f, 0, 1 * MB, collect_sink, &c, &cause), RC_ERR_CANCEL);
		pthread_join(th, NULL);
		T_CONTAINS(cause, "cancelled");
		flasher_close(f);
	}
	free(cause);
	free(c.buf);
	sim_stop(&s);
}

/* --- write, verify ---------------------------------------------------------------------- */

/* 1 MB shaped like a stock Sonoff dump: code and data in the first half, the rest erased, a
 * few scattered config sectors near the end. */
static uint8_t *
sonoff_image(void)
{
	uint8_t *img = malloc(1 * MB);

	memset(img, 0xFF, 1 * MB);
	for (uint32_t i = 0; i < 0x80000; i++)
		img[i] = (uint8_t)((i % 97 < 60) ? "espdesk sonoff basic firmware "[i % 30] : rnd());
	fill_random(img + 0xFB000, 0x1000);
	img[0xFC000] = 0x05;
	return img;
}

static void
write_case(int baud, const char *const *extra)
{
	uint8_t *img = sonoff_image(), *flash;
	struct flasher_write_result res;
	struct sim s;
	struct flasher *f = NULL;
	struct evlog log;
	char *cause = NULL;
	int rc;

	memset(&log, 0, sizeof log);
	T_TRUE(sim_start(&s, 1 * MB, NULL, extra) == 0);
	T_EQ_INT(fl_open(&s, &f, baud, 0, &log, NULL), RC_OK);
	if (f != NULL) {
		rc = flasher_write(f, 0, img, 1 * MB, NULL, &res, &cause);
		T_EQ_INT(rc, RC_OK);
		if (rc < 0)
			printf("# %s\n", cause);
		T_TRUE(res.verified);
		/* The erased half was already 0xFF on the blank chip: skipped. */
		T_TRUE(res.skipped >= 0x70000);
		T_EQ_INT(res.written + res.skipped, 1 * MB);
		T_FALSE(res.patched);
		/* Writing the same again: nothing left to write. */
		rc = flasher_write(f, 0, img, 1 * MB, NULL, &res, &cause);
		T_EQ_INT(rc, RC_OK);
		T_EQ_INT(res.written, 0);
		T_EQ_INT(res.skipped, 1 * MB);
		T_TRUE(res.verified);
		T_EQ_INT(flasher_verify(f, 0, img, 1 * MB, NULL, &cause), RC_OK);
	}
	sim_flasher_done(f);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL);
	if (flash != NULL)
		T_EQ_MEM(flash, img, 1 * MB);
	free(flash);
	free(cause);
	sim_stop(&s);
	free(img);
}

static void test_write_1mb_115200(void) { write_case(115200, NULL); }
static void test_write_1mb_921600(void) { write_case(921600, NULL); }

static void
test_write_latency(void)
{
	static const char *const ex[] = { "--usb-latency", "16", NULL };

	write_case(921600, ex);
}

static void
test_write_faults(void)
{
	static const char *const ex[] = { "--faults", "corrupt=0.00002,drop=0.00001", "--seed", "3",
		NULL };
	uint8_t *img = sonoff_image(), *flash;
	struct flasher_write_result res;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	int rc;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 921600, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		rc = flasher_write(f, 0, img, 1 * MB, NULL, &res, &cause);
		sim_flasher_done(f);
		flash = sim_flash(&s);
		T_TRUE(flash != NULL);
		/* The retries get it through, and verified means verified. */
		T_EQ_INT(rc, RC_OK);
		if (rc != RC_OK)
			printf("# %s\n", cause);
		T_TRUE(res.verified);
		T_TRUE(flash != NULL && memcmp(flash, img, 1 * MB) == 0);
		free(flash);
	}
	free(cause);
	sim_stop(&s);
	free(img);
}

static void
test_write_header_patch(void)
{
	uint8_t img[0x2000], *flash;
	struct flasher_write_result res;
	struct flasher_hdr dout_1mb = { 3, 2, -1 };
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	size_t pos = 8;
	uint8_t ck = 0xEF;

	/* A valid v1 image (§12.1-12.3): E9, 1 segment, QIO, 512KB/40m. */
	memset(img, 0, sizeof img);
	img[0] = 0xE9; img[1] = 1; img[2] = 0; img[3] = 0;
	wr_le32(img + 4, 0x40100004);
	wr_le32(img + 8, 0x40100000);
	wr_le32(img + 12, 0x100);
	pos = 16;
	for (int i = 0; i < 0x100; i++) {
		img[pos] = (uint8_t)i;
		ck ^= img[pos++];
	}
	while (pos % 16 != 15)
		img[pos++] = 0;
	img[pos++] = ck;
	T_TRUE(sim_start(&s, 1 * MB, NULL, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		T_EQ_INT(flasher_write(f, 0, img, pos, &dout_1mb, &res, &cause), RC_OK);
		T_TRUE(res.patched);
		T_EQ_HEX(res.params, 0x0320);
		/* Not at 0x0: never patched. */
		T_EQ_INT(flasher_write(f, 0x10000, img, pos, &dout_1mb, &res, &cause), RC_OK);
		T_FALSE(res.patched);
		/* verify with the same options passes; without them it fails. */
		T_EQ_INT(flasher_verify(f, 0, img, pos, &dout_1mb, &cause), RC_OK);
		free(cause);
		cause = NULL;
		T_EQ_INT(flasher_verify(f, 0, img, pos, NULL, &cause), RC_ERR_VERIFY);
		T_CONTAINS(cause, "0x0");
	}
	sim_flasher_done(f);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL);
	if (flash != NULL) {
		T_EQ_HEX(flash[2], 0x03);
		T_EQ_HEX(flash[3], 0x20);
		T_EQ_MEM(flash + 4, img + 4, pos - 4);
		T_EQ_MEM(flash + 0x10000, img, pos);
		/* pos was a multiple of 16: no padding beyond it. */
		T_EQ_HEX(flash[pos], 0xFF);
	}
	free(flash);
	free(cause);
	sim_stop(&s);
}

static void
test_write_refusals(void)
{
	uint8_t img[16] = { 1 };
	struct flasher_write_result res;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	T_TRUE(sim_start(&s, 1 * MB, NULL, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		T_EQ_INT(flasher_write(f, 0, img, 0, NULL, &res, &cause), RC_ERR_ARG);
		T_CONTAINS(cause, "empty");
		free(cause);
		T_EQ_INT(flasher_write(f, 0xFF000, img, 0x1001, NULL, &res, &cause), RC_ERR_ARG);
		T_CONTAINS(cause, "past the end");
	}
	sim_flasher_done(f);
	free(cause);
	sim_stop(&s);
}

static void
test_verify_mismatch(void)
{
	uint8_t *init = malloc(1 * MB), *file = malloc(0x20000);
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	fill_random(init, 1 * MB);
	memcpy(file, init + 0x40000, 0x20000);
	file[0x13456] ^= 1;
	T_TRUE(sim_start(&s, 1 * MB, init, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		T_EQ_INT(flasher_verify(f, 0x40000, init + 0x40000, 0x20000, NULL, &cause), RC_OK);
		T_EQ_INT(flasher_verify(f, 0x40000, file, 0x20000, NULL, &cause), RC_ERR_VERIFY);
		T_CONTAINS(cause, "0x53000");
	}
	sim_flasher_done(f);
	free(cause);
	sim_stop(&s);
	free(init);
	free(file);
}

/* --- ROM only --------------------------------------------------------------------------- */

static void
test_rom_write_erase_bug(void)
{
	uint8_t *init = malloc(1 * MB), data[128], *flash;
	struct flasher_write_result res;
	struct sim s;
	struct flasher *f = NULL;
	struct evlog log;
	char *cause = NULL;
	int rc;

	memset(&log, 0, sizeof log);
	fill_random(init, 1 * MB);
	fill_random(data, sizeof data);
	T_TRUE(sim_start(&s, 1 * MB, init, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 921600, 1, &log, NULL), RC_OK);
	if (f != NULL) {
		T_FALSE(flasher_info(f)->stub);
		T_EQ_INT(flasher_info(f)->baud, 115200);  /* the ROM cannot change baud (§1) */
		/* init data at 0xFC000 (§7.3 row): the ROM also wipes 0xFD000. */
		rc = flasher_write(f, 0xFC000, data, sizeof data, NULL, &res, &cause);
		T_EQ_INT(rc, RC_OK);
		T_FALSE(res.verified);
		T_CONTAINS(log.last_notice, "0xfd000..0xfdfff");
		/* ROM-only: no read, no MD5, no verify. */
		T_EQ_INT(flasher_verify(f, 0xFC000, data, sizeof data, NULL, &cause), RC_ERR_NOTSUP);
		T_CONTAINS(cause, "Nothing was verified");
		free(cause);
		cause = NULL;
		/* An odd single sector cannot be erased exactly by the ROM: refused. */
		T_EQ_INT(flasher_erase_region(f, 0x3000, 0x1000, &cause), RC_ERR_NOTSUP);
		free(cause);
		cause = NULL;
		/* Two sectors inside a block: exact (§7.3 row 0x0/0x2000). */
		T_EQ_INT(flasher_erase_region(f, 0x20000, 0x2000, &cause), RC_OK);
	}
	sim_flasher_done(f);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL);
	if (flash != NULL) {
		T_EQ_MEM(flash + 0xFC000, data, sizeof data);
		for (uint32_t a = 0xFC000 + sizeof data; a < 0xFE000; a++)
			if (flash[a] != 0xFF) {
				T_CHECK_(0, "0x%x is 0x%02x, expected 0xFF (erased)", a, flash[a]);
				break;
			}
		T_EQ_MEM(flash + 0xFE000, init + 0xFE000, 0x2000);
		T_EQ_MEM(flash + 0xFB000, init + 0xFB000, 0x1000);
		T_EQ_MEM(flash + 0x1F000, init + 0x1F000, 0x1000);
		T_EQ_HEX(flash[0x20000], 0xFF);
		T_EQ_HEX(flash[0x21FFF], 0xFF);
		T_EQ_MEM(flash + 0x22000, init + 0x22000, 0x1000);
	}
	free(flash);
	free(cause);
	sim_stop(&s);
	free(init);
}

static void
test_rom_write_image(void)
{
	uint8_t *init = malloc(1 * MB), *img = malloc(0x23000), *flash;
	struct flasher_write_result res;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	fill_random(init, 1 * MB);
	fill_random(img, 0x23000);
	T_TRUE(sim_start(&s, 1 * MB, init, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 1, NULL, NULL), RC_OK);
	if (f != NULL) {
		/* 0x1000 + 0x23000: 35 sectors from sector 1, N >= 2H: exact (§7.2). */
		T_EQ_INT(flasher_write(f, 0x1000, img, 0x23000 - 5, NULL, &res, &cause), RC_OK);
		T_FALSE(res.verified);
	}
	sim_flasher_done(f);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL);
	if (flash != NULL) {
		T_EQ_MEM(flash + 0x1000, img, 0x23000 - 5);
		T_EQ_MEM(flash, init, 0x1000);
		T_EQ_MEM(flash + 0x24000, init + 0x24000, 0x1000);
	}
	free(flash);
	free(cause);
	sim_stop(&s);
	free(init);
	free(img);
}

static void
test_rom_erase_chip(void)
{
	uint8_t *init = malloc(1 * MB), *flash;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	fill_random(init, 1 * MB);
	T_TRUE(sim_start(&s, 1 * MB, init, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 1, NULL, NULL), RC_OK);
	/* Without the stub: FLASH_BEGIN over the whole chip, compensated (§7.3 row 0x0/0x100000). */
	if (f != NULL)
		T_EQ_INT(flasher_erase_chip(f, &cause), RC_OK);
	sim_flasher_done(f);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL);
	if (flash != NULL) {
		size_t i = 0;

		while (i < 1 * MB && flash[i] == 0xFF)
			i++;
		T_EQ_HEX(i, 1 * MB);
	}
	free(flash);
	free(cause);
	sim_stop(&s);
	free(init);
}

static void
test_dead_flash(void)
{
	static const char *const ex[] = { "--flash-id", "0xFFFFFF", NULL };
	uint8_t data[4096] = { 0 };
	struct flasher_write_result res;
	struct collect c = { malloc(0x10000), 0, 0x10000, 0, 0 };
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		T_EQ_HEX(flasher_info(f)->jedec, 0xFFFFFF);
		T_TRUE(flasher_chip_jedec_dead(flasher_info(f)->jedec));
		/* §9.2: 0xFFFFFF means the flash is not answering; nothing is read or written. */
		T_EQ_INT(flasher_read(f, 0, 0x10000, collect_sink, &c, &cause), RC_ERR_DEVICE);
		T_CONTAINS(cause, "not answering");
		T_CONTAINS(cause, "3.3 V");
		free(cause);
		cause = NULL;
		T_EQ_INT(flasher_write(f, 0, data, sizeof data, NULL, &res, &cause), RC_ERR_DEVICE);
		T_CONTAINS(cause, "nothing was written");
		T_EQ_INT(c.next, 0);
	}
	sim_flasher_done(f);
	free(cause);
	free(c.buf);
	sim_stop(&s);
}

/* --- erase ------------------------------------------------------------------------------ */

static void
test_erase_stub(void)
{
	uint8_t *init = malloc(2 * MB), *flash;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	fill_random(init, 2 * MB);
	T_TRUE(sim_start(&s, 2 * MB, init, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		T_EQ_INT(flasher_erase_region(f, 0x13000, 0x1000, &cause), RC_OK);
		T_EQ_INT(flasher_erase_region(f, 0x13001, 0x1000, &cause), RC_ERR_ARG);
		free(cause);
		cause = NULL;
	}
	sim_flasher_done(f);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL);
	if (flash != NULL) {
		T_EQ_MEM(flash + 0x12000, init + 0x12000, 0x1000);
		T_EQ_HEX(flash[0x13000], 0xFF);
		T_EQ_HEX(flash[0x13FFF], 0xFF);
		T_EQ_MEM(flash + 0x14000, init + 0x14000, 0x1000);
	}
	free(flash);
	/* The whole chip. */
	sim_stop(&s);
	T_TRUE(sim_start(&s, 2 * MB, init, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL)
		T_EQ_INT(flasher_erase_chip(f, &cause), RC_OK);
	sim_flasher_done(f);
	flash = sim_flash(&s);
	T_TRUE(flash != NULL);
	if (flash != NULL) {
		size_t i = 0;

		while (i < 2 * MB && flash[i] == 0xFF)
			i++;
		T_EQ_HEX(i, 2 * MB);
	}
	free(flash);
	free(cause);
	sim_stop(&s);
	free(init);
}

static void
test_erase_power_loss(void)
{
	static const char *const ex[] = { "--faults", "power-loss=erase", NULL };
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		int rc = flasher_erase_chip(f, &cause);

		/* The chip either goes silent or reports the failed SPI operation. */
		T_TRUE(rc == RC_ERR_TIMEOUT || rc == RC_ERR_GONE || rc == RC_ERR_DEVICE);
		T_CONTAINS(cause, "erasing");
		T_CONTAINS(cause, "erase again");
		flasher_close(f);
	}
	free(cause);
	sim_stop(&s);
}

/* --- connect ---------------------------------------------------------------------------- */

static void
test_connect_not_in_download_mode(void)
{
	struct sim s;
	struct flasher *f = NULL;
	struct flasher_opts o;
	char *cause = NULL;

	/* GPIO0 high at power-on: the chip boots from flash and never answers SYNC. */
	sim_no_download = 1;
	T_TRUE(sim_start(&s, 1 * MB, NULL, NULL) == 0);
	sim_no_download = 0;
	memset(&o, 0, sizeof o);
	o.port = s.pty;
	o.before = FLASHER_BEFORE_DEFAULT;
	o.connect_ms = 1500;
	T_EQ_INT(flasher_open(&o, &f, &cause), RC_ERR_TIMEOUT);
	T_CONTAINS(cause, "timed out waiting for packet header");
	T_CONTAINS(cause, "--before manual");
	T_TRUE(f == NULL);
	free(cause);
	sim_stop(&s);
}

static void
test_stuck_gpio0_after_reset(void)
{
	char port[16];
	const char *ex[] = { "--rfc2217", port, "--faults", "stuck-gpio0", NULL };
	struct sim s;
	struct flasher *f = NULL;
	struct flasher_opts o;
	struct evlog log;
	char *cause = NULL;

	/* Over RFC 2217 the DTR/RTS lines reach the simulator's auto-reset circuit. */
	snprintf(port, sizeof port, "%d", 20000 + (int)(getpid() % 20000));
	memset(&log, 0, sizeof log);
	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	memset(&o, 0, sizeof o);
	o.port = s.pty;
	o.before = FLASHER_BEFORE_DEFAULT;
	o.after = FLASHER_AFTER_HARD_RESET;
	o.cb = on_event;
	o.cb_arg = &log;
	o.connect_ms = 5000;
	T_EQ_INT(flasher_open(&o, &f, &cause), RC_OK);
	if (f != NULL) {
		T_EQ_INT(flasher_finish(f, &cause), RC_OK);
		/* GPIO0 stuck low: the reset lands in download mode again, and we say so. */
		T_CONTAINS(log.last_notice, "download mode (boot mode 1)");
		flasher_close(f);
	} else
		printf("# %s\n", cause);
	free(cause);
	sim_stop(&s);
}

static void
test_reconnect_running_stub(void)
{
	struct sim s;
	struct flasher *f = NULL;

	/* A session that dies without its --after action leaves the stub at 921600 ... */
	T_TRUE(sim_start(&s, 1 * MB, NULL, NULL) == 0);
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	flasher_close(f);
	f = NULL;
	/* ... and the next one finds it there instead of failing to sync at 115200. */
	T_EQ_INT(fl_open(&s, &f, 0, 0, NULL, NULL), RC_OK);
	if (f != NULL) {
		T_TRUE(flasher_info(f)->stub);
		T_EQ_INT(flasher_info(f)->baud, 921600);
	}
	sim_flasher_done(f);
	/* After a clean --after no-reset the ROM answers at 115200 again. */
	T_EQ_INT(fl_open(&s, &f, 115200, 1, NULL, NULL), RC_OK);
	if (f != NULL)
		T_FALSE(flasher_info(f)->stub);
	sim_flasher_done(f);
	sim_stop(&s);
}

int
main(void)
{
	static const struct { void (*fn)(void); const char *name; } cases[] = {
#define C(x) { x, #x }
		C(test_ident_esp8266_4mb), C(test_ident_esp8285_1mb),
		C(test_read_1mb_115200), C(test_read_2mb_921600), C(test_read_4mb_latency),
		C(test_read_16mb_part), C(test_read_faults_corrupt), C(test_read_faults_drop), C(test_read_faults_heavy),
		C(test_read_cable_pulled), C(test_read_cancel),
		C(test_write_1mb_115200), C(test_write_1mb_921600), C(test_write_latency),
		C(test_write_faults), C(test_write_header_patch), C(test_write_refusals),
		C(test_verify_mismatch), C(test_rom_write_erase_bug), C(test_rom_write_image),
		C(test_rom_erase_chip), C(test_dead_flash),
		C(test_erase_stub), C(test_erase_power_loss),
		C(test_connect_not_in_download_mode), C(test_stuck_gpio0_after_reset),
		C(test_reconnect_running_stub),
#undef C
	};
	const char *only = getenv("FLASHER_TEST");

	signal(SIGPIPE, SIG_IGN);
	if (!have_sim("test_flasher_sim (all cases)"))
		return t_done();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (only != NULL && strstr(cases[i].name, only) == NULL)
			continue;
		t_begin_();
		cases[i].fn();
		t_end_(cases[i].name);
	}
	return t_done();
}
