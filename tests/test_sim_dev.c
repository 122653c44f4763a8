/*
 * The device core on a fake clock: power-on and strap latching, download mode, software resets
 * that keep the latched straps (protocol.md §11.3, BOOTLOGS 10), the auto-reset circuit (§11.1),
 * UART and flash timing, the USB latency timer, faults.
 *
 * This test carries its own minimal boot plan and a stand-in stub, so that it checks the core
 * alone (the real boot model and stub have their own tests, and test_sim_pty runs them together).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "sim/sim_boot.h"
#include "sim/sim_dev.h"
#include "sim/sim_loader.h"
#include "stub/stub.h"
#include "tap.h"

/* ---- a private boot plan: the banner, then download / app loop / halt by strap ---- */

uint32_t
sim_boot_rom_baud(uint32_t xtal_hz)
{
	return xtal_hz == 40000000 ? 115200 : 74880;
}

void
sim_boot_plan(const struct sim_boot_env *env, struct sim_boot_plan *plan)
{
	int mode = env->gpio15 << 2 | env->gpio0 << 1 | env->gpio2;

	memset(plan, 0, sizeof *plan);
	plan->steps = xcalloc(1, sizeof *plan->steps);
	plan->nsteps = 1;
	plan->steps[0].baud = sim_boot_rom_baud(env->xtal_hz);
	plan->steps[0].len = (size_t)xasprintf(&plan->steps[0].text,
	    "\r\n ets Jan  8 2013,rst cause:%d, boot mode:(%d,7)\r\n\r\n", env->rst_cause, mode);
	if (mode == 1)
		plan->next = SIM_NEXT_DOWNLOAD;
	else if (mode == 3) {
		plan->next = SIM_NEXT_APP_LOOP;
		plan->app_baud = 115200;
		plan->loop = xcalloc(1, sizeof *plan->loop);
		plan->nloop = 1;
		plan->loop[0].baud = 115200;
		plan->loop[0].delay_us = 200000;
		plan->loop[0].text = xstrdup("tick\r\n");
		plan->loop[0].len = 6;
	} else
		plan->next = SIM_NEXT_HALT;
}

void
sim_boot_plan_free(struct sim_boot_plan *plan)
{
	for (size_t i = 0; i < plan->nsteps; i++)
		free(plan->steps[i].text);
	for (size_t i = 0; i < plan->nloop; i++)
		free(plan->loop[i].text);
	free(plan->steps);
	free(plan->loop);
	memset(plan, 0, sizeof *plan);
}

/* ---- a stand-in stub: greets, erases the chip on 'E', resets to the ROM on 'R' ---- */

void
stub_init(struct stub *s, const struct stub_hal *hal)
{
	s->hal = hal;
	s->state = STUB_RUNNING;
	hal->uart_tx(hal->ctx, (const uint8_t *)"\xc0OHAI\xc0", 6);
}

void
stub_feed(struct stub *s, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (data[i] == 'E') {
			/* ERASE_FLASH as a stub does it: erase, then reply. */
			s->hal->flash_erase_chip(s->hal->ctx);
			s->hal->uart_tx(s->hal->ctx, (const uint8_t *)"E", 1);
		} else if (data[i] == 'R') {
			s->hal->uart_tx(s->hal->ctx, (const uint8_t *)"bye", 3);
			s->state = STUB_EXIT_ROM;
			s->hal->reset_to_rom(s->hal->ctx);
			return;
		}
}

int stub_poll(struct stub *s) { (void)s; return 0; }
int stub_state(const struct stub *s) { return s->state; }

/* ---- helpers ---- */

#define T0 1000000000LL   /* an arbitrary clock origin */
#define MS 1000LL

static struct sim_dev *
mkdev(int fast, int download, uint32_t latency_ms, const char *faults)
{
	struct sim_dev_config cfg;
	struct sim_dev *d;
	char *cause = NULL;

	memset(&cfg, 0, sizeof cfg);
	sim_chip_identity_default(&cfg.id);
	cfg.fast = fast;
	cfg.download = download;
	cfg.powered = 1;
	cfg.usb_latency_ms = latency_ms;
	if (sim_fault_parse(&cfg.fault, faults, 7, &cause) != RC_OK ||
	    sim_dev_new(&cfg, T0, &d, &cause) != RC_OK) {
		printf("# %s\n", cause);
		abort();
	}
	return d;
}

/* Runs the device to t and returns what reached the host (NUL-terminated copy, caller frees). */
static char *
run_to(struct sim_dev *d, int64_t t, uint32_t host_baud, size_t *len)
{
	struct buf out = BUF_INIT;
	char *s;

	sim_dev_run(d, t, host_baud, &out);
	s = xcalloc(1, buf_len(&out) + 1);
	if (buf_len(&out))
		memcpy(s, buf_head(&out), buf_len(&out));
	if (len != NULL)
		*len = buf_len(&out);
	buf_free(&out);
	return s;
}

static const uint8_t sync_wire[46] = { 0xc0, 0x00, 0x08, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x07, 0x07, 0x12, 0x20, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xc0 };

static void
send_cmd(struct sim_dev *d, uint8_t op, const uint8_t *data, uint16_t len, int64_t t)
{
	uint8_t pkt[64 + 8];
	struct buf w = BUF_INIT;

	memset(pkt, 0, 8);
	pkt[1] = op;
	pkt[2] = (uint8_t)len;
	memcpy(pkt + 8, data, len);
	slip_encode_buf(&w, pkt, 8u + len);
	sim_dev_host_rx(d, buf_head(&w), buf_len(&w), 115200, t);
	buf_free(&w);
}

/* ---- tests ---- */

static void
test_power_on_download(void)
{
	struct sim_dev *d = mkdev(1, 1, 0, NULL);
	char *s;

	/* Straps are sampled a few ms after power comes up. */
	s = run_to(d, T0, 74880, NULL);
	T_EQ_STR(s, "");
	free(s);
	s = run_to(d, T0 + 10 * MS, 74880, NULL);
	T_EQ_STR(s, "\r\n ets Jan  8 2013,rst cause:1, boot mode:(1,7)\r\n\r\n");
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_DOWNLOAD);
	free(s);
	sim_dev_free(d);
}

static void
test_banner_garbled_at_115200(void)
{
	struct sim_dev *d = mkdev(1, 1, 0, NULL);
	size_t n;
	char *s = run_to(d, T0 + 10 * MS, 115200, &n);

	T_TRUE(n > 0);
	T_TRUE(strstr(s, "ets Jan") == NULL);
	free(s);
	sim_dev_free(d);
}

static void
test_sync_timing_real(void)
{
	struct sim_dev *d = mkdev(0, 1, 0, NULL);
	size_t n;
	char *s;
	int64_t t;

	/* Let the banner play out at 74880 (51 bytes = 6.8 ms). */
	free(run_to(d, T0 + 50 * MS, 74880, NULL));
	sim_dev_host_rx(d, sync_wire, sizeof sync_wire, 115200, T0 + 60 * MS);
	/* The 46 command bytes take 3.993 ms to cross the line at 115200; the chip answers once it
	 * has them. Then 8 back-to-back replies x 12 bytes x 10 bits = 8.33 ms on the line; the
	 * first one (1.04 ms) arrives well within esptool's 100 ms. By 5 ms, 57 bytes have left. */
	t = T0 + 60 * MS + 3993;
	s = run_to(d, t + 1100, 115200, &n);
	T_EQ_INT(n, 12);
	free(s);
	s = run_to(d, t + 5 * MS, 115200, &n);
	T_EQ_INT(n, 57 - 12);
	free(s);
	s = run_to(d, t + 9 * MS, 115200, &n);
	T_EQ_INT(n, 96 - 57);
	free(s);
	T_EQ_INT(sim_dev_next_us(d), -1);
	/* Autobaud: UART_CLKDIV reflects the host's 115200 (ISS #397). */
	T_EQ_HEX(sim_dev_chip(d)->uart_baud, 115200);
	sim_dev_free(d);
}

static void
test_sync_at_921600(void)
{
	struct sim_dev *d = mkdev(1, 1, 0, NULL);
	size_t n;
	char *s;

	free(run_to(d, T0 + 10 * MS, 74880, NULL));
	sim_dev_host_rx(d, sync_wire, sizeof sync_wire, 921600, T0 + 20 * MS);
	s = run_to(d, T0 + 20 * MS, 921600, &n);
	T_EQ_INT(n, 96);
	T_EQ_MEM(s, "\xc0\x01\x08\x02\x00\x07\x07\x12\x20\x00\x00\xc0", 12);
	free(s);
	sim_dev_free(d);
}

static void
test_flash_erase_delays_reply(void)
{
	struct sim_dev *d = mkdev(0, 1, 0, NULL);
	uint8_t begin[16] = { 0x00, 0x10, 0, 0, 1, 0, 0, 0, 0x00, 0x04, 0, 0, 0, 0, 0, 0 };
	size_t n;
	int64_t t = T0 + 100 * MS;

	free(run_to(d, t, 74880, NULL));
	/* FLASH_BEGIN erase_size 0x1000 at 0 (26 bytes on the wire, 2.26 ms at 115200): the ROM
	 * erases two sectors (2 x 45 ms) before the 12-byte reply (1.04 ms) leaves. */
	send_cmd(d, 0x02, begin, 16, t);
	free(run_to(d, t + 92 * MS, 115200, &n));
	T_EQ_INT(n, 0);
	free(run_to(d, t + 94 * MS, 115200, &n));
	T_EQ_INT(n, 12);
	sim_dev_free(d);
}

static void
test_stub_erase_takes_datasheet_time(void)
{
	struct sim_dev *d = mkdev(0, 1, 0, NULL);
	uint8_t end[8] = { 0, 0, 0, 0, 0x04, 0xd0, 0x10, 0x40 };
	size_t n;
	int64_t t = T0 + 100 * MS;

	free(run_to(d, t, 74880, NULL));
	send_cmd(d, 0x06, end, 8, t);
	free(run_to(d, t + 50 * MS, 115200, NULL));
	/* Chip erase of the 4 MB W25Q32: 10 s typical; the reply follows it. */
	sim_dev_host_rx(d, (const uint8_t *)"E", 1, 115200, t + 100 * MS);
	free(run_to(d, t + 100 * MS + 9900 * MS, 115200, &n));
	T_EQ_INT(n, 0);
	free(run_to(d, t + 100 * MS + 10002 * MS, 115200, &n));
	T_EQ_INT(n, 1);
	sim_dev_free(d);
}

static void
test_stub_soft_reset_keeps_straps(void)
{
	struct sim_dev *d = mkdev(1, 1, 0, NULL);
	uint8_t end[8] = { 0, 0, 0, 0, 0x04, 0xd0, 0x10, 0x40 };
	char *s;
	size_t n;

	free(run_to(d, T0 + 10 * MS, 74880, NULL));
	/* The button is released after power-on, as on a Sonoff. */
	sim_dev_set_button(d, 0);
	send_cmd(d, 0x06, end, 8, T0 + 20 * MS);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_STUB);
	s = run_to(d, T0 + 20 * MS, 115200, &n);
	T_TRUE(memmem(s, n, "\xc0OHAI\xc0", 6) != NULL);
	free(s);
	/* The stub's FLASH_END(0): a software reset, back into the ROM loader (§4.3). */
	sim_dev_host_rx(d, (const uint8_t *)"R", 1, 115200, T0 + 30 * MS);
	s = run_to(d, T0 + 30 * MS, 74880, NULL);
	T_CONTAINS(s, "rst cause:1, boot mode:(1,7)");
	free(s);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_DOWNLOAD);
	/* An EN reset latches the straps again: GPIO0 is high now, the flash boots. */
	sim_dev_reset(d, T0 + 40 * MS);
	s = run_to(d, T0 + 50 * MS, 74880, NULL);
	T_CONTAINS(s, "rst cause:2, boot mode:(3,7)");
	free(s);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_APP);
	sim_dev_free(d);
}

static void
test_flash_end_run_user_then_restart(void)
{
	struct sim_dev *d = mkdev(1, 1, 0, NULL);
	uint8_t one[4] = { 1, 0, 0, 0 };
	char *s;

	free(run_to(d, T0 + 10 * MS, 74880, NULL));
	sim_dev_set_button(d, 0);
	/* ROM FLASH_END(1): run user code (esptool --after soft_reset). */
	send_cmd(d, 0x04, one, 4, T0 + 20 * MS);
	s = run_to(d, T0 + 20 * MS, 115200, NULL);
	T_EQ_MEM(s, "\xc0\x01\x04\x02\x00\x00\x00\x00\x00\x00\x00\xc0", 12);
	free(s);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_APP);
	s = run_to(d, T0 + 300 * MS, 115200, NULL);
	T_CONTAINS(s, "tick\r\n");
	free(s);
	sim_dev_free(d);
}

static void
test_autoreset_classic(void)
{
	struct sim_dev *d = mkdev(1, 0, 0, NULL);
	char *s;
	int64_t t = T0 + 500 * MS;

	/* Without --download the board boots from flash. */
	s = run_to(d, T0 + 10 * MS, 74880, NULL);
	T_CONTAINS(s, "rst cause:1, boot mode:(3,7)");
	free(s);
	/* esptool ClassicReset (§11.1): DTR=0 RTS=1, 100 ms, DTR=1 (both asserted for a moment),
	 * RTS=0, 50 ms, DTR=0. */
	sim_dev_set_lines(d, 0, 1, t);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_RESET);
	sim_dev_set_lines(d, 1, 1, t + 100 * MS);
	sim_dev_set_lines(d, 1, 0, t + 100 * MS + 50);
	free(run_to(d, t + 140 * MS, 74880, NULL));
	sim_dev_set_lines(d, 0, 0, t + 150 * MS);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_DOWNLOAD);
	/* HardReset: RTS=1, 100 ms, RTS=0 with DTR released: flash boot, rst cause 2. */
	sim_dev_set_lines(d, 0, 1, t + 300 * MS);
	sim_dev_set_lines(d, 0, 0, t + 400 * MS);
	s = run_to(d, t + 420 * MS, 74880, NULL);
	T_CONTAINS(s, "rst cause:2, boot mode:(3,7)");
	free(s);
	/* UnixTight's (1,1) step holds nothing in reset. */
	sim_dev_set_lines(d, 1, 1, t + 500 * MS);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_APP);
	sim_dev_free(d);
}

static void
test_straps(void)
{
	struct sim_dev *d = mkdev(1, 0, 0, NULL);
	char *s;

	free(run_to(d, T0 + 10 * MS, 74880, NULL));
	sim_dev_set_strap(d, 15, 1);
	sim_dev_reset(d, T0 + 20 * MS);
	s = run_to(d, T0 + 30 * MS, 74880, NULL);
	T_CONTAINS(s, "boot mode:(7,7)");
	free(s);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_HALTED);
	sim_dev_set_strap(d, 15, 0);
	sim_dev_set_strap(d, 2, 0);
	sim_dev_power(d, 0, T0 + 40 * MS);
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_OFF);
	sim_dev_power(d, 1, T0 + 50 * MS);
	s = run_to(d, T0 + 60 * MS, 74880, NULL);
	T_CONTAINS(s, "rst cause:1, boot mode:(2,7)");
	free(s);
	sim_dev_free(d);
}

static void
test_usb_latency(void)
{
	struct sim_dev *d = mkdev(0, 1, 16, NULL);
	size_t n;
	char *s;

	/* The 51-byte banner at 74880 is on the line by 6.9 ms, fewer than 62 bytes: it leaves
	 * when the 16 ms timer expires after its first byte. */
	s = run_to(d, T0 + 5 * MS + 200, 74880, &n);
	T_EQ_INT(n, 0);
	free(s);
	s = run_to(d, T0 + 12 * MS, 74880, &n);
	T_EQ_INT(n, 0);
	free(s);
	s = run_to(d, T0 + 23 * MS, 74880, &n);
	T_EQ_INT(n, 51);
	free(s);
	sim_dev_free(d);
}

static void
test_faults(void)
{
	struct sim_dev *d = mkdev(1, 1, 0, "drop=1");
	size_t n;
	char *s = run_to(d, T0 + 10 * MS, 74880, &n);

	T_EQ_INT(n, 0);
	free(s);
	sim_dev_free(d);
	d = mkdev(1, 1, 0, "cut-after=20");
	s = run_to(d, T0 + 10 * MS, 74880, &n);
	free(s);
	T_TRUE(sim_dev_cable_cut(d));
	T_FALSE(sim_dev_cable_cut(d)); /* reported once */
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_OFF);
	sim_dev_free(d);
	/* Corruption is seeded: the same seed gives the same bytes. */
	{
		struct sim_dev *a = mkdev(1, 1, 0, "corrupt=0.2"), *b = mkdev(1, 1, 0, "corrupt=0.2");
		size_t na, nb;
		char *sa = run_to(a, T0 + 10 * MS, 74880, &na), *sb = run_to(b, T0 + 10 * MS, 74880, &nb);

		T_EQ_INT(na, nb);
		T_EQ_MEM(sa, sb, na);
		T_TRUE(strcmp(sa, "\r\n ets Jan  8 2013,rst cause:1, boot mode:(1,7)\r\n\r\n") != 0);
		free(sa);
		free(sb);
		sim_dev_free(a);
		sim_dev_free(b);
	}
}

static void
test_stuck_gpio0(void)
{
	struct sim_dev *d = mkdev(1, 0, 0, "stuck-gpio0");
	char *s = run_to(d, T0 + 10 * MS, 74880, NULL);

	/* No button pressed, but GPIO0 reads low: download mode at every hardware reset. */
	T_CONTAINS(s, "rst cause:1, boot mode:(1,7)");
	free(s);
	sim_dev_reset(d, T0 + 20 * MS);
	s = run_to(d, T0 + 30 * MS, 74880, NULL);
	T_CONTAINS(s, "rst cause:2, boot mode:(1,7)");
	free(s);
	sim_dev_free(d);
}

static void
test_power_loss_erase(void)
{
	struct sim_dev *d = mkdev(1, 1, 0, "power-loss=erase");
	uint8_t begin[16] = { 0x00, 0x10, 0, 0, 1, 0, 0, 0, 0x00, 0x04, 0, 0, 0, 0x10, 0, 0 };
	size_t n;

	free(run_to(d, T0 + 10 * MS, 74880, NULL));
	send_cmd(d, 0x02, begin, 16, T0 + 20 * MS);
	free(run_to(d, T0 + 30 * MS, 115200, &n));
	T_EQ_INT(n, 0);     /* no reply: the power failed */
	T_EQ_INT(sim_dev_mode(d), SIM_MODE_OFF);
	sim_dev_free(d);
}

static void
test_status(void)
{
	struct sim_dev *d = mkdev(1, 1, 0, NULL);
	char st[512];

	free(run_to(d, T0 + 10 * MS, 74880, NULL));
	sim_dev_status(d, st, sizeof st);
	T_CONTAINS(st, "powered=yes");
	T_CONTAINS(st, "mode=download");
	T_CONTAINS(st, "gpio0=0");
	T_CONTAINS(st, "boot_mode=1");
	sim_dev_free(d);
}

int
main(void)
{
	T_RUN(test_power_on_download);
	T_RUN(test_banner_garbled_at_115200);
	T_RUN(test_sync_timing_real);
	T_RUN(test_sync_at_921600);
	T_RUN(test_flash_erase_delays_reply);
	T_RUN(test_stub_erase_takes_datasheet_time);
	T_RUN(test_stub_soft_reset_keeps_straps);
	T_RUN(test_flash_end_run_user_then_restart);
	T_RUN(test_autoreset_classic);
	T_RUN(test_straps);
	T_RUN(test_usb_latency);
	T_RUN(test_faults);
	T_RUN(test_stuck_gpio0);
	T_RUN(test_power_loss_erase);
	T_RUN(test_status);
	return t_done();
}
