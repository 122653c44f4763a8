/*
 * sim_rfc2217.h: the server side of Telnet with the COM-PORT-OPTION (RFC 2217), as a push parser.
 *
 * Principles of operation. Bytes from the TCP client go to sim_rfc2217_feed(). Plain data (with
 * IAC IAC unescaped to 0xFF) is reported as SIM_RFC_DATA; COM-PORT-OPTION subnegotiations are
 * answered in `reply` (the server's echo, command + 100, RFC 2217 §3) and reported as events:
 * SET-BAUDRATE, SET-CONTROL DTR/RTS on/off and BREAK on/off, PURGE-DATA. Option negotiation
 * accepts BINARY, ECHO, SUPPRESS-GO-AHEAD and COM-PORT-OPTION in both directions and refuses the
 * rest, answering each request once. Data going to the client must be escaped with
 * sim_rfc2217_escape() (0xFF doubled). Subnegotiations longer than 64 bytes are dropped whole.
 */
#ifndef ESPDESK_SIM_RFC2217_H
#define ESPDESK_SIM_RFC2217_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum sim_rfc_event {
	SIM_RFC_DATA,    /* data/len: serial data for the device */
	SIM_RFC_BAUD,    /* value: the host's new baud */
	SIM_RFC_DTR,     /* value: 1 asserted, 0 released */
	SIM_RFC_RTS,
	SIM_RFC_BREAK,   /* value: 1 on, 0 off */
	SIM_RFC_PURGE,   /* value: 1 the server's receive buffer (device -> client), 2 its
	                  * transmit buffer (client -> device), 3 both */
};

typedef void sim_rfc_cb(void *arg, enum sim_rfc_event ev, uint32_t value, const uint8_t *data,
    size_t len);

struct sim_rfc2217 {
	int state;
	uint8_t opt;
	uint8_t sb[64];
	size_t sblen;
	int sb_overflow;
	uint32_t baud;
	int dtr, rts, brk;
	uint8_t will_sent[256], do_sent[256];
};

/* baud: what SET-BAUDRATE queries report until the client sets one. */
void sim_rfc2217_init(struct sim_rfc2217 *r, uint32_t baud);
/* The server's opening offer (DO COM-PORT-OPTION, WILL BINARY, DO BINARY, WILL SGA). */
void sim_rfc2217_greeting(struct sim_rfc2217 *r, struct buf *out);
void sim_rfc2217_feed(struct sim_rfc2217 *r, const uint8_t *in, size_t len, struct buf *reply,
    sim_rfc_cb *cb, void *arg);
/* Appends data to out with every 0xFF doubled. */
void sim_rfc2217_escape(const uint8_t *data, size_t len, struct buf *out);

#endif
