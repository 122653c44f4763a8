#include "config.h"

#include "sim/sim_rfc2217.h"

#include <string.h>

enum { IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240 };
enum { OPT_BINARY = 0, OPT_ECHO = 1, OPT_SGA = 3, OPT_COMPORT = 44 };
enum { ST_DATA, ST_IAC, ST_OPT, ST_SB, ST_SB_IAC };
enum {
	CPO_SET_BAUDRATE = 1, CPO_SET_DATASIZE = 2, CPO_SET_PARITY = 3, CPO_SET_STOPSIZE = 4,
	CPO_SET_CONTROL = 5, CPO_NOTIFY_LINESTATE = 6, CPO_NOTIFY_MODEMSTATE = 7,
	CPO_FLOWCONTROL_SUSPEND = 8, CPO_FLOWCONTROL_RESUME = 9, CPO_SET_LINESTATE_MASK = 10,
	CPO_SET_MODEMSTATE_MASK = 11, CPO_PURGE_DATA = 12, CPO_SERVER_OFFSET = 100,
};

static int
accepted(uint8_t opt)
{
	return opt == OPT_BINARY || opt == OPT_ECHO || opt == OPT_SGA || opt == OPT_COMPORT;
}

void
sim_rfc2217_init(struct sim_rfc2217 *r, uint32_t baud)
{
	memset(r, 0, sizeof *r);
	r->baud = baud;
}

static void
send3(struct buf *out, uint8_t verb, uint8_t opt)
{
	uint8_t b[3] = { IAC, verb, opt };

	buf_add(out, b, 3);
}

void
sim_rfc2217_greeting(struct sim_rfc2217 *r, struct buf *out)
{
	send3(out, DO, OPT_COMPORT);
	r->do_sent[OPT_COMPORT] = 1;
	send3(out, WILL, OPT_BINARY);
	r->will_sent[OPT_BINARY] = 1;
	send3(out, DO, OPT_BINARY);
	r->do_sent[OPT_BINARY] = 1;
	send3(out, WILL, OPT_SGA);
	r->will_sent[OPT_SGA] = 1;
}

void
sim_rfc2217_escape(const uint8_t *data, size_t len, struct buf *out)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++)
		if (data[i] == IAC) {
			buf_add(out, data + start, i + 1 - start);
			buf_add_byte(out, IAC);
			start = i + 1;
		}
	buf_add(out, data + start, len - start);
}

static void
sb_reply(struct buf *out, uint8_t cmd, const uint8_t *val, size_t n)
{
	uint8_t head[4] = { IAC, SB, OPT_COMPORT, (uint8_t)(cmd + CPO_SERVER_OFFSET) };

	buf_add(out, head, 4);
	sim_rfc2217_escape(val, n, out);
	buf_add_byte(out, IAC);
	buf_add_byte(out, SE);
}

static void
negotiate(struct sim_rfc2217 *r, uint8_t verb, uint8_t opt, struct buf *out)
{
	switch (verb) {
	case DO:
		if (accepted(opt)) {
			if (!r->will_sent[opt])
				send3(out, WILL, opt);
			r->will_sent[opt] = 1;
		} else
			send3(out, WONT, opt);
		break;
	case WILL:
		if (accepted(opt)) {
			if (!r->do_sent[opt])
				send3(out, DO, opt);
			r->do_sent[opt] = 1;
		} else
			send3(out, DONT, opt);
		break;
	case DONT:
		if (r->will_sent[opt])
			send3(out, WONT, opt);
		r->will_sent[opt] = 0;
		break;
	case WONT:
		if (r->do_sent[opt])
			send3(out, DONT, opt);
		r->do_sent[opt] = 0;
		break;
	}
}

static void
subneg(struct sim_rfc2217 *r, struct buf *out, sim_rfc_cb *cb, void *arg)
{
	uint8_t cmd, v, b4[4];
	const uint8_t *val = r->sb + 2;
	size_t n;

	if (r->sblen < 2 || r->sb[0] != OPT_COMPORT)
		return;
	cmd = r->sb[1];
	n = r->sblen - 2;
	v = n ? val[0] : 0;
	switch (cmd) {
	case CPO_SET_BAUDRATE:
		if (n >= 4) {
			uint32_t baud = (uint32_t)val[0] << 24 | (uint32_t)val[1] << 16 |
			    (uint32_t)val[2] << 8 | val[3];

			if (baud != 0) {
				r->baud = baud;
				cb(arg, SIM_RFC_BAUD, baud, NULL, 0);
			}
		}
		b4[0] = (uint8_t)(r->baud >> 24);
		b4[1] = (uint8_t)(r->baud >> 16);
		b4[2] = (uint8_t)(r->baud >> 8);
		b4[3] = (uint8_t)r->baud;
		sb_reply(out, cmd, b4, 4);
		break;
	case CPO_SET_DATASIZE:
		v = 8;  /* 8N1 is all the chip speaks */
		sb_reply(out, cmd, &v, 1);
		break;
	case CPO_SET_PARITY:
	case CPO_SET_STOPSIZE:
		v = 1;  /* NONE / 1 stop bit */
		sb_reply(out, cmd, &v, 1);
		break;
	case CPO_SET_CONTROL:
		switch (v) {
		case 0: case 1: v = 1; break;              /* no flow control */
		case 4: v = r->brk ? 5 : 6; break;
		case 5: case 6:
			r->brk = v == 5;
			cb(arg, SIM_RFC_BREAK, (uint32_t)r->brk, NULL, 0);
			break;
		case 7: v = r->dtr ? 8 : 9; break;
		case 8: case 9:
			r->dtr = v == 8;
			cb(arg, SIM_RFC_DTR, (uint32_t)r->dtr, NULL, 0);
			break;
		case 10: v = r->rts ? 11 : 12; break;
		case 11: case 12:
			r->rts = v == 11;
			cb(arg, SIM_RFC_RTS, (uint32_t)r->rts, NULL, 0);
			break;
		default: break;
		}
		sb_reply(out, cmd, &v, 1);
		break;
	case CPO_PURGE_DATA:
		cb(arg, SIM_RFC_PURGE, v, NULL, 0);
		sb_reply(out, cmd, &v, 1);
		break;
	case CPO_NOTIFY_LINESTATE:
	case CPO_NOTIFY_MODEMSTATE:
		break;
	case CPO_SET_LINESTATE_MASK:
	case CPO_SET_MODEMSTATE_MASK:
	case CPO_FLOWCONTROL_SUSPEND:
	case CPO_FLOWCONTROL_RESUME:
		sb_reply(out, cmd, val, n);
		break;
	default:
		break;
	}
}

void
sim_rfc2217_feed(struct sim_rfc2217 *r, const uint8_t *in, size_t len, struct buf *reply,
    sim_rfc_cb *cb, void *arg)
{
	size_t run = 0;  /* start of the current run of plain data */

	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];

		switch (r->state) {
		case ST_DATA:
			if (c == IAC) {
				if (i > run)
					cb(arg, SIM_RFC_DATA, 0, in + run, i - run);
				r->state = ST_IAC;
			}
			break;
		case ST_IAC:
			run = i + 1;
			if (c == IAC) {
				cb(arg, SIM_RFC_DATA, 0, &c, 1);
				r->state = ST_DATA;
			} else if (c == WILL || c == WONT || c == DO || c == DONT) {
				r->opt = c;
				r->state = ST_OPT;
			} else if (c == SB) {
				r->sblen = 0;
				r->sb_overflow = 0;
				r->state = ST_SB;
			} else
				r->state = ST_DATA;  /* NOP, GA, AYT, ...: ignored */
			break;
		case ST_OPT:
			negotiate(r, r->opt, c, reply);
			r->state = ST_DATA;
			run = i + 1;
			break;
		case ST_SB:
			if (c == IAC)
				r->state = ST_SB_IAC;
			else if (r->sblen < sizeof r->sb)
				r->sb[r->sblen++] = c;
			else
				r->sb_overflow = 1;
			break;
		case ST_SB_IAC:
			if (c == IAC) {
				if (r->sblen < sizeof r->sb)
					r->sb[r->sblen++] = c;
				else
					r->sb_overflow = 1;
				r->state = ST_SB;
			} else {
				/* IAC SE ends it; anything else is malformed and ends it too. */
				if (c == SE && !r->sb_overflow)
					subneg(r, reply, cb, arg);
				r->state = ST_DATA;
				run = i + 1;
			}
			break;
		}
	}
	if (r->state == ST_DATA && len > run)
		cb(arg, SIM_RFC_DATA, 0, in + run, len - run);
}
