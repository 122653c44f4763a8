/*
 * ser_rfc2217.c: a serial port at the far end of a TCP connection, RFC 2217 (telnet
 * COM-PORT-OPTION). Baud rate, DTR/RTS and breaks travel in-band as telnet subnegotiations;
 * data bytes travel as telnet binary data, with 0xFF (IAC) doubled in both directions.
 *
 * We ask for BINARY and SUPPRESS-GO-AHEAD both ways and offer COM-PORT-OPTION (WILL); the
 * server's DO COM-PORT-OPTION makes the connection a serial port. Control commands are not
 * acknowledged before the next byte is sent, except a baud change, which waits (at most 1 s)
 * for the server's reply so that bytes sent after ser_set_baud() go out at the new rate.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser_int.h"

/* Telnet (RFC 854/855) */
#define T_SE 240
#define T_NOP 241
#define T_SB 250
#define T_WILL 251
#define T_WONT 252
#define T_DO 253
#define T_DONT 254
#define T_IAC 255
#define OPT_BINARY 0
#define OPT_SGA 3
#define OPT_COMPORT 44

/* RFC 2217 client-to-server commands; the server answers with the same code plus 100. */
#define CPO_SET_BAUDRATE 1
#define CPO_SET_DATASIZE 2
#define CPO_SET_PARITY 3
#define CPO_SET_STOPSIZE 4
#define CPO_SET_CONTROL 5
#define CPO_PURGE_DATA 12
#define CPO_SERVER 100

/* SET-CONTROL values */
#define CTL_NO_FLOW 1
#define CTL_BREAK_ON 5
#define CTL_BREAK_OFF 6
#define CTL_DTR_ON 8
#define CTL_DTR_OFF 9
#define CTL_RTS_ON 11
#define CTL_RTS_OFF 12

#define RFC_CONNECT_MS 5000
#define RFC_NEGOTIATE_MS 3000
#define RFC_BAUD_ACK_MS 1000

enum rfc_state { RS_DATA, RS_IAC, RS_OPT, RS_SB, RS_SB_IAC };

struct rfc {
	enum rfc_state state;
	uint8_t opt_cmd;
	uint8_t sb[64];
	size_t sblen;
	struct buf rx;          /* data decoded from the server, waiting for the caller */
	struct buf out;         /* escaped data and commands not yet taken by the socket */
	uint8_t we_will[256];   /* we have said WILL opt */
	uint8_t we_do[256];     /* we have said DO opt */
	int comport;            /* 1: server said DO COM-PORT-OPTION; -1: refused; 0: not yet */
	int baud_acked;
	uint32_t baud_ack;
	int gone;
};

static void
rfc_cmd(struct rfc *r, uint8_t cmd, uint8_t opt)
{
	uint8_t b[3] = { T_IAC, cmd, opt };

	buf_add(&r->out, b, sizeof b);
}

/* Queues IAC SB COM-PORT-OPTION code payload IAC SE, doubling any 0xFF in the payload. */
static void
rfc_sb(struct rfc *r, uint8_t code, const uint8_t *payload, size_t len)
{
	uint8_t head[4] = { T_IAC, T_SB, OPT_COMPORT, code }, tail[2] = { T_IAC, T_SE };

	buf_add(&r->out, head, sizeof head);
	for (size_t i = 0; i < len; i++) {
		buf_add_byte(&r->out, payload[i]);
		if (payload[i] == T_IAC)
			buf_add_byte(&r->out, T_IAC);
	}
	buf_add(&r->out, tail, sizeof tail);
}

static void
rfc_sb1(struct rfc *r, uint8_t code, uint8_t value)
{
	rfc_sb(r, code, &value, 1);
}

static int
rfc_wanted(uint8_t opt)
{
	return opt == OPT_BINARY || opt == OPT_SGA || opt == OPT_COMPORT;
}

/* Answers one option command, replying only when our state changes (RFC 854: no loops). */
static void
rfc_option(struct rfc *r, uint8_t cmd, uint8_t opt)
{
	switch (cmd) {
	case T_DO:
		if (opt == OPT_COMPORT)
			r->comport = 1;
		if (!rfc_wanted(opt))
			rfc_cmd(r, T_WONT, opt);
		else if (!r->we_will[opt]) {
			r->we_will[opt] = 1;
			rfc_cmd(r, T_WILL, opt);
		}
		break;
	case T_DONT:
		if (opt == OPT_COMPORT)
			r->comport = -1;
		if (r->we_will[opt]) {
			r->we_will[opt] = 0;
			rfc_cmd(r, T_WONT, opt);
		}
		break;
	case T_WILL:
		if (!rfc_wanted(opt))
			rfc_cmd(r, T_DONT, opt);
		else if (!r->we_do[opt]) {
			r->we_do[opt] = 1;
			rfc_cmd(r, T_DO, opt);
		}
		break;
	case T_WONT:
		if (r->we_do[opt]) {
			r->we_do[opt] = 0;
			rfc_cmd(r, T_DONT, opt);
		}
		break;
	}
}

static void
rfc_subneg(struct rfc *r)
{
	if (r->sblen < 2 || r->sb[0] != OPT_COMPORT)
		return;
	if (r->sb[1] == CPO_SERVER + CPO_SET_BAUDRATE && r->sblen >= 6) {
		r->baud_ack = (uint32_t)r->sb[2] << 24 | (uint32_t)r->sb[3] << 16 |
		    (uint32_t)r->sb[4] << 8 | r->sb[5];
		r->baud_acked = 1;
	}
	log_debug("serial: rfc2217 server command %u (%zu bytes)", r->sb[1], r->sblen);
}

/* The telnet receive state machine: data bytes to r->rx, commands handled on the way. */
static void
rfc_feed(struct rfc *r, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		switch (r->state) {
		case RS_DATA:
			if (c == T_IAC)
				r->state = RS_IAC;
			else
				buf_add_byte(&r->rx, c);
			break;
		case RS_IAC:
			r->state = RS_DATA;
			if (c == T_IAC)
				buf_add_byte(&r->rx, T_IAC);
			else if (c >= T_WILL && c <= T_DONT) {
				r->opt_cmd = c;
				r->state = RS_OPT;
			} else if (c == T_SB) {
				r->sblen = 0;
				r->state = RS_SB;
			}
			/* NOP, GA, DM and the rest carry nothing for a serial port. */
			break;
		case RS_OPT:
			rfc_option(r, r->opt_cmd, c);
			r->state = RS_DATA;
			break;
		case RS_SB:
			if (c == T_IAC)
				r->state = RS_SB_IAC;
			else if (r->sblen < sizeof r->sb)
				r->sb[r->sblen++] = c;
			break;
		case RS_SB_IAC:
			if (c == T_IAC) {
				if (r->sblen < sizeof r->sb)
					r->sb[r->sblen++] = c;
				r->state = RS_SB;
			} else {
				/* IAC SE ends it; anything else is a broken peer: end it anyway. */
				rfc_subneg(r);
				r->state = RS_DATA;
			}
			break;
		}
	}
}

/* Sends what r->out holds, as far as the socket takes it now. */
static int
rfc_push(struct ser *s)
{
	struct rfc *r = s->priv;
	ssize_t n;

	while (buf_len(&r->out) > 0) {
		n = send(s->fd, buf_head(&r->out), buf_len(&r->out), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			buf_drain(&r->out, (size_t)n);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		r->gone = 1;
		return ser_fail(s, RC_ERR_GONE, "%s: the connection to the RFC 2217 server broke (%s); "
		    "is the server still running?", s->name, n == 0 ? "closed" : strerror(errno));
	}
	return RC_OK;
}

/* Reads what the socket has now into the telnet decoder. Returns > 0, 0 (nothing), or rc. */
static int
rfc_recv(struct ser *s)
{
	struct rfc *r = s->priv;
	uint8_t tmp[4096];
	ssize_t n;

	n = recv(s->fd, tmp, sizeof tmp, MSG_DONTWAIT);
	if (n > 0) {
		rfc_feed(r, tmp, (size_t)n);
		return (int)n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	r->gone = 1;
	return ser_fail(s, RC_ERR_GONE, "%s: the RFC 2217 server closed the connection (%s); is it "
	    "still running?", s->name, n == 0 ? "end of stream" : strerror(errno));
}

static int
rfc_read(struct ser *s, uint8_t *buf, size_t len)
{
	struct rfc *r = s->priv;
	size_t n;
	int rc;

	if (buf_len(&r->rx) == 0) {
		if ((rc = rfc_recv(s)) < 0)
			return rc;
		/* Negotiation answers may be waiting to go out. */
		if ((rc = rfc_push(s)) < 0)
			return rc;
	}
	n = buf_len(&r->rx) < len ? buf_len(&r->rx) : len;
	if (n == 0)
		return 0;
	memcpy(buf, buf_head(&r->rx), n);
	buf_drain(&r->rx, n);
	return (int)n;
}

static int
rfc_write(struct ser *s, const uint8_t *buf, size_t len)
{
	struct rfc *r = s->priv;
	int rc;

	if ((rc = rfc_push(s)) < 0)
		return rc;
	if (buf_len(&r->out) > 0 || len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		buf_add_byte(&r->out, buf[i]);
		if (buf[i] == T_IAC)
			buf_add_byte(&r->out, T_IAC);
	}
	if ((rc = rfc_push(s)) < 0)
		return rc;
	return (int)len;
}

/* Pumps the connection until done(r) holds or timeout_ms passes. Returns 1, 0 (timeout), or rc. */
static int
rfc_wait(struct ser *s, int (*done)(const struct rfc *), int timeout_ms)
{
	struct rfc *r = s->priv;
	int64_t deadline = clock_now_ms() + timeout_ms;
	struct pollfd pfd;
	int rc;

	for (;;) {
		if ((rc = rfc_push(s)) < 0)
			return rc;
		if (done(r))
			return 1;
		if (clock_left_ms(deadline) == 0)
			return 0;
		pfd.fd = s->fd;
		pfd.events = (short)(POLLIN | (buf_len(&r->out) ? POLLOUT : 0));
		if (poll(&pfd, 1, (int)clock_left_ms(deadline)) == -1 && errno != EINTR)
			return ser_fail_errno(s, "waiting for the server", errno);
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((rc = rfc_recv(s)) < 0)
				return rc;
		}
	}
}

static int
rfc_done_negotiating(const struct rfc *r)
{
	return r->comport != 0;
}

static int
rfc_done_baud(const struct rfc *r)
{
	return r->baud_acked;
}

static int
rfc_set_baud(struct ser *s, int baud)
{
	struct rfc *r = s->priv;
	uint8_t v[4] = { (uint8_t)(baud >> 24), (uint8_t)(baud >> 16), (uint8_t)(baud >> 8), (uint8_t)baud };
	int rc;

	r->baud_acked = 0;
	rfc_sb(r, CPO_SET_BAUDRATE, v, sizeof v);
	rc = rfc_wait(s, rfc_done_baud, RFC_BAUD_ACK_MS);
	if (rc < 0)
		return rc;
	if (rc == 0)
		log_warn("serial: %s: the RFC 2217 server did not confirm %d baud within %d ms",
		    s->name, baud, RFC_BAUD_ACK_MS);
	else if (r->baud_ack != (uint32_t)baud)
		return ser_fail(s, RC_ERR_NOTSUP, "%s: the RFC 2217 server set %u baud instead of %d",
		    s->name, r->baud_ack, baud);
	return RC_OK;
}

static int
rfc_set_lines(struct ser *s, int dtr, int rts)
{
	struct rfc *r = s->priv;

	/* Queued together so that both go out in one segment. */
	if (dtr >= 0)
		rfc_sb1(r, CPO_SET_CONTROL, dtr ? CTL_DTR_ON : CTL_DTR_OFF);
	if (rts >= 0)
		rfc_sb1(r, CPO_SET_CONTROL, rts ? CTL_RTS_ON : CTL_RTS_OFF);
	return rfc_push(s);
}

static int
rfc_send_break(struct ser *s, int ms)
{
	struct rfc *r = s->priv;
	int rc;

	rfc_sb1(r, CPO_SET_CONTROL, CTL_BREAK_ON);
	if ((rc = rfc_push(s)) < 0)
		return rc;
	clock_sleep_ms(ms);
	rfc_sb1(r, CPO_SET_CONTROL, CTL_BREAK_OFF);
	return rfc_push(s);
}

static int
rfc_out_pending(struct ser *s, size_t *n)
{
	struct rfc *r = s->priv;
	int q = 0;

	if (ioctl(s->fd, TIOCOUTQ, &q) == -1)
		q = 0;
	*n = buf_len(&r->out) + (q > 0 ? (size_t)q : 0);
	return RC_OK;
}

static int
rfc_discard(struct ser *s)
{
	struct rfc *r = s->priv;
	int rc;

	/* Decode what has arrived (it may hold answers), then drop the data. */
	while ((rc = rfc_recv(s)) > 0)
		;
	buf_reset(&r->rx);
	if (rc < 0)
		return rc;
	rfc_sb1(r, CPO_PURGE_DATA, 3); /* both directions */
	return rfc_push(s);
}

static size_t
rfc_tx_held(const struct ser *s)
{
	const struct rfc *r = s->priv;

	return buf_len(&r->out);
}

static void
rfc_close(struct ser *s)
{
	struct rfc *r = s->priv;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (r != NULL) {
		buf_free(&r->rx);
		buf_free(&r->out);
		free(r);
	}
	s->priv = NULL;
}

static const struct ser_backend ser_rfc2217_backend = {
	.name = "rfc2217",
	.read = rfc_read,
	.write = rfc_write,
	.set_baud = rfc_set_baud,
	.set_lines = rfc_set_lines,
	.send_break = rfc_send_break,
	.out_pending = rfc_out_pending,
	.discard = rfc_discard,
	.tx_held = rfc_tx_held,
	.close = rfc_close,
};

/* Splits "rfc2217://HOST:PORT[/...|?...]" (HOST may be [v6]). Caller frees *host and *port. */
static int
rfc_parse_url(const char *url, char **host, char **port)
{
	const char *h = url + strlen("rfc2217://"), *end, *colon;

	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		*host = xstrndup(h + 1, (size_t)(end - h - 1));
		colon = end + 1;
	} else {
		colon = strchr(h, ':');
		if (colon == NULL || colon == h)
			return -1;
		*host = xstrndup(h, (size_t)(colon - h));
	}
	end = colon + 1 + strspn(colon + 1, "0123456789");
	if (end == colon + 1 || (*end != '\0' && *end != '/' && *end != '?')) {
		free(*host);
		return -1;
	}
	*port = xstrndup(colon + 1, (size_t)(end - colon - 1));
	return 0;
}

static int
rfc_connect(const char *host, const char *port, int *out, char **err)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, e, soerr = 0;
	socklen_t sl;
	struct pollfd pfd;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		*err = xfmt("cannot resolve %s: %s", host, gai_strerror(e));
		return RC_ERR_ARG;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		soerr = errno;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, RFC_CONNECT_MS) == 1) {
				sl = sizeof soerr;
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
					break;
			} else
				soerr = ETIMEDOUT;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		*err = xfmt("cannot connect to %s port %s: %s", host, port, strerror(soerr));
		return RC_ERR_IO;
	}
	e = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &e, sizeof e);
	*out = fd;
	return RC_OK;
}

int
ser_rfc2217_open(struct ser *s, const char *url, int baud, char **cause)
{
	struct rfc *r;
	char *host = NULL, *port = NULL, *err = NULL;
	int rc;

	if (rfc_parse_url(url, &host, &port) == -1) {
		*cause = xfmt("bad RFC 2217 address '%s': write rfc2217://HOST:PORT, for example "
		    "rfc2217://localhost:4000", url);
		return RC_ERR_ARG;
	}
	rc = rfc_connect(host, port, &s->fd, &err);
	if (rc != RC_OK) {
		*cause = xfmt("%s: %s; is the RFC 2217 server (for example espdesk-sim --rfc2217 %s) "
		    "running?", url, err, port);
		free(err);
		free(host);
		free(port);
		return rc;
	}
	free(host);
	free(port);
	r = xcalloc(1, sizeof *r);
	buf_init(&r->rx);
	buf_init(&r->out);
	s->priv = r;
	s->be = &ser_rfc2217_backend;

	r->we_will[OPT_BINARY] = r->we_do[OPT_BINARY] = 1;
	r->we_will[OPT_SGA] = r->we_do[OPT_SGA] = 1;
	r->we_will[OPT_COMPORT] = 1;
	rfc_cmd(r, T_WILL, OPT_BINARY);
	rfc_cmd(r, T_DO, OPT_BINARY);
	rfc_cmd(r, T_WILL, OPT_SGA);
	rfc_cmd(r, T_DO, OPT_SGA);
	rfc_cmd(r, T_WILL, OPT_COMPORT);
	rc = rfc_wait(s, rfc_done_negotiating, RFC_NEGOTIATE_MS);
	if (rc < 0) {
		*cause = xstrdup(s->err);
		return rc;
	}
	if (rc == 0 || r->comport < 0) {
		*cause = xfmt("%s: the server %s COM-PORT-OPTION; is it an RFC 2217 server and not a "
		    "plain TCP socket?", url, rc == 0 ? "did not agree within 3 s to" : "refuses");
		return RC_ERR_PROTO;
	}
	/* 8N1 without flow control, then the rate (which waits for its answer). */
	rfc_sb1(r, CPO_SET_DATASIZE, 8);
	rfc_sb1(r, CPO_SET_PARITY, 1);   /* NONE */
	rfc_sb1(r, CPO_SET_STOPSIZE, 1); /* 1 */
	rfc_sb1(r, CPO_SET_CONTROL, CTL_NO_FLOW);
	if ((rc = rfc_set_baud(s, baud)) < 0) {
		*cause = xstrdup(s->err);
		return rc;
	}
	return RC_OK;
}
