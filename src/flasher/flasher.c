/* flasher.c: a session: open (connect, identify, stub, baud), events, finish, close. */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser.h"

const char *
flasher_phase_name(enum flasher_phase ph)
{
	static const char *const names[] = {
		"connect", "waiting", "identify", "stub", "baud", "read", "erase", "write",
		"verify", "reset", "notice",
	};
	return (size_t)ph < ARRAY_SIZE(names) ? names[ph] : "unknown";
}

void
flasher_phase_start(struct flasher *f, enum flasher_phase ph)
{
	f->ph = ph;
	f->ph_start_us = clock_now_us();
	f->ph_base = 0;
}

void
flasher_emit(struct flasher *f, enum flasher_phase ph, uint64_t done, uint64_t total,
    uint32_t addr, const char *msg)
{
	struct flasher_event ev = { ph, done, total, addr, 0, -1, msg };
	double secs;

	if (ph != f->ph && ph != FLASHER_PH_NOTICE)
		flasher_phase_start(f, ph);
	secs = (double)(clock_now_us() - f->ph_start_us) / 1e6;
	if (ph == f->ph && secs > 0.05 && done > f->ph_base) {
		ev.rate = (double)(done - f->ph_base) / secs;
		if (total >= done && ev.rate > 0)
			ev.eta = (double)(total - done) / ev.rate;
	}
	if (msg != NULL)
		log_info("flasher: %s: %s", flasher_phase_name(ph), msg);
	if (f->o.cb != NULL)
		f->o.cb(f->o.cb_arg, &ev);
}

void
flasher_notice(struct flasher *f, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	flasher_emit(f, FLASHER_PH_NOTICE, 0, 0, 0, msg);
	free(msg);
}

const struct flasher_info *
flasher_info(const struct flasher *f)
{
	return &f->info;
}

uint32_t
flasher_flash_size(const struct flasher *f)
{
	return f->info.flash_size ? f->info.flash_size : 4u << 20;
}

/* FLASH_BEGIN(0, 0, 0x400, 0): how esptool makes the ESP8266 ROM attach the SPI flash. */
static int
rom_attach(struct flasher *f, char **cause)
{
	uint32_t w[4] = { 0, 0, ROM_FLASH_BLOCK, 0 };
	char *c = NULL;
	int rc = flasher_io_cmd(f, ROM_OP_FLASH_BEGIN, w, 4, FLASHER_T_CMD, NULL, &c);

	if (rc < 0) {
		*cause = rc == RC_ERR_DEVICE ? xfmt("%s: %s while attaching the SPI flash", f->o.port,
		    c) : flasher_io_cause(f, rc, "attaching the SPI flash");
		free(c);
	}
	return rc;
}

static int
open_baud(struct flasher *f, char **cause)
{
	int top = flasher_plan_baud_top(f->o.baud), rc;

	if (top <= f->info.baud)
		return RC_OK;
	if (!f->info.stub) {
		flasher_notice(f, "the ESP8266 ROM cannot change its baud rate; staying at %d baud "
		    "(the stub, without --no-stub, runs at up to 921600)", f->info.baud);
		return RC_OK;
	}
	for (int b = top; b > f->info.baud; b = flasher_plan_baud_down(b)) {
		char *c = NULL;

		rc = flasher_conn_set_baud(f, b, &c);
		if (rc == RC_OK) {
			if (b != top)
				flasher_notice(f, "%d baud did not work on this adapter; using %d baud "
				    "(next time start there with -b %d)", top, b, b);
			return RC_OK;
		}
		if (rc != RC_ERR_PROTO) {
			*cause = c;
			return rc;
		}
		free(c);
	}
	flasher_notice(f, "no faster baud works on this adapter; staying at %d baud", f->info.baud);
	return RC_OK;
}

int
flasher_open(const struct flasher_opts *o, struct flasher **out, char **cause)
{
	struct flasher *f;
	int rc, baud0;

	*out = NULL;
	*cause = NULL;
	if (o->port == NULL) {
		*cause = xfmt("no port given: use -p PORT (for the simulator, the path espdesk-sim "
		    "printed)");
		return RC_ERR_ARG;
	}
	f = xcalloc(1, sizeof *f);
	f->o = *o;
	flasher_rx_init(&f->rx);
	baud0 = o->sync_baud > 0 ? o->sync_baud : o->baud > 0 && o->baud < 115200 ? o->baud : 115200;
	f->info.baud = baud0;
	if ((rc = ser_open(o->port, baud0, &f->ser, cause)) < 0)
		goto fail;
	if ((rc = flasher_conn_connect(f, cause)) < 0 || (rc = flasher_ident_chip(f, cause)) < 0)
		goto fail;
	if (!o->no_stub && !f->info.stub) {
		if ((rc = flasher_stub_upload(f, cause)) < 0)
			goto fail;
	} else if (o->no_stub && f->info.stub) {
		*cause = xfmt("%s: a stub is already running on the chip, so --no-stub cannot talk to "
		    "the ROM; power-cycle the board into download mode first", o->port);
		rc = RC_ERR_ARG;
		goto fail;
	} else if (o->no_stub && (rc = rom_attach(f, cause)) < 0)
		goto fail;
	if ((rc = open_baud(f, cause)) < 0)
		goto fail;
	if ((rc = flasher_ident_flash(f, cause)) < 0)
		goto fail;
	*out = f;
	return RC_OK;
fail:
	flasher_close(f);
	return rc;
}

static int
send_only(struct flasher *f, uint8_t op, const uint32_t *w, size_t n)
{
	uint8_t pkt[ROM_HDR_LEN + 16];
	size_t len = rom_proto_words_cmd_build(pkt, sizeof pkt, op, w, n);

	return flasher_io_send(f, pkt, len);
}

int
flasher_finish(struct flasher *f, char **cause)
{
	static const uint32_t begin0[4] = { 0, 0, ROM_FLASH_BLOCK, 0 };
	int rc = RC_OK;

	*cause = NULL;
	if (f == NULL || f->closed_session)
		return RC_OK;
	f->closed_session = 1;
	flasher_emit(f, FLASHER_PH_RESET, 0, 0, 0, NULL);
	switch (f->o.after) {
	case FLASHER_AFTER_HARD_RESET:
		rc = flasher_conn_hard_reset(f);
		if (rc == RC_ERR_NOTSUP || f->info.manual_board) {
			flasher_notice(f, "this board cannot be reset from the port: power-cycle it "
			    "(with GPIO0 released) to start the firmware");
			rc = RC_OK;
		} else if (rc == RC_OK) {
			/* Did it boot the firmware? The ROM banner's boot mode says (§11.5). */
			int mode = flasher_conn_watch_boot(f, 400);

			if (mode == 1)
				flasher_notice(f, "the chip restarted in download mode (boot mode 1), not "
				    "the firmware: GPIO0 is held low (a stuck button or a wiring fault). "
				    "Release it and power-cycle the board");
			else if (mode < 0 && !flasher_io_cancelled(f))
				flasher_notice(f, "no boot message came after the reset through RTS: this "
				    "board has no auto-reset wiring (no Sonoff has), so power-cycle it (with "
				    "GPIO0 released) to start the firmware");
			f->info.stub = 0;
			return RC_OK;
		}
		break;
	case FLASHER_AFTER_SOFT_RESET:
		if (f->info.stub) {
			/* The ESP8266 stub runs user code on RUN_USER_CODE and sends no reply. */
			rc = send_only(f, ROM_OP_RUN_USER_CODE, NULL, 0);
		} else {
			uint32_t one = 1;

			if ((rc = flasher_io_cmd(f, ROM_OP_FLASH_BEGIN, begin0, 4, FLASHER_T_CMD, NULL,
			    NULL)) == RC_OK)
				rc = send_only(f, ROM_OP_FLASH_END, &one, 1);
		}
		if (rc == RC_OK)
			flasher_notice(f, "the firmware runs now; the next software restart comes back "
			    "in download mode until the board is power-cycled");
		break;
	case FLASHER_AFTER_NO_RESET:
		if (f->info.stub) {
			uint32_t zero = 0;

			/* FLASH_END(0) makes the stub reset back into the ROM loader (§4.3); it answers
			 * first, and waiting for that answer makes sure the command got there. */
			if ((rc = flasher_io_cmd(f, ROM_OP_FLASH_BEGIN, begin0, 4, FLASHER_T_CMD, NULL,
			    NULL)) == RC_OK)
				rc = flasher_io_cmd(f, ROM_OP_FLASH_END, &zero, 1, 500, NULL, NULL);
			if (rc == RC_ERR_TIMEOUT)
				rc = RC_OK;
			f->info.stub = 0;
		}
		break;
	}
	if (rc < 0 && rc != RC_ERR_NOTSUP) {
		*cause = flasher_io_cause(f, rc, "running the --after action");
		return rc;
	}
	ser_flush(f->ser, 500);
	return RC_OK;
}

int
flasher_run(struct flasher *f, char **cause)
{
	f->o.after = FLASHER_AFTER_SOFT_RESET;
	f->closed_session = 0;
	return flasher_finish(f, cause);
}

void
flasher_close(struct flasher *f)
{
	if (f == NULL)
		return;
	if (f->ser != NULL)
		ser_close(f->ser);
	flasher_rx_free(&f->rx);
	free(f);
}
