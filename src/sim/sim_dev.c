#include "config.h"

#include "sim/sim_dev.h"

#include <md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "sim/sim_flash.h"
#include "sim/sim_loader.h"
#include "sim/sim_uart.h"
#include "stub/stub.h"

/*
 * The straps are sampled a little after EN (or power) rises, not at the edge: the reset circuit's
 * RC and the ROM's start-up take a few milliseconds. esptool's ClassicReset over RFC 2217 passes
 * through "both asserted" (EN released, GPIO0 not pulled) for the microseconds between its two
 * line changes; a real board ignores that glitch, and so does this delay.
 */
#define STRAP_LATCH_US 5000
/* FTDI-style latency timer: a burst also leaves as soon as this many bytes have gathered. */
#define USB_BURST_BYTES 62
/* The shortest application loop iteration we play, so an app without pacing cannot flood. */
#define APP_LOOP_MIN_US 100000

struct seg {
	int64_t t;        /* when the first byte starts on the line */
	uint32_t baud;
	uint8_t *data;
	size_t len, off;  /* off: bytes already delivered */
	size_t cap;       /* allocated; grows geometrically (the stub emits small chunks) */
};

/* The stub generates READ_FLASH frames only while less than this is waiting to leave, so its
 * reply and first frames go out at once instead of after the whole read window (a real stub
 * streams at the line rate; tests/interop/FINDINGS.md F1). */
#define STUB_TX_BACKLOG 8192

/* The stub's main loop hands the ring's bytes to stub_feed() in slices of at most this many
 * (src/stub/stub_hal_lx106.c RX_SLICE). */
#define STUB_RX_SLICE 256u

/* A burst of host bytes on the line (speed real): byte k (from 0) has fully arrived at
 * start + ceil((k + 1) * dur / n). */
struct rxrun {
	int64_t start;
	uint64_t dur;
	size_t n, done;
};

enum pending_kind {
	PEND_NONE, PEND_HW_BOOT, PEND_SOFT_RESET, PEND_RUN_USER, PEND_PLAN_END, PEND_POWER_LOST,
	PEND_PLAN_RESET,
};
/* With --speed fast a crash/watchdog reset loop still takes this long per turn, so it cannot
 * spin the CPU. */
#define FAST_RESET_LOOP_US 100000

struct sim_dev {
	struct sim_dev_config cfg;
	struct sim_chip chip;
	struct sim_flash *flash;
	struct sim_loader loader;
	struct stub *stub;
	struct stub_hal hal;
	struct sim_fault fault;

	enum sim_mode mode;
	int powered, en;
	int button, pull_low, gpio2, gpio15;          /* live pin state */
	int l_gpio0, l_gpio2, l_gpio15;               /* latched at the last hardware reset */
	enum sim_rst_cause hw_cause, boot_cause;
	uint32_t boot_count;
	uint32_t uart_baud;                           /* the chip's UART baud now */

	int64_t now, cpu, line_free;
	struct seg *q;
	size_t qhead, qn, qcap;

	struct sim_boot_plan plan;
	int have_plan;
	int64_t loop_next;

	enum pending_kind pending;
	int64_t pending_at;

	struct buf usb;
	int64_t usb_first;
	int flash_lost;
	int cut;          /* cut-after struck; reported once by sim_dev_cable_cut() */
	int stub_more;    /* the stub has more to send once the backlog drains */
	int64_t rx_free;  /* when the host's last byte has fully arrived (speed real) */

	/* The stub's UART receive ring (speed real, see sim_dev.h): bytes on the line wait in
	 * `line` (their times in rxrun[]), arrive into ring[] (or are dropped when it is full) and
	 * are fed from ring_rd in slices; the last slice fed stays held until held_until. */
	struct buf line;
	struct rxrun *runs;
	size_t runs_head, nruns, runs_cap;
	uint8_t *ring;
	uint32_t ring_head, ring_rd, held;
	int64_t held_until;
	uint64_t rx_dropped;
};

static const char *const mode_names[] = {
	"off", "reset", "rom-boot", "download", "stub", "app", "halted",
};

const char *
sim_dev_mode_name(enum sim_mode m)
{
	return (size_t)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

/* ---- the UART transmit schedule ---- */

static void
q_clear(struct sim_dev *d)
{
	for (size_t i = d->qhead; i < d->qn; i++)
		free(d->q[i].data);
	d->qhead = d->qn = 0;
	d->line_free = d->now;
}

/* Forgets the host bytes on their way to the stub: a reset or power loss clears its RAM. */
static void
ring_clear(struct sim_dev *d)
{
	buf_reset(&d->line);
	d->runs_head = d->nruns = 0;
	d->ring_head = d->ring_rd = d->held = 0;
	d->held_until = 0;
}

static void
seg_append(struct seg *s, const uint8_t *data, size_t len)
{
	if (s->len + len > s->cap) {
		s->cap = s->cap * 2 > s->len + len ? s->cap * 2 : s->len + len;
		s->data = xreallocarray(s->data, s->cap, 1);
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
}

/* Bytes queued in the chip or the USB bridge that the host has not been handed yet. */
static size_t
backlog(const struct sim_dev *d)
{
	size_t n = buf_len(&d->usb);

	for (size_t i = d->qhead; i < d->qn; i++)
		n += d->q[i].len - d->q[i].off;
	return n;
}

static void
queue_tx(struct sim_dev *d, uint32_t baud, const uint8_t *data, size_t len)
{
	int64_t t = d->cpu > d->line_free ? d->cpu : d->line_free;
	struct seg *last = d->qn > d->qhead ? &d->q[d->qn - 1] : NULL;

	if (len == 0)
		return;
	if (last != NULL && last->baud == baud && t == d->line_free && last->off == 0 &&
	    !d->cfg.fast)
		seg_append(last, data, len);
	else if (last != NULL && last->baud == baud && d->cfg.fast && last->t == t &&
	    last->off == 0)
		seg_append(last, data, len);
	else {
		if (d->qhead > 0 && d->qhead == d->qn)
			d->qhead = d->qn = 0;
		if (d->qn == d->qcap) {
			d->qcap = d->qcap ? d->qcap * 2 : 16;
			d->q = xreallocarray(d->q, d->qcap, sizeof *d->q);
		}
		last = &d->q[d->qn++];
		last->t = t;
		last->baud = baud;
		last->data = NULL;
		last->len = last->off = last->cap = 0;
		seg_append(last, data, len);
	}
	if (!d->cfg.fast)
		d->line_free = t + (int64_t)sim_uart_time_us(len, baud);
	else
		d->line_free = t;
}

static int64_t
seg_done_at(const struct sim_dev *d, const struct seg *s, size_t nbytes)
{
	if (d->cfg.fast)
		return s->t;
	return s->t + (int64_t)sim_uart_time_us(nbytes, s->baud);
}

/* ---- boot, resets, modes ---- */

static void stub_start(struct sim_dev *d);

static void
set_pending(struct sim_dev *d, enum pending_kind k, int64_t at)
{
	d->pending = k;
	d->pending_at = at;
}

/* When the chip has finished what it queued: CPU work done and the last byte out. */
static int64_t
idle_at(const struct sim_dev *d)
{
	return d->cpu > d->line_free ? d->cpu : d->line_free;
}

static void
plan_drop(struct sim_dev *d)
{
	if (d->have_plan)
		sim_boot_plan_free(&d->plan);
	d->have_plan = 0;
}

/* Runs the boot ROM with the latched straps (gpio0 forced high for "run user code"). */
static void
boot(struct sim_dev *d, enum sim_rst_cause cause, int run_user)
{
	struct sim_boot_env env;

	q_clear(d);
	ring_clear(d);
	plan_drop(d);
	sim_loader_reset(&d->loader);
	sim_chip_reset(&d->chip);
	d->cpu = d->now;
	d->mode = SIM_MODE_BOOT;
	d->boot_count++;
	d->boot_cause = cause;
	d->uart_baud = sim_boot_rom_baud(d->chip.id.xtal_mhz * 1000000u);
	memset(&env, 0, sizeof env);
	env.flash = sim_flash_data(d->flash);
	env.flash_size = sim_flash_size(d->flash);
	env.esp8285 = d->chip.id.esp8285;
	env.xtal_hz = d->chip.id.xtal_mhz * 1000000u;
	env.rst_cause = cause;
	env.gpio0 = run_user ? 1 : d->l_gpio0;
	env.gpio2 = d->l_gpio2;
	env.gpio15 = d->l_gpio15;
	env.scenario = d->cfg.scenario;
	env.boot_count = d->boot_count;
	sim_boot_plan(&env, &d->plan);
	d->have_plan = 1;
	for (size_t i = 0; i < d->plan.nsteps; i++) {
		const struct sim_step *s = &d->plan.steps[i];

		if (!d->cfg.fast)
			d->cpu = idle_at(d) + s->delay_us;
		queue_tx(d, s->baud, (const uint8_t *)s->text, s->len);
	}
	set_pending(d, PEND_PLAN_END, idle_at(d));
}

static void
hw_reset_now(struct sim_dev *d, enum sim_rst_cause cause)
{
	d->l_gpio0 = !(d->button || d->pull_low || d->fault.stuck_gpio0);
	d->l_gpio2 = d->gpio2;
	d->l_gpio15 = d->gpio15;
	d->hw_cause = cause;
	boot(d, cause, 0);
}

static void
app_iteration(struct sim_dev *d)
{
	int64_t start = d->loop_next;
	uint64_t total = 0;

	d->cpu = start > d->cpu ? start : d->cpu;
	for (size_t i = 0; i < d->plan.nloop; i++) {
		const struct sim_step *s = &d->plan.loop[i];

		d->cpu = idle_at(d) + s->delay_us;
		total += s->delay_us;
		queue_tx(d, s->baud, (const uint8_t *)s->text, s->len);
	}
	d->loop_next = idle_at(d);
	if (total < APP_LOOP_MIN_US && d->loop_next < start + APP_LOOP_MIN_US)
		d->loop_next = start + APP_LOOP_MIN_US;
}

static void
plan_end(struct sim_dev *d)
{
	switch (d->plan.next) {
	case SIM_NEXT_DOWNLOAD:
		d->mode = SIM_MODE_DOWNLOAD;
		sim_loader_reset(&d->loader);
		break;
	case SIM_NEXT_HALT:
		d->mode = SIM_MODE_HALTED;
		break;
	case SIM_NEXT_RESET:
		/* Software/watchdog reset: latched straps stay. */
		set_pending(d, PEND_PLAN_RESET, d->now + (d->cfg.fast ? FAST_RESET_LOOP_US : 0));
		break;
	case SIM_NEXT_APP_LOOP:
		d->mode = SIM_MODE_APP;
		if (d->plan.app_baud)
			d->uart_baud = d->plan.app_baud;
		d->loop_next = d->now;
		if (d->plan.nloop == 0)
			d->mode = SIM_MODE_APP;
		break;
	}
}

static void
power_off(struct sim_dev *d)
{
	q_clear(d);
	ring_clear(d);
	plan_drop(d);
	d->mode = SIM_MODE_OFF;
	d->powered = 0;
	d->pending = PEND_NONE;
}

static void
do_pending(struct sim_dev *d)
{
	enum pending_kind k = d->pending;

	d->pending = PEND_NONE;
	switch (k) {
	case PEND_NONE:
		break;
	case PEND_HW_BOOT:
		hw_reset_now(d, d->boot_cause);
		break;
	case PEND_SOFT_RESET:
		boot(d, d->hw_cause, 0);
		break;
	case PEND_RUN_USER:
		boot(d, d->hw_cause, 1);
		break;
	case PEND_PLAN_END:
		plan_end(d);
		break;
	case PEND_POWER_LOST:
		power_off(d);
		break;
	case PEND_PLAN_RESET:
		boot(d, d->have_plan ? d->plan.next_rst_cause : d->hw_cause, 0);
		break;
	}
}

/* ---- the ROM loader's callbacks ---- */

static void
loader_send(void *arg, uint32_t busy_us, const uint8_t *wire, size_t len)
{
	struct sim_dev *d = arg;

	if (!d->cfg.fast)
		d->cpu += busy_us;
	queue_tx(d, d->uart_baud, wire, len);
}

static void
loader_event(void *arg, enum sim_loader_event ev, uint32_t value)
{
	struct sim_dev *d = arg;

	switch (ev) {
	case SIM_LOADER_EV_RUN:
		/* Whatever was uploaded, the code that runs is our stub (it greets with OHAI). */
		stub_start(d);
		break;
	case SIM_LOADER_EV_REBOOT:
		set_pending(d, PEND_SOFT_RESET, idle_at(d));
		break;
	case SIM_LOADER_EV_RUN_USER:
		set_pending(d, PEND_RUN_USER, idle_at(d));
		break;
	case SIM_LOADER_EV_POWER_LOST:
		set_pending(d, PEND_POWER_LOST, d->now);
		break;
	}
}

static const struct sim_loader_ops loader_ops = { loader_send, loader_event };

/* ---- the stub's HAL over this device ---- */

static void
busy(struct sim_dev *d, uint32_t us)
{
	if (!d->cfg.fast)
		d->cpu += us;
}

/* rc and us must come from a call made before this one (argument order is unspecified). */
static int
flash_rc(struct sim_dev *d, int rc, uint32_t us)
{
	busy(d, us);
	if (rc == RC_ERR_GONE) {
		d->flash_lost = 1;
		return 1;
	}
	return rc != RC_OK;
}

static int
h_flash_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	struct sim_dev *d = ctx;

	sim_flash_read(d->flash, addr, dst, len);
	return 0;
}

static int
h_flash_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	struct sim_dev *d = ctx;
	uint32_t us = 0;
	int rc = sim_flash_program(d->flash, addr, src, len, &us);

	return flash_rc(d, rc, us);
}

static int
h_erase_sector(void *ctx, uint32_t sector)
{
	struct sim_dev *d = ctx;
	uint32_t us = 0;
	int rc = sim_flash_erase_sector(d->flash, sector * SIM_FLASH_SECTOR, &us);

	return flash_rc(d, rc, us);
}

static int
h_erase_block(void *ctx, uint32_t block)
{
	struct sim_dev *d = ctx;
	uint32_t us = 0;
	int rc = sim_flash_erase_block(d->flash, block * SIM_FLASH_BLOCK, &us);

	return flash_rc(d, rc, us);
}

static int
h_erase_chip(void *ctx)
{
	struct sim_dev *d = ctx;
	uint32_t us = 0;
	int rc = sim_flash_erase_chip(d->flash, &us);

	return flash_rc(d, rc, us);
}

static int
h_set_params(void *ctx, const uint32_t p[6])
{
	struct sim_dev *d = ctx;

	memcpy(d->chip.flashchip, p, sizeof d->chip.flashchip);
	return 0;
}

static void
h_uart_tx(void *ctx, const uint8_t *data, size_t len)
{
	struct sim_dev *d = ctx;

	queue_tx(d, d->uart_baud, data, len);
}

static void
h_uart_set_baud(void *ctx, uint32_t new_baud, uint32_t old_baud)
{
	struct sim_dev *d = ctx;

	/* The reply is already queued at the old baud; what follows leaves at the new one, and
	 * UART_CLKDIV holds the new divider. */
	if (new_baud > 0) {
		d->uart_baud = new_baud;
		d->chip.uart_baud = new_baud;
	}
}

static uint32_t
h_reg_read(void *ctx, uint32_t addr)
{
	return sim_chip_read(&((struct sim_dev *)ctx)->chip, addr);
}

static void
h_reg_write(void *ctx, uint32_t addr, uint32_t value)
{
	sim_chip_write(&((struct sim_dev *)ctx)->chip, addr, value, 0xFFFFFFFFu);
}

static void
h_delay_us(void *ctx, uint32_t us)
{
	busy(ctx, us);
}

static int
h_mem_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	struct sim_dev *d = ctx;
	const uint8_t *s = src;

	for (uint32_t i = 0; i < len; i += 4) {
		uint8_t w[4] = { 0, 0, 0, 0 };

		memcpy(w, s + i, len - i < 4 ? len - i : 4);
		sim_chip_write(&d->chip, addr + i, rd_le32(w), 0xFFFFFFFFu);
	}
	return 0;
}

static void
h_md5_init(void *ctx, struct stub_md5 *m)
{
	MD5Init((MD5_CTX *)(void *)m->u.bytes);
}

static void
h_md5_update(void *ctx, struct stub_md5 *m, const void *data, uint32_t len)
{
	MD5Update((MD5_CTX *)(void *)m->u.bytes, data, len);
}

static void
h_md5_final(void *ctx, struct stub_md5 *m, uint8_t digest[16])
{
	MD5Final(digest, (MD5_CTX *)(void *)m->u.bytes);
}

static void
h_run_user_code(void *ctx)
{
	struct sim_dev *d = ctx;

	set_pending(d, PEND_RUN_USER, idle_at(d));
}

static void
h_reset_to_rom(void *ctx)
{
	struct sim_dev *d = ctx;

	set_pending(d, PEND_SOFT_RESET, idle_at(d));
}

static void
stub_start(struct sim_dev *d)
{
	d->mode = SIM_MODE_STUB;
	d->hal = (struct stub_hal){
		.ctx = d,
		.flash_read = h_flash_read,
		.flash_write = h_flash_write,
		.flash_erase_sector = h_erase_sector,
		.flash_erase_block = h_erase_block,
		.flash_erase_chip = h_erase_chip,
		.flash_set_params = h_set_params,
		.uart_tx = h_uart_tx,
		.uart_set_baud = h_uart_set_baud,
		.reg_read = h_reg_read,
		.reg_write = h_reg_write,
		.delay_us = h_delay_us,
		.mem_write = h_mem_write,
		.md5_init = h_md5_init,
		.md5_update = h_md5_update,
		.md5_final = h_md5_final,
		.run_user_code = h_run_user_code,
		.reset_to_rom = h_reset_to_rom,
	};
	if (d->stub == NULL)
		d->stub = xmalloc(sizeof *d->stub);
	if (d->ring == NULL)
		d->ring = xmalloc(SIM_STUB_RX_RING);
	ring_clear(d);
	stub_init(d->stub, &d->hal);
}

static void
stub_pump(struct sim_dev *d)
{
	d->stub_more = 0;
	while (d->mode == SIM_MODE_STUB && d->pending == PEND_NONE && !d->flash_lost) {
		if (backlog(d) >= STUB_TX_BACKLOG) {
			d->stub_more = 1;
			break;
		}
		if (!stub_poll(d->stub))
			break;
	}
	if (d->flash_lost) {
		d->flash_lost = 0;
		set_pending(d, PEND_POWER_LOST, d->now);
	}
}

/* ---- the stub's UART receive ring (speed real) ---- */

static int
ring_active(const struct sim_dev *d)
{
	return d->mode == SIM_MODE_STUB && d->pending == PEND_NONE && !d->cfg.fast &&
	    d->ring != NULL;
}

/* Bytes in the ring not yet handed to the stub. */
static uint32_t
ring_unfed(const struct sim_dev *d)
{
	return (d->ring_head + SIM_STUB_RX_RING - d->ring_rd) % SIM_STUB_RX_RING;
}

static int64_t
run_arrival(const struct rxrun *r, size_t k)
{
	return r->start + (int64_t)(((uint64_t)(k + 1) * r->dur + r->n - 1) / r->n);
}

/* When the next byte on the line has arrived, or -1 when the line is empty. */
static int64_t
line_next(const struct sim_dev *d)
{
	if (d->runs_head == d->nruns)
		return -1;
	return run_arrival(&d->runs[d->runs_head], d->runs[d->runs_head].done);
}

/* When the line's first 0xC0 has arrived (the first byte that can end a frame, so the first
 * that can make the stub answer), or its last byte if none; -1 when the line is empty. */
static int64_t
line_next_end(const struct sim_dev *d)
{
	const uint8_t *p = buf_head(&d->line), *c;
	size_t idx, i;

	if (d->runs_head == d->nruns || p == NULL)
		return -1;
	c = memchr(p, 0xC0, buf_len(&d->line));
	idx = c != NULL ? (size_t)(c - p) : buf_len(&d->line) - 1;
	for (i = d->runs_head; i < d->nruns; i++) {
		const struct rxrun *r = &d->runs[i];

		if (idx < r->n - r->done)
			return run_arrival(r, r->done + idx);
		idx -= r->n - r->done;
	}
	return -1;
}

/* Puts n bytes that start crossing the line at start and take dur microseconds on the line. */
static void
line_add(struct sim_dev *d, const uint8_t *data, size_t n, int64_t start, uint64_t dur)
{
	struct rxrun *r;

	if (n == 0)
		return;
	if (d->runs_head > 0 && d->runs_head == d->nruns)
		d->runs_head = d->nruns = 0;
	if (d->nruns == d->runs_cap) {
		d->runs_cap = d->runs_cap ? d->runs_cap * 2 : 16;
		d->runs = xreallocarray(d->runs, d->runs_cap, sizeof *d->runs);
	}
	r = &d->runs[d->nruns++];
	r->start = start;
	r->dur = dur;
	r->n = n;
	r->done = 0;
	buf_add(&d->line, data, n);
}

/*
 * The UART interrupt: every byte that has arrived by t goes into the ring, unless the ring
 * holds SIM_STUB_RX_RING - 1 bytes not yet given back (those not fed yet, and the slice being
 * fed until its stub_feed() returns at held_until): then it is dropped.
 */
static void
ring_admit(struct sim_dev *d, int64_t t)
{
	const uint8_t *p = buf_head(&d->line);
	size_t used = 0;

	while (d->runs_head < d->nruns) {
		struct rxrun *r = &d->runs[d->runs_head];

		while (r->done < r->n) {
			int64_t at = run_arrival(r, r->done);
			uint32_t full = ring_unfed(d) + (at < d->held_until ? d->held : 0);

			if (at > t)
				goto out;
			if (full >= SIM_STUB_RX_RING - 1)
				d->rx_dropped++;
			else {
				d->ring[d->ring_head] = p[used];
				d->ring_head = (d->ring_head + 1) % SIM_STUB_RX_RING;
			}
			used++;
			r->done++;
		}
		d->runs_head++;
	}
out:
	buf_drain(&d->line, used);
}

/*
 * The stub's main loop, up to time until: whenever its CPU is free and the ring holds bytes, it
 * hands the stub the next slice (at most STUB_RX_SLICE bytes, not across the ring's end); the
 * stub's busy time moves d->cpu on, and only then is the slice's space given back.
 */
static void
ring_run(struct sim_dev *d, int64_t until)
{
	while (ring_active(d)) {
		int64_t t = d->cpu;
		uint32_t n;

		if (ring_unfed(d) == 0) {
			int64_t a = line_next(d);

			if (a < 0)
				return;
			if (a > t)
				t = a;
		}
		if (t > until) {
			ring_admit(d, until);
			return;
		}
		ring_admit(d, t);
		if ((n = ring_unfed(d)) == 0)
			continue;
		if (n > STUB_RX_SLICE)
			n = STUB_RX_SLICE;
		if (n > SIM_STUB_RX_RING - d->ring_rd)
			n = SIM_STUB_RX_RING - d->ring_rd;
		d->cpu = t;
		if (d->now < t)
			d->now = t;
		stub_feed(d->stub, d->ring + d->ring_rd, n);
		d->ring_rd = (d->ring_rd + n) % SIM_STUB_RX_RING;
		d->held = n;
		d->held_until = d->cpu;
		stub_pump(d);
	}
}

/* ---- public ---- */

int
sim_dev_new(const struct sim_dev_config *cfg, int64_t now_us, struct sim_dev **out, char **cause)
{
	struct sim_dev *d;
	int rc;

	*out = NULL;
	d = xcalloc(1, sizeof *d);
	d->cfg = *cfg;
	d->fault = cfg->fault;
	d->now = d->cpu = d->line_free = now_us;
	if ((rc = sim_chip_init(&d->chip, &cfg->id, cause)) != RC_OK) {
		free(d);
		return rc;
	}
	if ((rc = sim_flash_open(cfg->flash_path, cfg->id.flash_size, &d->flash, cause)) != RC_OK) {
		sim_chip_free(&d->chip);
		free(d);
		return rc;
	}
	if (d->fault.power_loss)
		sim_flash_arm_power_loss(d->flash,
		    d->fault.power_loss == 1 ? SIM_FLASH_PL_ERASE : SIM_FLASH_PL_WRITE);
	sim_loader_init(&d->loader, &d->chip, d->flash, &loader_ops, d);
	buf_init(&d->usb);
	buf_init(&d->line);
	d->en = 1;
	d->gpio2 = 1;       /* internal pull-up (bootlog.md §3) */
	d->gpio15 = 0;      /* pulled down on every board */
	d->button = cfg->download;
	d->mode = SIM_MODE_OFF;
	if (cfg->powered)
		sim_dev_power(d, 1, now_us);
	*out = d;
	return RC_OK;
}

void
sim_dev_free(struct sim_dev *d)
{
	if (d == NULL)
		return;
	q_clear(d);
	free(d->q);
	plan_drop(d);
	sim_loader_free(&d->loader);
	sim_flash_close(d->flash);
	sim_chip_free(&d->chip);
	buf_free(&d->usb);
	buf_free(&d->line);
	free(d->runs);
	free(d->ring);
	free(d->stub);
	free(d);
}

static void
advance(struct sim_dev *d, int64_t now)
{
	ring_run(d, now);
	if (now > d->now)
		d->now = now;
	if (d->cpu < d->now && d->mode != SIM_MODE_BOOT)
		d->cpu = d->now;
}

void
sim_dev_host_rx(struct sim_dev *d, const uint8_t *data, size_t len, uint32_t host_baud,
    int64_t now_us)
{
	uint8_t *tmp;
	struct buf rs = BUF_INIT;
	int64_t start;
	uint64_t dur = 0;

	sim_dev_run(d, now_us, host_baud, NULL);
	if (len == 0)
		return;
	tmp = xmalloc(len);
	memcpy(tmp, data, len);
	/* The bytes cross the line at the host's baud: the chip has them, and can answer, only
	 * once the last one has arrived (a pty hands them over at once). The stub takes them one
	 * by one through its receive ring instead (ring_run). */
	start = d->now;
	if (!d->cfg.fast && host_baud > 0) {
		if (d->rx_free > start)
			start = d->rx_free;
		dur = sim_uart_time_us(len, host_baud);
		d->rx_free = start + (int64_t)dur;
		if (d->cpu < d->rx_free && d->mode != SIM_MODE_STUB)
			d->cpu = d->rx_free;
	}
	len = sim_fault_apply(&d->fault, tmp, len);
	switch (d->mode) {
	case SIM_MODE_DOWNLOAD:
		/* The ROM's autobaud locks onto whatever rate the host uses (protocol.md §1). */
		if (host_baud > 0) {
			d->uart_baud = host_baud;
			d->chip.uart_baud = host_baud;
		}
		sim_loader_feed(&d->loader, tmp, len);
		break;
	case SIM_MODE_STUB:
		if (host_baud > 0 && host_baud != d->uart_baud) {
			sim_uart_resample(tmp, len, host_baud, d->uart_baud, &rs);
			if (!d->cfg.fast) {
				line_add(d, buf_head(&rs), buf_len(&rs), start, dur);
				ring_run(d, d->now);
				break;
			}
			stub_feed(d->stub, buf_head(&rs), buf_len(&rs));
		} else if (!d->cfg.fast) {
			line_add(d, tmp, len, start, dur);
			ring_run(d, d->now);
			break;
		} else
			stub_feed(d->stub, tmp, len);
		if (d->flash_lost) {
			d->flash_lost = 0;
			set_pending(d, PEND_POWER_LOST, d->now);
		}
		stub_pump(d);
		break;
	default:
		/* Booting, running the application or halted: nobody reads UART0. */
		break;
	}
	buf_free(&rs);
	free(tmp);
}

void
sim_dev_host_break(struct sim_dev *d, uint32_t host_baud, int64_t now_us)
{
	static const uint8_t zero = 0;

	/* A break is a byte of zeros with a framing error: the receiver takes 0x00. */
	sim_dev_host_rx(d, &zero, 1, host_baud, now_us);
}

static void
deliver(struct sim_dev *d, const uint8_t *p, size_t n, uint32_t baud, uint32_t host_baud)
{
	uint8_t *tmp = xmalloc(n);

	memcpy(tmp, p, n);
	n = sim_fault_apply(&d->fault, tmp, n);
	if (host_baud == 0)
		host_baud = baud;
	sim_uart_resample(tmp, n, baud, host_baud, &d->usb);
	free(tmp);
}

/* Moves the bytes whose last bit has left the chip by d->now into the USB bridge's buffer. */
static void
deliver_due(struct sim_dev *d, uint32_t host_baud)
{
	while (d->qhead < d->qn) {
		struct seg *s = &d->q[d->qhead];
		size_t done;

		if (d->cfg.fast)
			done = s->t <= d->now ? s->len : 0;
		else if (s->t >= d->now)
			done = 0;
		else {
			done = (size_t)((uint64_t)(d->now - s->t) * s->baud / 10 / 1000000u);
			if (done > s->len)
				done = s->len;
		}
		if (done > s->off) {
			if (buf_len(&d->usb) == 0)
				d->usb_first = d->now;
			deliver(d, s->data + s->off, done - s->off, s->baud, host_baud);
			s->off = done;
		}
		if (s->off < s->len)
			break;
		free(s->data);
		d->qhead++;
	}
	if (d->qhead == d->qn)
		d->qhead = d->qn = 0;
}

void
sim_dev_run(struct sim_dev *d, int64_t now_us, uint32_t host_baud, struct buf *out)
{
	int64_t target = now_us > d->now ? now_us : d->now;

	/* Walk through the due events in time order, so that each happens at its own time. */
	for (int guard = 0; guard < 10000; guard++) {
		int64_t step = target;

		if (d->pending != PEND_NONE && d->pending_at < step)
			step = d->pending_at;
		if (d->mode == SIM_MODE_APP && d->plan.nloop > 0 && d->qhead == d->qn &&
		    d->loop_next < step)
			step = d->loop_next;
		if (step < d->now)
			step = d->now;
		/* The stub's receive ring up to step; a slice may end the stub (a reset, a power
		 * loss), which then comes first. */
		ring_run(d, step);
		if (d->pending != PEND_NONE && d->pending_at < step)
			step = d->pending_at > d->now ? d->pending_at : d->now;
		d->now = step;
		if (d->cpu < d->now && d->mode != SIM_MODE_BOOT)
			d->cpu = d->now;
		deliver_due(d, host_baud);
		if (d->pending != PEND_NONE && d->pending_at <= d->now) {
			do_pending(d);
			continue;
		}
		if (d->stub_more && out != NULL &&
		    backlog(d) + buf_len(out) < STUB_TX_BACKLOG / 2) {
			size_t before = backlog(d);

			stub_pump(d);
			if (backlog(d) > before)
				continue;
		}
		if (d->mode == SIM_MODE_APP && d->plan.nloop > 0 && d->loop_next <= d->now &&
		    d->qhead == d->qn) {
			app_iteration(d);
			continue;
		}
		if (d->now >= target)
			break;
	}
	/* The USB bridge's latency timer. */
	if (out != NULL && buf_len(&d->usb) > 0 && (d->cfg.fast || d->cfg.usb_latency_ms == 0 ||
	    buf_len(&d->usb) >= USB_BURST_BYTES ||
	    d->now >= d->usb_first + (int64_t)d->cfg.usb_latency_ms * 1000)) {
		buf_add(out, buf_head(&d->usb), buf_len(&d->usb));
		buf_reset(&d->usb);
	}
	if (out != NULL && sim_fault_cut(&d->fault)) {
		/* The cable is pulled once: the board loses its supply with it. */
		power_off(d);
		d->fault.cut_after = 0;
		d->cut = 1;
	}
}

int64_t
sim_dev_next_us(const struct sim_dev *d)
{
	int64_t t = -1;

#define CAND(x) do { int64_t c_ = (x); if (t < 0 || c_ < t) t = c_; } while (0)
	if (d->qhead < d->qn) {
		const struct seg *s = &d->q[d->qhead];

		CAND(seg_done_at(d, s, s->off + 1));
	}
	if (d->pending != PEND_NONE)
		CAND(d->pending_at);
	if (d->mode == SIM_MODE_APP && d->plan.nloop > 0)
		CAND(d->loop_next);
	if (buf_len(&d->usb) > 0)
		CAND(d->cfg.fast ? d->now : d->usb_first + (int64_t)d->cfg.usb_latency_ms * 1000);
	if (d->stub_more && backlog(d) < STUB_TX_BACKLOG / 2)
		CAND(d->now);
	/* The stub's next slice, or (while it waits for bytes) the first byte on the line that
	 * can end a frame: nothing the host can see happens before that. */
	if (ring_active(d) && ring_unfed(d) > 0)
		CAND(d->cpu);
	else if (ring_active(d) && line_next_end(d) >= 0)
		CAND(line_next_end(d) > d->cpu ? line_next_end(d) : d->cpu);
#undef CAND
	return t;
}

void
sim_dev_power(struct sim_dev *d, int on, int64_t now_us)
{
	advance(d, now_us);
	if (!on) {
		power_off(d);
		return;
	}
	if (d->powered)
		return;
	d->powered = 1;
	d->boot_count = 0;
	q_clear(d);
	d->mode = SIM_MODE_RESET;
	if (d->en) {
		d->boot_cause = SIM_RST_POWERON;
		set_pending(d, PEND_HW_BOOT, d->now + STRAP_LATCH_US);
	}
}

void
sim_dev_set_en(struct sim_dev *d, int level, int64_t now_us)
{
	advance(d, now_us);
	level = level != 0;
	if (level == d->en)
		return;
	d->en = level;
	if (!d->powered)
		return;
	if (!level) {
		q_clear(d);
		plan_drop(d);
		d->mode = SIM_MODE_RESET;
		d->pending = PEND_NONE;
	} else {
		d->boot_cause = SIM_RST_EXTERNAL;
		set_pending(d, PEND_HW_BOOT, d->now + STRAP_LATCH_US);
	}
}

void
sim_dev_reset(struct sim_dev *d, int64_t now_us)
{
	sim_dev_set_en(d, 0, now_us);
	sim_dev_set_en(d, 1, now_us);
}

void
sim_dev_set_lines(struct sim_dev *d, int dtr, int rts, int64_t now_us)
{
	sim_dev_set_gpio0_pull(d, dtr && !rts);
	sim_dev_set_en(d, !(rts && !dtr), now_us);
}

void sim_dev_set_button(struct sim_dev *d, int pressed) { d->button = pressed != 0; }
void sim_dev_set_gpio0_pull(struct sim_dev *d, int low) { d->pull_low = low != 0; }
void sim_dev_set_scenario(struct sim_dev *d, enum sim_scenario s) { d->cfg.scenario = s; }

void
sim_dev_set_strap(struct sim_dev *d, int gpio, int level)
{
	if (gpio == 2)
		d->gpio2 = level != 0;
	else if (gpio == 15)
		d->gpio15 = level != 0;
}

enum sim_mode sim_dev_mode(const struct sim_dev *d) { return d->mode; }
int
sim_dev_cable_cut(struct sim_dev *d)
{
	int cut = d->cut;

	d->cut = 0;
	return cut;
}
const struct sim_chip *sim_dev_chip(const struct sim_dev *d) { return &d->chip; }
const uint8_t *sim_dev_flash(const struct sim_dev *d) { return sim_flash_data(d->flash); }

void
sim_dev_status(const struct sim_dev *d, char *dst, size_t len)
{
	static const char *const scn[] = { "none", "exception", "soft-wdt", "hw-wdt", "brownout" };
	int gpio0 = !(d->button || d->pull_low || d->fault.stuck_gpio0);

	snprintf(dst, len, "powered=%s mode=%s baud=%u chip=%s mac=%02x:%02x:%02x:%02x:%02x:%02x "
	    "chip_id=0x%08x flash_id=0x%06X flash_size=%u en=%d gpio0=%d gpio2=%d gpio15=%d "
	    "latched=(%d,%d,%d) boot_mode=%d rst_cause=%d boots=%u scenario=%s rx_dropped=%llu",
	    d->powered ? "yes" : "no", sim_dev_mode_name(d->mode), d->uart_baud,
	    d->chip.id.esp8285 ? "esp8285" : "esp8266",
	    d->chip.id.mac[0], d->chip.id.mac[1], d->chip.id.mac[2], d->chip.id.mac[3],
	    d->chip.id.mac[4], d->chip.id.mac[5], sim_chip_id(&d->chip), d->chip.id.flash_id,
	    d->chip.id.flash_size, d->en, gpio0, d->gpio2, d->gpio15, d->l_gpio15, d->l_gpio0,
	    d->l_gpio2, d->l_gpio15 << 2 | d->l_gpio0 << 1 | d->l_gpio2, d->hw_cause, d->boot_count,
	    (size_t)d->cfg.scenario < ARRAY_SIZE(scn) ? scn[d->cfg.scenario] : "?",
	    (unsigned long long)d->rx_dropped);
}

uint64_t sim_dev_rx_dropped(const struct sim_dev *d) { return d->rx_dropped; }
