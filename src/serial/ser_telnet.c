/*
 * ser_telnet.c: telnet framing and negotiation for the RFC 2217 client (see ser_telnet.h).
 */
#include "config.h"

#include "serial/ser_telnet.h"

#include <string.h>

#include "core/log.h"

enum { TS_DATA, TS_IAC, TS_OPT, TS_SB, TS_SB_IAC };

void
ser_telnet_init(struct ser_telnet *t)
{
	memset(t, 0, sizeof *t);
	t->state = TS_DATA;
}

void
ser_telnet_cmd(struct buf *out, uint8_t cmd, uint8_t opt)
{
	uint8_t b[3] = { TELNET_IAC, cmd, opt };

	buf_add(out, b, sizeof b);
}

void
ser_telnet_escape(struct buf *out, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		buf_add_byte(out, data[i]);
		if (data[i] == TELNET_IAC)
			buf_add_byte(out, TELNET_IAC);
	}
}

void
ser_telnet_sb(struct buf *out, uint8_t code, const uint8_t *payload, size_t len)
{
	uint8_t head[4] = { TELNET_IAC, TELNET_SB, TELNET_OPT_COMPORT, code };
	uint8_t tail[2] = { TELNET_IAC, TELNET_SE };

	buf_add(out, head, sizeof head);
	ser_telnet_escape(out, payload, len);
	buf_add(out, tail, sizeof tail);
}

static int
telnet_wanted(uint8_t opt)
{
	return opt == TELNET_OPT_BINARY || opt == TELNET_OPT_SGA || opt == TELNET_OPT_COMPORT;
}

/* Answers one option command, replying only when our state changes (RFC 854: no loops). */
static void
telnet_option(struct ser_telnet *t, uint8_t cmd, uint8_t opt, struct buf *reply)
{
	switch (cmd) {
	case TELNET_DO:
		if (opt == TELNET_OPT_COMPORT)
			t->comport = 1;
		if (!telnet_wanted(opt))
			ser_telnet_cmd(reply, TELNET_WONT, opt);
		else if (!t->we_will[opt]) {
			t->we_will[opt] = 1;
			ser_telnet_cmd(reply, TELNET_WILL, opt);
		}
		break;
	case TELNET_DONT:
		if (opt == TELNET_OPT_COMPORT)
			t->comport = -1;
		if (t->we_will[opt]) {
			t->we_will[opt] = 0;
			ser_telnet_cmd(reply, TELNET_WONT, opt);
		}
		break;
	case TELNET_WILL:
		if (!telnet_wanted(opt))
			ser_telnet_cmd(reply, TELNET_DONT, opt);
		else if (!t->we_do[opt]) {
			t->we_do[opt] = 1;
			ser_telnet_cmd(reply, TELNET_DO, opt);
		}
		break;
	case TELNET_WONT:
		if (t->we_do[opt]) {
			t->we_do[opt] = 0;
			ser_telnet_cmd(reply, TELNET_DONT, opt);
		}
		break;
	}
}

static void
telnet_subneg(struct ser_telnet *t)
{
	if (t->sblen < 2 || t->sb[0] != TELNET_OPT_COMPORT)
		return;
	if (t->sb[1] == CPO_SERVER + CPO_SET_BAUDRATE && t->sblen >= 6) {
		t->baud_ack = (uint32_t)t->sb[2] << 24 | (uint32_t)t->sb[3] << 16 |
		    (uint32_t)t->sb[4] << 8 | t->sb[5];
		t->baud_acked = 1;
	}
	log_debug("serial: rfc2217 server command %u (%zu bytes)", t->sb[1], t->sblen);
}

void
ser_telnet_feed(struct ser_telnet *t, const uint8_t *in, size_t n, struct buf *data,
    struct buf *reply)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];

		switch (t->state) {
		case TS_DATA:
			if (c == TELNET_IAC)
				t->state = TS_IAC;
			else
				buf_add_byte(data, c);
			break;
		case TS_IAC:
			t->state = TS_DATA;
			if (c == TELNET_IAC)
				buf_add_byte(data, TELNET_IAC);
			else if (c >= TELNET_WILL && c <= TELNET_DONT) {
				t->opt_cmd = c;
				t->state = TS_OPT;
			} else if (c == TELNET_SB) {
				t->sblen = 0;
				t->state = TS_SB;
			}
			/* NOP, GA, DM and the rest carry nothing for a serial port. */
			break;
		case TS_OPT:
			telnet_option(t, t->opt_cmd, c, reply);
			t->state = TS_DATA;
			break;
		case TS_SB:
			if (c == TELNET_IAC)
				t->state = TS_SB_IAC;
			else if (t->sblen < sizeof t->sb)
				t->sb[t->sblen++] = c;
			break;
		case TS_SB_IAC:
			if (c == TELNET_IAC) {
				if (t->sblen < sizeof t->sb)
					t->sb[t->sblen++] = c;
				t->state = TS_SB;
			} else {
				/* IAC SE ends it; anything else is a broken peer: end it anyway. */
				telnet_subneg(t);
				t->state = TS_DATA;
			}
			break;
		}
	}
}
