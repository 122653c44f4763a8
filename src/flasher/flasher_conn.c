/*
 * flasher_conn.c: getting a conversation going. Reset strategies (§11.1), SYNC (§4.1), the
 * manual "waiting for download mode" loop for boards without auto-reset, and the baud ladder
 * once the stub runs (§4.5 CHANGE_BAUDRATE).
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser.h"
#include "serial/ser_wait.h"

/* Sets DTR and RTS (1 = asserted = pin low). Remembers a port without modem lines. */
static int
lines(struct flasher *f, int dtr, int rts, int tight)
{
	int rc;

	if (f->no_lines)
		return RC_ERR_NOTSUP;
	if (tight)
		rc = ser_set_dtr_rts(f->ser, dtr, rts);
	else if ((rc = ser_set_dtr(f->ser, dtr)) == RC_OK)
		rc = ser_set_rts(f->ser, rts);
	if (rc == RC_ERR_NOTSUP)
		f->no_lines = 1;
	return rc;
}

/*
 * One reset into the loader. kind 0/1: UnixTight with 50/550 ms, 2/3: Classic with 50/550 ms,
 * the order esptool cycles through across attempts (§11.1). DTR drives GPIO0, RTS drives EN.
 */
static int
reset_into_loader(struct flasher *f, int kind)
{
	int tight = kind < 2, delay = kind % 2 ? 550 : 50, rc;

	if (tight && (rc = lines(f, 0, 0, 1)) < 0)
		return rc;
	if ((rc = lines(f, 0, 1, tight)) < 0)      /* IO0 high, EN low: in reset */
		return rc;
	if ((rc = flasher_io_sleep(f, 100)) < 0)
		return rc;
	if ((rc = lines(f, 1, 0, tight)) < 0)      /* IO0 low, EN high: boots into the loader */
		return rc;
	if ((rc = flasher_io_sleep(f, delay)) < 0)
		return rc;
	return lines(f, 0, 0, tight);              /* release IO0 */
}

int
flasher_conn_hard_reset(struct flasher *f)
{
	int rc;

	if ((rc = lines(f, 0, 1, 0)) < 0)
		return rc;
	if ((rc = flasher_io_sleep(f, 100)) < 0)
		return rc;
	return lines(f, 0, 0, 0);
}

int
flasher_conn_watch_boot(struct flasher *f, int ms)
{
	char text[2048];
	size_t len = 0;
	int64_t end = clock_now_ms() + ms;
	/* The ROM prints its banner at 115200 x 26/40 on a 26 MHz part (§1). */
	int rom_baud = f->info.xtal_mhz == 40 ? 115200 : 74880;
	const char *p;

	if (ser_set_baud(f->ser, rom_baud) < 0)
		return -1;
	while (len < sizeof text - 1 && clock_left_ms(end) > 0) {
		int n;

		if (flasher_io_cancelled(f))
			return -1;
		n = ser_read(f->ser, text + len, sizeof text - 1 - len, 50);
		if (n < 0)
			return -1;
		len += (size_t)n;
		text[len] = '\0';
		if ((p = strstr(text, "boot mode:(")) != NULL && strchr(p, ')') != NULL)
			break;
	}
	text[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\0')
			text[i] = ' ';
	if ((p = strstr(text, "boot mode:(")) == NULL || p[11] < '0' || p[11] > '7')
		return -1;
	return p[11] - '0';
}

/* One SYNC (§4.1). RC_OK when the loader (or a stub: value 0) answered. */
int
flasher_conn_sync(struct flasher *f, int *stub_running)
{
	uint8_t data[ROM_SYNC_DATA_LEN], pkt[ROM_HDR_LEN + ROM_SYNC_DATA_LEN];
	struct rom_proto_resp r;
	size_t len;
	int rc;

	data[0] = 0x07; data[1] = 0x07; data[2] = 0x12; data[3] = 0x20;
	memset(data + 4, 0x55, sizeof data - 4);
	len = rom_proto_cmd_build(pkt, sizeof pkt, ROM_OP_SYNC, data, sizeof data, 0);
	ser_discard(f->ser);
	flasher_rx_reset(&f->rx);
	if ((rc = flasher_io_send(f, pkt, len)) < 0)
		return rc;
	/* esptool allows 100 ms for the first reply; a 16 ms USB latency timer each way fits. */
	if ((rc = flasher_io_resp(f, ROM_OP_SYNC, 150, &r)) < 0)
		return rc;
	*stub_running = r.value == 0;
	/* The other seven replies: take what comes, stop at the first quiet 100 ms. */
	for (int i = 1; i < ROM_SYNC_REPLIES; i++) {
		const uint8_t *d;
		size_t n;
		int bad;

		if ((rc = flasher_io_frame(f, 100, &d, &n, &bad)) < 0)
			break;
	}
	return rc == RC_ERR_CANCEL || rc == RC_ERR_GONE ? rc : RC_OK;
}

/* FLASHER_BEFORE_AUTO resets through DTR/RTS with the two tight sequences (about 2.5 s, what
 * works on Linux adapters, §11.1); then it tells the user how to enter download mode by hand
 * and leaves the lines alone, so a later answer is the user's doing. */
#define AUTO_RESETS 2

/* What the user is told while the port is away. */
static void
replug_say(void *arg, int gone, const char *why)
{
	struct flasher *f = arg;
	char *msg = gone ? NULL : xfmt("%s is back but cannot be opened: %s", f->o.port, why);

	flasher_emit(f, FLASHER_PH_WAITING, 0, 0, 0, gone ? "the adapter is unplugged: keep "
	    "holding GPIO0 low (the button) and plug it in again" : msg);
	free(msg);
}

/*
 * The port went away while the user was to put the board in download mode: on a board powered
 * from the adapter (every Sonoff on a USB-serial adapter), unplugging and replugging the adapter
 * is how the power is cycled. Waits for the port to come back (ser_wait.h), until the user
 * cancels or the connect time is up.
 */
static int
wait_replug(struct flasher *f, int64_t start, int limit, char **cause)
{
	int rc;

	ser_close(f->ser);
	f->ser = NULL;
	flasher_rx_reset(&f->rx);
	rc = ser_wait_back(f->o.port, f->info.baud, limit >= 0 ? start + limit : -1, f->o.cancel,
	    replug_say, f, &f->ser, cause);
	if (rc == RC_OK) {
		log_debug("flasher: %s is back", f->o.port);
		f->no_lines = 0;
	}
	return rc;
}

int
flasher_conn_connect(struct flasher *f, char **cause)
{
	enum flasher_before b = f->o.before;
	/* manual: the user is told to put the board in download mode (and may unplug it). */
	int manual = b == FLASHER_BEFORE_MANUAL;
	int limit = f->o.connect_ms > 0 ? f->o.connect_ms :
	    b == FLASHER_BEFORE_MANUAL || b == FLASHER_BEFORE_AUTO ? -1 : 10000;
	int64_t start = clock_now_ms(), last_wait = -100000;
	int rc, stub_running = 0;

	*cause = NULL;
	flasher_phase_start(f, FLASHER_PH_CONNECT);
	for (unsigned attempt = 0;; attempt++) {
		int reset = !f->no_lines && (b == FLASHER_BEFORE_DEFAULT ||
		    (b == FLASHER_BEFORE_AUTO && attempt < AUTO_RESETS));

		if (reset) {
			rc = reset_into_loader(f, (int)(attempt % 4));
			if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE)
				goto fail;
			if (rc == RC_ERR_NOTSUP && b == FLASHER_BEFORE_DEFAULT)
				flasher_notice(f, "%s has no DTR/RTS lines, so the chip was not reset; it "
				    "must already be in download mode (GPIO0 held low at power-on)",
				    f->o.port);
		}
		/* Without lines, one silent attempt first: the chip may already be in the loader. */
		if (b == FLASHER_BEFORE_AUTO && !manual &&
		    (f->no_lines ? attempt >= 1 : attempt >= AUTO_RESETS)) {
			manual = 1;
			flasher_notice(f, f->no_lines ? "%s has no DTR/RTS lines, so espdesk cannot "
			    "reset the chip: put it in download mode by hand" : "no answer on %s after a "
			    "DTR/RTS reset: this board has no auto-reset wiring (no Sonoff has), so "
			    "put it in download mode by hand", f->o.port);
		}
		flasher_emit(f, FLASHER_PH_CONNECT, attempt + 1, 0, 0, NULL);
		for (int i = 0; i < 5; i++) {
			/* Without a reset, a stub left running by an earlier session may still be at a
			 * high baud: the last try of each attempt listens there (the ROM autobauds, so
			 * a ROM answers too). */
			int alt = i == 4 && b == FLASHER_BEFORE_NO_RESET &&
			    flasher_plan_baud_top(f->o.baud) > 115200;

			if (alt && ser_set_baud(f->ser, flasher_plan_baud_top(f->o.baud)) < 0)
				alt = 0;
			if (manual && clock_now_ms() - last_wait >= 1000) {
				last_wait = clock_now_ms();
				flasher_emit(f, FLASHER_PH_WAITING, (uint64_t)(last_wait - start) / 1000, 0, 0,
				    "waiting for download mode: hold GPIO0 low (on a Sonoff, the button) while "
				    "you power the board, then release it");
			}
			rc = flasher_conn_sync(f, &stub_running);
			/* A ROM that answers at the high rate has autobauded to it: stay there. */
			if (alt && rc != RC_OK)
				ser_set_baud(f->ser, f->info.baud);
			if (rc == RC_OK) {
				f->info.stub = stub_running;
				f->info.baud = ser_get_baud(f->ser);
				/* The chip came up without our reset: power cycles are the user's. */
				f->info.manual_board = manual;
				log_debug("flasher: synced on attempt %u%s", attempt + 1,
				    stub_running ? " (stub already running)" : "");
				return RC_OK;
			}
			if (rc == RC_ERR_GONE && manual) {
				if ((rc = wait_replug(f, start, limit, cause)) < 0)
					return rc;
				last_wait = -100000;
				continue;
			}
			if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE)
				goto fail;
			if ((rc = flasher_io_sleep(f, 50)) < 0)
				goto fail;
		}
		if (limit >= 0 && clock_now_ms() - start >= limit)
			break;
		/* A higher SYNC baud is the user's bet that adapter and autobaud cope (§1); after two
		 * silent attempts, take the rate every ESP8266 answers at. */
		if (attempt == 1 && f->info.baud > 115200 && f->o.sync_baud > 115200) {
			if ((rc = ser_set_baud(f->ser, 115200)) < 0)
				goto fail;
			flasher_notice(f, "no answer to SYNC at %d baud (this adapter or the chip's "
			    "autobaud does not cope); syncing at 115200 instead", f->info.baud);
			f->info.baud = 115200;
		}
	}
	if (manual)
		*cause = xfmt("%s: no answer from the chip after %d s: it never entered download "
		    "mode. Hold GPIO0 low (the button on a Sonoff) while you apply power, release it, "
		    "and check TX→RX, RX→TX, GND and 3.3 V (never 5 V)", f->o.port, limit / 1000);
	else
		*cause = xfmt("%s: timed out waiting for packet header: the chip did not answer SYNC "
		    "in %d s, so it is not in download mode.%s Check that TX and RX are crossed and "
		    "that the board has 3.3 V; boards without auto-reset (every Sonoff) need "
		    "--before manual: hold GPIO0 low (the button) while you power the board",
		    f->o.port, limit / 1000, f->no_lines ? " The port has no DTR/RTS, so espdesk "
		    "could not reset the chip." : "");
	return RC_ERR_TIMEOUT;
fail:
	*cause = flasher_io_cause(f, rc, "connecting");
	return rc;
}

/* READ_REG of the magic register with a short timeout: is the link alive at this baud? */
static int
link_ok(struct flasher *f, int tries)
{
	for (int i = 0; i < tries; i++) {
		uint32_t addr = ROM_MAGIC_REG;
		struct rom_proto_resp r;
		int rc = flasher_io_cmd(f, ROM_OP_READ_REG, &addr, 1, 300, &r, NULL);

		if (rc == RC_OK && r.value == ROM_MAGIC_ESP8266)
			return RC_OK;
		if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE)
			return rc;
		if ((rc = flasher_io_drain(f, 30, 500)) < 0)
			return rc;
	}
	return RC_ERR_TIMEOUT;
}

int
flasher_conn_resync(struct flasher *f, char **cause)
{
	int rc;

	*cause = NULL;
	if ((rc = flasher_io_drain(f, 60, 3000)) < 0 || (rc = link_ok(f, 5)) < 0) {
		*cause = flasher_io_cause(f, rc, "getting the link back after a broken transfer");
		return rc;
	}
	return RC_OK;
}

/* Sends CHANGE_BAUDRATE(new, old) and switches the host. No check of the new rate. */
static int
switch_baud(struct flasher *f, int baud)
{
	uint32_t w[2] = { (uint32_t)baud, (uint32_t)ser_get_baud(f->ser) };
	int rc = RC_ERR_TIMEOUT;

	for (int i = 0; i < 3; i++) {
		rc = flasher_io_cmd(f, ROM_OP_CHANGE_BAUDRATE, w, 2, 1000, NULL, NULL);
		if (rc == RC_OK || rc == RC_ERR_CANCEL || rc == RC_ERR_GONE)
			break;
		flasher_io_drain(f, 30, 300);
	}
	if (rc != RC_OK)
		return rc;
	/* The stub replies at the old rate, waits about 10 ms, then switches (stub.md). */
	if ((rc = flasher_io_sleep(f, 50)) < 0)
		return rc;
	if ((rc = ser_set_baud(f->ser, baud)) < 0)
		return rc;
	return flasher_io_drain(f, 20, 200);
}

int
flasher_conn_set_baud(struct flasher *f, int baud, char **cause)
{
	int old = ser_get_baud(f->ser), rc;

	*cause = NULL;
	if (baud == old)
		return RC_OK;
	flasher_emit(f, FLASHER_PH_BAUD, 0, 0, 0, NULL);
	if ((rc = switch_baud(f, baud)) == RC_OK && (rc = link_ok(f, 3)) == RC_OK) {
		f->info.baud = baud;
		return RC_OK;
	}
	if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE) {
		*cause = flasher_io_cause(f, rc, "changing the baud rate");
		return rc;
	}
	/* The stub may be at the new rate with a link that does not work there: ask it (at the new
	 * rate) to come back to the old one, then check at the old one. */
	log_debug("flasher: %d baud does not work, going back to %d", baud, old);
	if (ser_get_baud(f->ser) != old) {
		uint32_t w[2] = { (uint32_t)old, (uint32_t)baud };

		flasher_io_cmd(f, ROM_OP_CHANGE_BAUDRATE, w, 2, 500, NULL, NULL);
		flasher_io_sleep(f, 50);
		ser_set_baud(f->ser, old);
	}
	if (link_ok(f, 3) == RC_OK) {
		f->info.baud = old;
		*cause = xfmt("%s: the link does not work at %d baud", f->o.port, baud);
		return RC_ERR_PROTO;
	}
	*cause = xfmt("%s: lost the chip while changing to %d baud; power-cycle it into download "
	    "mode and run again with -b %d", f->o.port, baud, old);
	return RC_ERR_TIMEOUT;
}

int
flasher_conn_step_down(struct flasher *f, const char *why, char **cause)
{
	int cur = f->info.baud, next = flasher_plan_baud_down(cur), rc;

	*cause = NULL;
	if (!f->info.stub || next == 0)
		return RC_ERR_NOTSUP;
	while (next != 0) {
		char *c2 = NULL;

		rc = flasher_conn_set_baud(f, next, &c2);
		if (rc == RC_OK) {
			flasher_notice(f, "%s at %d baud; continuing at %d baud (next time start there "
			    "with -b %d)", why, cur, next, next);
			free(c2);
			return RC_OK;
		}
		if (rc != RC_ERR_PROTO) {
			*cause = c2;
			return rc;
		}
		free(c2);
		next = flasher_plan_baud_down(next);
	}
	return RC_ERR_NOTSUP;
}
