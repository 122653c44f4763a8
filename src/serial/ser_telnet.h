/*
 * ser_telnet.h: the telnet side of RFC 2217 (RFC 854/855 framing, option negotiation and
 * COM-PORT-OPTION subnegotiations), as a push parser over byte buffers with no I/O of its own.
 * ser_rfc2217.c feeds it what the socket delivers; the fuzz target feeds it anything.
 *
 * Data bytes come out unescaped (IAC IAC is one 0xFF); commands never reach the data. The
 * decoder answers the server's option requests by appending replies to a buffer the caller
 * sends, replying only when our state changes (RFC 854), so negotiation cannot loop.
 */
#ifndef ESPDESK_SER_TELNET_H
#define ESPDESK_SER_TELNET_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define TELNET_SE 240
#define TELNET_NOP 241
#define TELNET_SB 250
#define TELNET_WILL 251
#define TELNET_WONT 252
#define TELNET_DO 253
#define TELNET_DONT 254
#define TELNET_IAC 255
#define TELNET_OPT_BINARY 0
#define TELNET_OPT_SGA 3
#define TELNET_OPT_COMPORT 44

/* RFC 2217 client-to-server commands; the server answers with the same code plus 100. */
#define CPO_SET_BAUDRATE 1
#define CPO_SET_DATASIZE 2
#define CPO_SET_PARITY 3
#define CPO_SET_STOPSIZE 4
#define CPO_SET_CONTROL 5
#define CPO_PURGE_DATA 12
#define CPO_SERVER 100

struct ser_telnet {
	int state;
	uint8_t opt_cmd;
	uint8_t sb[64];         /* the subnegotiation being received (longer ones are cut) */
	size_t sblen;
	uint8_t we_will[256];   /* we have said WILL opt */
	uint8_t we_do[256];     /* we have said DO opt */
	int comport;            /* 1: the server said DO COM-PORT-OPTION; -1: DONT; 0: not yet */
	int baud_acked;         /* a SET-BAUDRATE answer arrived since this was cleared */
	uint32_t baud_ack;      /* the rate it gave */
};

void ser_telnet_init(struct ser_telnet *t);
/* Decodes n bytes from the server: data to data, negotiation answers to reply. */
void ser_telnet_feed(struct ser_telnet *t, const uint8_t *in, size_t n, struct buf *data,
    struct buf *reply);
/* Appends IAC cmd opt. */
void ser_telnet_cmd(struct buf *out, uint8_t cmd, uint8_t opt);
/* Appends IAC SB COM-PORT-OPTION code payload IAC SE, doubling any 0xFF in the payload. */
void ser_telnet_sb(struct buf *out, uint8_t code, const uint8_t *payload, size_t len);
/* Appends data with every 0xFF doubled. */
void ser_telnet_escape(struct buf *out, const uint8_t *data, size_t len);

#endif
