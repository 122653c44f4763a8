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
#include "serial/ser_telnet.h"

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

struct rfc {
	struct ser_telnet tn;
	struct buf rx;          /* data decoded from the server, waiting for the caller */
	struct buf out;         /* escaped data and commands not yet taken by the socket */
};

static void
rfc_sb1(struct rfc *r, uint8_t code, uint8_t value)
{
	ser_telnet_sb(&r->out, code, &value, 1);
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
		/* Negotiation answers go to r->out, behind anything already queued there. */
		ser_telnet_feed(&r->tn, tmp, (size_t)n, &r->rx, &r->out);
		return (int)n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
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
	ser_telnet_escape(&r->out, buf, len);
	if ((rc = rfc_push(s)) < 0)
		return rc;
	return (int)len;
}

/* Pumps the connection until done(r) holds or timeout_ms passes. Returns 1, 0 (timeout), or rc. */
static int
rfc_wait(struct ser *s, int (*done)(const struct ser_telnet *), int timeout_ms)
{
	struct rfc *r = s->priv;
	int64_t deadline = clock_now_ms() + timeout_ms;
	struct pollfd pfd;
	int rc;

	for (;;) {
		if ((rc = rfc_push(s)) < 0)
			return rc;
		if (done(&r->tn))
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
rfc_done_negotiating(const struct ser_telnet *t)
{
	return t->comport != 0;
}

static int
rfc_done_baud(const struct ser_telnet *t)
{
	return t->baud_acked;
}

static int
rfc_set_baud(struct ser *s, int baud)
{
	struct rfc *r = s->priv;
	uint8_t v[4] = { (uint8_t)(baud >> 24), (uint8_t)(baud >> 16), (uint8_t)(baud >> 8), (uint8_t)baud };
	int rc;

	r->tn.baud_acked = 0;
	ser_telnet_sb(&r->out, CPO_SET_BAUDRATE, v, sizeof v);
	rc = rfc_wait(s, rfc_done_baud, RFC_BAUD_ACK_MS);
	if (rc < 0)
		return rc;
	if (rc == 0)
		log_warn("serial: %s: the RFC 2217 server did not confirm %d baud within %d ms",
		    s->name, baud, RFC_BAUD_ACK_MS);
	else if (r->tn.baud_ack != (uint32_t)baud)
		return ser_fail(s, RC_ERR_NOTSUP, "%s: the RFC 2217 server set %u baud instead of %d",
		    s->name, r->tn.baud_ack, baud);
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
	ser_telnet_init(&r->tn);
	buf_init(&r->rx);
	buf_init(&r->out);
	s->priv = r;
	s->be = &ser_rfc2217_backend;

	r->tn.we_will[TELNET_OPT_BINARY] = r->tn.we_do[TELNET_OPT_BINARY] = 1;
	r->tn.we_will[TELNET_OPT_SGA] = r->tn.we_do[TELNET_OPT_SGA] = 1;
	r->tn.we_will[TELNET_OPT_COMPORT] = 1;
	ser_telnet_cmd(&r->out, TELNET_WILL, TELNET_OPT_BINARY);
	ser_telnet_cmd(&r->out, TELNET_DO, TELNET_OPT_BINARY);
	ser_telnet_cmd(&r->out, TELNET_WILL, TELNET_OPT_SGA);
	ser_telnet_cmd(&r->out, TELNET_DO, TELNET_OPT_SGA);
	ser_telnet_cmd(&r->out, TELNET_WILL, TELNET_OPT_COMPORT);
	rc = rfc_wait(s, rfc_done_negotiating, RFC_NEGOTIATE_MS);
	if (rc < 0) {
		*cause = xstrdup(s->err);
		return rc;
	}
	if (rc == 0 || r->tn.comport < 0) {
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
