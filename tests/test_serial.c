/*
 * The serial port layer over real pseudo-terminals (the test holds the master side and plays
 * the device) and the RFC 2217 client against a small server written here. Expected bytes come
 * from RFC 2217 and RFC 854, speeds from what the kernel reports through the master.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serial/ser.h"
#include "serial/ser_cli.h"
#include "serial/ser_telnet.h"
#include "tap.h"

int tpty_get_speed(int fd, int *ispeed, int *ospeed);
int tpty_set_speed(int fd, int baud);
int tpty_get_lflag_echo(int fd);

struct pty {
	int master;
	char name[64];
};

/* A fresh pty at 9600 baud with ECHO on (so "restored" is visible), slave side closed. */
static int
pty_new(struct pty *p)
{
	int slave;

	if (openpty(&p->master, &slave, p->name, NULL, NULL) == -1)
		return -1;
	close(slave);
	if (tpty_set_speed(p->master, 9600) == -1)
		return -1;
	return 0;
}

static int
master_speed(const struct pty *p)
{
	int i = -1, o = -1;

	if (tpty_get_speed(p->master, &i, &o) == -1 || i != o)
		return -1;
	return o;
}

/* Reads from fd until n bytes arrived or 5 s passed without any. Returns the count. */
static size_t
read_full(int fd, void *buf, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t k;

	while (got < n && poll(&pfd, 1, 5000) == 1) {
		k = read(fd, (char *)buf + got, n - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

/* Collects n bytes through ser_read (5 s deadline per call). */
static size_t
ser_read_full(struct ser *s, void *buf, size_t n)
{
	size_t got = 0;
	int k;

	while (got < n) {
		k = ser_read(s, (char *)buf + got, n - got, 5000);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

static void
test_bridge_names(void)
{
	/* The VID:PID pairs the issue names. */
	T_EQ_STR(ser_bridge_name(0x0403, 0x6001), "FTDI FT232R");
	T_EQ_STR(ser_bridge_name(0x0403, 0x6015), "FTDI FT231X");
	T_EQ_STR(ser_bridge_name(0x1a86, 0x7523), "CH340/CH341");
	T_EQ_STR(ser_bridge_name(0x1a86, 0x5523), "CH340/CH341");
	T_EQ_STR(ser_bridge_name(0x1a86, 0x55d4), "CH9102");
	T_EQ_STR(ser_bridge_name(0x10c4, 0xea60), "CP210x");
	T_EQ_STR(ser_bridge_name(0x067b, 0x2303), "PL2303");
	T_TRUE(ser_bridge_name(0x1234, 0x5678) == NULL);
	T_TRUE(ser_bridge_name(-1, -1) == NULL);
}

static void
test_baud_round_trip(void)
{
	struct pty p;
	struct ser *s;
	char *cause = NULL;

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 115200, &s, &cause), RC_OK);
	T_TRUE(cause == NULL);
	if (s == NULL)
		return;
	T_EQ_INT(ser_kind(s), SER_KIND_TTY);
	T_EQ_STR(ser_name(s), p.name);
	T_EQ_INT(master_speed(&p), 115200);
	T_EQ_INT(tpty_get_lflag_echo(p.master), 0); /* raw */
	/* The boot ROM's rate, which no B* constant names. */
	T_EQ_INT(ser_set_baud(s, 74880), RC_OK);
	T_EQ_INT(master_speed(&p), 74880);
	T_EQ_INT(ser_get_baud(s), 74880);
	T_EQ_INT(ser_set_baud(s, 921600), RC_OK);
	T_EQ_INT(master_speed(&p), 921600);
	T_EQ_INT(ser_set_baud(s, 0), RC_ERR_ARG);
	T_EQ_INT(ser_get_baud(s), 921600);
	ser_close(s);
	/* The settings the port had before we came. */
	T_EQ_INT(master_speed(&p), 9600);
	T_EQ_INT(tpty_get_lflag_echo(p.master), 1);
	close(p.master);
}

static void
test_open_at_74880(void)
{
	struct pty p;
	struct ser *s;
	char *cause = NULL;

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 74880, &s, &cause), RC_OK);
	T_EQ_INT(master_speed(&p), 74880);
	ser_close(s);
	close(p.master);
}

static void
test_restore_all(void)
{
	struct pty p;
	struct ser *s;
	char *cause = NULL;

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 230400, &s, &cause), RC_OK);
	T_EQ_INT(master_speed(&p), 230400);
	ser_restore_all();
	T_EQ_INT(master_speed(&p), 9600);
	ser_restore_all(); /* idempotent */
	T_EQ_INT(master_speed(&p), 9600);
	ser_close(s);
	close(p.master);
}

static void
test_restore_on_sigterm(void)
{
	struct pty p;
	int status = 0;
	pid_t pid;

	T_EQ_INT(pty_new(&p), 0);
	pid = fork();
	if (pid == 0) {
		struct ser *s;
		char *cause = NULL;

		if (ser_open(p.name, 460800, &s, &cause) != RC_OK)
			_exit(3);
		if (master_speed(&p) != 460800)
			_exit(4);
		raise(SIGTERM);
		_exit(5);
	}
	T_TRUE(pid > 0);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_TRUE(WIFSIGNALED(status));
	T_EQ_INT(WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status) + 100, SIGTERM);
	T_EQ_INT(master_speed(&p), 9600);
	close(p.master);
}

static void
test_read_deadlines(void)
{
	struct pty p;
	struct ser *s;
	char *cause = NULL, buf[16];

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 115200, &s, &cause), RC_OK);
	T_EQ_INT(ser_read(s, buf, sizeof buf, 0), 0);   /* nothing there, do not wait */
	T_EQ_INT(ser_read(s, buf, sizeof buf, 20), 0);  /* nothing arrives in time */
	T_EQ_INT(ser_read(s, buf, 0, 20), 0);
	T_EQ_INT(write(p.master, "abc", 3), 3);
	T_EQ_INT(ser_read_full(s, buf, 3), 3);
	T_EQ_MEM(buf, "abc", 3);
	ser_close(s);
	close(p.master);
}

struct later {
	int fd;
	int ms;
	const char *data; /* NULL: close fd instead */
};

static void *
later_thread(void *arg)
{
	struct later *l = arg;

	usleep((useconds_t)l->ms * 1000);
	if (l->data != NULL) {
		if (write(l->fd, l->data, strlen(l->data)) < 0)
			perror("write");
	} else
		close(l->fd);
	return NULL;
}

static void
test_read_data_mid_wait(void)
{
	struct later l;
	struct pty p;
	struct ser *s;
	pthread_t th;
	char *cause = NULL, buf[16] = "";
	int n;

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 115200, &s, &cause), RC_OK);
	l.fd = p.master;
	l.ms = 50;
	l.data = "hello";
	T_EQ_INT(pthread_create(&th, NULL, later_thread, &l), 0);
	/* The deadline is far away; the call must return as soon as the bytes come. */
	n = ser_read(s, buf, sizeof buf, 10000);
	T_TRUE(n > 0);
	if (n > 0 && n < 5)
		n += (int)ser_read_full(s, buf + n, (size_t)(5 - n));
	T_EQ_INT(n, 5);
	T_EQ_MEM(buf, "hello", 5);
	pthread_join(th, NULL);
	ser_close(s);
	close(p.master);
}

static void
test_peer_closes_mid_read(void)
{
	struct later l;
	struct pty p;
	struct ser *s;
	pthread_t th;
	char *cause = NULL, buf[16];

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 115200, &s, &cause), RC_OK);
	l.fd = p.master;
	l.ms = 50;
	l.data = NULL;
	T_EQ_INT(pthread_create(&th, NULL, later_thread, &l), 0);
	T_EQ_INT(ser_read(s, buf, sizeof buf, 10000), RC_ERR_GONE);
	T_CONTAINS(ser_strerror(s), p.name);
	T_CONTAINS(ser_strerror(s), "cable");
	/* And it stays gone. */
	T_EQ_INT(ser_read(s, buf, sizeof buf, 0), RC_ERR_GONE);
	pthread_join(th, NULL);
	ser_close(s);
}

static void
test_raw_bytes_out(void)
{
	static const uint8_t out[] = { 0x00, 0xff, '\r', '\n', 0x11, 0x13, 0x03, 0xc0, 0xdb };
	uint8_t got[sizeof out];
	struct pty p;
	struct ser *s;
	char *cause = NULL;

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 115200, &s, &cause), RC_OK);
	T_EQ_INT(ser_write(s, out, sizeof out), RC_OK);
	T_EQ_INT(ser_flush(s, 5000), RC_OK);
	T_EQ_INT(ser_tx_pending(s), 0);
	/* No CR/NL translation, no XON/XOFF, no signal characters: exactly these bytes. */
	T_EQ_INT(read_full(p.master, got, sizeof got), sizeof out);
	T_EQ_MEM(got, out, sizeof out);
	/* And the same the other way. */
	T_EQ_INT(write(p.master, out, sizeof out), (ssize_t)sizeof out);
	T_EQ_INT(ser_read_full(s, got, sizeof got), sizeof out);
	T_EQ_MEM(got, out, sizeof out);
	ser_close(s);
	close(p.master);
}

#define BIG (256 * 1024)

struct drain {
	int fd;
	uint8_t *buf;
	size_t got;
};

static void *
drain_thread(void *arg)
{
	struct drain *d = arg;

	d->got = read_full(d->fd, d->buf, BIG);
	return NULL;
}

static void
test_queued_write_larger_than_kernel_buffer(void)
{
	uint8_t *data = malloc(BIG);
	struct drain d = { 0 };
	struct pty p;
	struct ser *s;
	pthread_t th;
	char *cause = NULL;

	for (size_t i = 0; i < BIG; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 10));
	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 115200, &s, &cause), RC_OK);
	/* Nobody reads yet: ser_write must still return at once, keeping the rest queued. */
	T_EQ_INT(ser_write(s, data, BIG), RC_OK);
	T_TRUE(ser_tx_pending(s) > 0);
	T_TRUE(ser_tx_pending(s) <= BIG);
	T_EQ_INT(ser_flush(s, 0), RC_ERR_TIMEOUT);
	d.fd = p.master;
	d.buf = malloc(BIG);
	T_EQ_INT(pthread_create(&th, NULL, drain_thread, &d), 0);
	T_EQ_INT(ser_flush(s, 60000), RC_OK);
	T_EQ_INT(ser_tx_pending(s), 0);
	pthread_join(th, NULL);
	T_EQ_INT(d.got, BIG);
	T_EQ_MEM(d.buf, data, BIG);
	ser_close(s);
	close(p.master);
	free(d.buf);
	free(data);
}

static void
test_two_openers(void)
{
	struct pty p;
	struct ser *a, *b;
	char *cause = NULL, pid[32];

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 115200, &a, &cause), RC_OK);
	T_EQ_INT(ser_open(p.name, 115200, &b, &cause), RC_ERR_BUSY);
	T_TRUE(b == NULL);
	T_CONTAINS(cause, p.name);
	T_CONTAINS(cause, "busy");
	/* The holder is this very process, and /proc says so. */
	snprintf(pid, sizeof pid, "(pid %d)", (int)getpid());
	T_CONTAINS(cause, pid);
	free(cause);
	/* The failed attempt must not have disturbed the first opener's settings. */
	T_EQ_INT(master_speed(&p), 115200);
	ser_close(a);
	/* Free again. */
	T_EQ_INT(ser_open(p.name, 115200, &b, &cause), RC_OK);
	ser_close(b);
	close(p.master);
}

static void
test_dtr_rts_on_pty(void)
{
	struct pty p;
	struct ser *s;
	char *cause = NULL;

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(ser_open(p.name, 115200, &s, &cause), RC_OK);
	T_EQ_INT(ser_set_dtr(s, 1), RC_ERR_NOTSUP);
	T_CONTAINS(ser_strerror(s), "DTR/RTS");
	T_EQ_INT(ser_set_rts(s, 0), RC_ERR_NOTSUP);
	T_EQ_INT(ser_set_dtr_rts(s, 0, 1), RC_ERR_NOTSUP);
	/* Not an error: the port still works. */
	T_EQ_INT(ser_write(s, "x", 1), RC_OK);
	T_EQ_INT(ser_flush(s, 5000), RC_OK);
	ser_close(s);
	close(p.master);
}

static void
test_no_such_port(void)
{
	struct ser *s = (struct ser *)1;
	char *cause = NULL;

	T_EQ_INT(ser_open("/dev/ttyESPDESK-NONE0", 115200, &s, &cause), RC_ERR_ARG);
	T_TRUE(s == NULL);
	T_CONTAINS(cause, "no such port: /dev/ttyESPDESK-NONE0");
	/* and which ports there are, or that there are none */
	T_TRUE(cause != NULL && (strstr(cause, "ports here:") != NULL ||
	    strstr(cause, "no serial ports found") != NULL ||
	    strstr(cause, "ports could not be listed") != NULL));
	free(cause);
	T_EQ_INT(ser_open("/dev/null", 115200, &s, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "not a serial port");
	free(cause);
	T_EQ_INT(ser_open("", 115200, &s, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "-p PORT");
	free(cause);
}

/* Whether a new pty's slave is closed to other users (the usual 0620 root:tty). */
static int
pty_closed_to_others(void)
{
	struct pty p;
	struct stat st;
	int r;

	if (pty_new(&p) == -1)
		return 0;
	r = stat(p.name, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)) == 0;
	close(p.master);
	return r;
}

static void
test_permission_denied(void)
{
	struct pty p;
	int fds[2], status;
	char msg[512] = "";
	ssize_t n;
	pid_t pid;

	T_EQ_INT(pty_new(&p), 0);
	T_EQ_INT(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		struct ser *s;
		char *cause = NULL;
		int rc;

		close(fds[0]);
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 || setuid(65534) == -1)
			_exit(3);
		rc = ser_open(p.name, 115200, &s, &cause);
		dprintf(fds[1], "%d %s", rc, cause ? cause : "");
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	T_CONTAINS(msg, "-2 permission denied opening");
	T_CONTAINS(msg, p.name);
	T_CONTAINS(msg, "sudo usermod -aG");
	close(p.master);
}

/* ---- RFC 2217 ---- */

#define IAC "\xff"
#define SB IAC "\xfa\x2c"
#define SE IAC "\xf0"

struct step {
	const char *expect; /* bytes the client must send */
	size_t elen;
	const char *reply;  /* bytes the server sends back */
	size_t rlen;
};

struct server {
	int lsock;
	const struct step *steps;
	size_t nsteps;
	uint8_t got[16][64];
	size_t gotlen[16];
	int eof_at_end;
};

static void *
server_thread(void *arg)
{
	struct server *sv = arg;
	int c = accept(sv->lsock, NULL, NULL);
	uint8_t b;

	if (c == -1)
		return NULL;
	for (size_t i = 0; i < sv->nsteps; i++) {
		sv->gotlen[i] = read_full(c, sv->got[i], sv->steps[i].elen);
		if (sv->steps[i].rlen && write(c, sv->steps[i].reply, sv->steps[i].rlen) < 0)
			break;
	}
	sv->eof_at_end = read_full(c, &b, 1) == 0;
	close(c);
	return NULL;
}

static int
listen_local(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s == -1 || bind(s, (struct sockaddr *)&a, sizeof a) == -1 || listen(s, 1) == -1 ||
	    getsockname(s, (struct sockaddr *)&a, &al) == -1)
		return -1;
	*port = ntohs(a.sin_port);
	return s;
}

#define S(x) x, sizeof(x) - 1

static const struct step rfc_steps[] = {
	/* 0: WILL BINARY, DO BINARY, WILL SGA, DO SGA, WILL COM-PORT-OPTION (44) */
	{ S(IAC "\xfb\x00" IAC "\xfd\x00" IAC "\xfb\x03" IAC "\xfd\x03" IAC "\xfb\x2c"),
	  /* DO COM-PORT-OPTION; WILL BINARY and WILL SGA, which the client already asked for */
	  S(IAC "\xfd\x2c" IAC "\xfb\x00" IAC "\xfb\x03") },
	/* 1: SET-DATASIZE 8, SET-PARITY NONE (1), SET-STOPSIZE 1, SET-CONTROL no flow control (1),
	 *    SET-BAUDRATE 115200 = 0x0001c200 in network order */
	{ S(SB "\x02\x08" SE SB "\x03\x01" SE SB "\x04\x01" SE SB "\x05\x01" SE
	    SB "\x01\x00\x01\xc2\x00" SE),
	  /* the server's answer: code + 100 */
	  S(SB "\x65\x00\x01\xc2\x00" SE) },
	/* 2: SET-BAUDRATE 74880 = 0x00012480 */
	{ S(SB "\x01\x00\x01\x24\x80" SE), S(SB "\x65\x00\x01\x24\x80" SE) },
	/* 3: SET-BAUDRATE 255: the 0xff inside the subnegotiation is doubled, both ways */
	{ S(SB "\x01\x00\x00\x00\xff\xff" SE), S(SB "\x65\x00\x00\x00\xff\xff" SE) },
	/* 4: DTR off (9), RTS on (11) in one go; then DTR on (8) */
	{ S(SB "\x05\x09" SE SB "\x05\x0b" SE SB "\x05\x08" SE), NULL, 0 },
	/* 5: data with an IAC in it: doubled. The server answers with data in which a doubled IAC,
	 *    a NOP and a NOTIFY-MODEMSTATE (107) subnegotiation are mixed */
	{ S("A" IAC IAC "B"), S("x" IAC IAC "y" IAC "\xf1" SB "\x6b\x30" SE "z") },
	/* 6: a break: SET-CONTROL break on (5), then off (6) */
	{ S(SB "\x05\x05" SE SB "\x05\x06" SE), NULL, 0 },
	/* 7: PURGE-DATA both (3) */
	{ S(SB "\x0c\x03" SE), NULL, 0 },
};

static void
test_telnet_negotiation(void)
{
	/* RFC 854: refuse what we do not know, agree once to what we want, never echo a reply to
	 * our own state. */
	static const uint8_t in[] = {
		0xff, 0xfd, 0x18,       /* DO TERMINAL-TYPE (24): not ours */
		0xff, 0xfb, 0x01,       /* WILL ECHO: not wanted */
		0xff, 0xfd, 0x00,       /* DO BINARY */
		0xff, 0xfd, 0x00,       /* DO BINARY again: already agreed, no reply */
		0xff, 0xfd, 0x2c,       /* DO COM-PORT-OPTION */
		'a', 0xff, 0xff, 'b',   /* data with an escaped 0xFF */
		0xff, 0xfa, 0x2c, 0x65, 0x00, 0x01, 0xc2, 0x00, 0xff, 0xf0, /* baud is 115200 */
	};
	static const uint8_t want_reply[] = { 0xff, 0xfc, 0x18, 0xff, 0xfe, 0x01, 0xff, 0xfb, 0x00 };
	struct buf data = BUF_INIT, reply = BUF_INIT;
	struct ser_telnet t;

	ser_telnet_init(&t);
	t.we_will[TELNET_OPT_COMPORT] = 1; /* offered already, as the client does on connecting */
	/* Byte by byte: every split point must work. */
	for (size_t i = 0; i < sizeof in; i++)
		ser_telnet_feed(&t, in + i, 1, &data, &reply);
	T_EQ_INT(buf_len(&data), 3);
	T_EQ_MEM(buf_head(&data), "a\xff" "b", 3);
	T_EQ_INT(buf_len(&reply), sizeof want_reply);
	T_EQ_MEM(buf_head(&reply), want_reply, sizeof want_reply);
	T_EQ_INT(t.comport, 1);
	T_EQ_INT(t.baud_acked, 1);
	T_EQ_INT(t.baud_ack, 115200);
	buf_free(&data);
	buf_free(&reply);
}

static void
test_rfc2217_client(void)
{
	struct server sv = { .steps = rfc_steps, .nsteps = ARRAY_SIZE(rfc_steps) };
	struct ser *s = NULL;
	char url[64], *cause = NULL, buf[16];
	pthread_t th;
	int port;

	sv.lsock = listen_local(&port);
	T_TRUE(sv.lsock >= 0);
	T_EQ_INT(pthread_create(&th, NULL, server_thread, &sv), 0);
	snprintf(url, sizeof url, "rfc2217://127.0.0.1:%d", port);
	T_EQ_INT(ser_open(url, 115200, &s, &cause), RC_OK);
	T_TRUE(cause == NULL);
	if (s != NULL) {
		T_EQ_INT(ser_kind(s), SER_KIND_RFC2217);
		T_EQ_INT(ser_set_baud(s, 74880), RC_OK);
		T_EQ_INT(ser_get_baud(s), 74880);
		T_EQ_INT(ser_set_baud(s, 255), RC_OK);
		T_EQ_INT(ser_set_dtr_rts(s, 0, 1), RC_OK);
		T_EQ_INT(ser_set_dtr(s, 1), RC_OK);
		T_EQ_INT(ser_write(s, "A\xff" "B", 3), RC_OK);
		T_EQ_INT(ser_flush(s, 5000), RC_OK);
		T_EQ_INT(ser_read_full(s, buf, 4), 4);
		T_EQ_MEM(buf, "x\xffyz", 4);
		T_EQ_INT(ser_send_break(s, 5), RC_OK);
		T_EQ_INT(ser_discard(s), RC_OK);
		T_EQ_INT(ser_flush(s, 5000), RC_OK);
		ser_close(s);
	}
	pthread_join(th, NULL);
	close(sv.lsock);
	for (size_t i = 0; i < sv.nsteps; i++) {
		T_EQ_INT(sv.gotlen[i], rfc_steps[i].elen);
		T_EQ_MEM(sv.got[i], rfc_steps[i].expect, rfc_steps[i].elen);
	}
	T_TRUE(sv.eof_at_end);
}

static const struct step refuse_steps[] = {
	{ S(IAC "\xfb\x00" IAC "\xfd\x00" IAC "\xfb\x03" IAC "\xfd\x03" IAC "\xfb\x2c"),
	  S(IAC "\xfe\x2c") }, /* DONT COM-PORT-OPTION */
};

static void
test_rfc2217_refused(void)
{
	struct server sv = { .steps = refuse_steps, .nsteps = 1 };
	struct ser *s = NULL;
	char url[64], *cause = NULL;
	pthread_t th;
	int port, fd;

	sv.lsock = listen_local(&port);
	T_EQ_INT(pthread_create(&th, NULL, server_thread, &sv), 0);
	snprintf(url, sizeof url, "rfc2217://127.0.0.1:%d", port);
	T_EQ_INT(ser_open(url, 115200, &s, &cause), RC_ERR_PROTO);
	T_CONTAINS(cause, "refuses COM-PORT-OPTION");
	free(cause);
	pthread_join(th, NULL);
	close(sv.lsock);

	/* Nobody listening: a port that was just free. */
	fd = listen_local(&port);
	close(fd);
	snprintf(url, sizeof url, "rfc2217://127.0.0.1:%d", port);
	T_EQ_INT(ser_open(url, 115200, &s, &cause), RC_ERR_IO);
	T_CONTAINS(cause, url);
	T_CONTAINS(cause, "refused");
	free(cause);

	T_EQ_INT(ser_open("rfc2217://localhost", 115200, &s, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "rfc2217://HOST:PORT");
	free(cause);
	T_EQ_INT(ser_open("rfc2217://:4000", 115200, &s, &cause), RC_ERR_ARG);
	free(cause);
}

static void
test_list(void)
{
	struct ser_info *list = NULL;
	char *cause = NULL;
	size_t n = 99;

	if (access("/sys/class/tty", F_OK) == -1) {
		/* No sysfs (a chroot): listing cannot work, and the cause must say why. */
		T_EQ_INT(ser_list(&list, &n, &cause), RC_ERR_IO);
		T_CONTAINS(cause, "/sys/class/tty is missing");
		free(cause);
		return;
	}
	T_EQ_INT(ser_list(&list, &n, &cause), RC_OK);
	T_TRUE(cause == NULL);
	for (size_t i = 0; i < n; i++)
		T_TRUE(list[i].path != NULL && strncmp(list[i].path, "/dev/", 5) == 0);
	ser_list_free(list, n);
}

static void
test_list_print(void)
{
	struct ser_info l[2] = {
		{ .path = "/dev/ttyUSB0", .usb_vid = 0x1a86, .usb_pid = 0x7523,
		  .manufacturer = NULL, .product = "USB Serial", .serial = NULL, .bridge = "CH340/CH341" },
		{ .path = "/dev/ttyUSB1", .usb_vid = 0x0403, .usb_pid = 0x6001,
		  .manufacturer = "FTDI", .product = "FT232R \"USB\"\x1b[2J", .serial = "A50285BI",
		  .bridge = "FTDI FT232R" },
	};
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&out, &len);
	T_EQ_INT(ser_cli_print(f, l, 2, 0), 0);
	fclose(f);
	T_CONTAINS(out, "PORT");
	T_CONTAINS(out, "1a86:7523");
	T_CONTAINS(out, "CH340/CH341");
	T_CONTAINS(out, "A50285BI");
	/* A device's strings never reach the terminal raw. */
	T_TRUE(strchr(out, '\x1b') == NULL);
	T_CONTAINS(out, "\\e[2J");
	free(out);

	f = open_memstream(&out, &len);
	T_EQ_INT(ser_cli_print(f, l, 2, 1), 0);
	fclose(f);
	T_CONTAINS(out, "{\"port\":\"/dev/ttyUSB0\",\"vid\":\"1a86\",\"pid\":\"7523\",\"bridge\":\"CH340/CH341\","
	    "\"manufacturer\":null,\"product\":\"USB Serial\",\"serial\":null,\"description\":null}\n");
	T_CONTAINS(out, "\"product\":\"FT232R \\\"USB\\\"\\\\e[2J\"");
	free(out);

	f = open_memstream(&out, &len);
	T_EQ_INT(ser_cli_print(f, l, 0, 0), 0);
	fclose(f);
	T_CONTAINS(out, "no serial ports found; is the adapter plugged in?");
	free(out);
}

/* ---- RFC 2217 against the real simulator ---- */

struct simproc {
	pid_t pid;
	char url[128];
	char dir[64];
};

static int
sim_path_ok(char *path, size_t size)
{
	snprintf(path, size, "%s/espdesk-sim", ESPDESK_BUILDDIR);
	return access(path, X_OK) == 0;
}

/* Starts espdesk-sim on a blank flash file, served over RFC 2217; 0 or -1. */
static int
sim_start(struct simproc *sp)
{
	char sim[4096], flash[128], port[16];
	int fds[2], tcp, lsock;
	ssize_t n;
	size_t got = 0;

	if (!sim_path_ok(sim, sizeof sim))
		return -1;
	snprintf(sp->dir, sizeof sp->dir, "/tmp/test_serial.XXXXXX");
	if (mkdtemp(sp->dir) == NULL)
		return -1;
	snprintf(flash, sizeof flash, "%s/flash.bin", sp->dir);
	/* A port that was free a moment ago. */
	if ((lsock = listen_local(&tcp)) < 0)
		return -1;
	close(lsock);
	snprintf(port, sizeof port, "%d", tcp);
	if (pipe(fds) == -1)
		return -1;
	sp->pid = fork();
	if (sp->pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		execl(sim, "espdesk-sim", "--flash", flash, "--rfc2217", port, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* The first line on its stdout says where the device is. */
	while (got < sizeof sp->url - 1 && (n = read(fds[0], sp->url + got, 1)) == 1 &&
	    sp->url[got] != '\n')
		got++;
	sp->url[got] = '\0';
	close(fds[0]);
	return strncmp(sp->url, "rfc2217://", 10) == 0 ? 0 : -1;
}

static void
sim_stop(struct simproc *sp)
{
	char path[256];

	if (sp->pid > 0) {
		kill(sp->pid, SIGTERM);
		waitpid(sp->pid, NULL, 0);
	}
	snprintf(path, sizeof path, "%s/flash.bin", sp->dir);
	unlink(path);
	rmdir(sp->dir);
}

/* Reads from s until text appears (5 s without it: give up). Returns 1 if it did. */
static int
read_until(struct ser *s, const char *text)
{
	char buf[4096];
	size_t got = 0;
	int n;

	while (got < sizeof buf - 1) {
		n = ser_read(s, buf + got, sizeof buf - 1 - got, 5000);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		/* Device bytes may hold NULs; search what follows the last one too. */
		for (size_t i = 0; i < got; i += strlen(buf + i) + 1)
			if (strstr(buf + i, text) != NULL)
				return 1;
	}
	printf("# wanted \"%s\"; got %zu bytes\n", text, got);
	return 0;
}

static void
test_rfc2217_resets_the_simulator(void)
{
	struct simproc sp = { 0 };
	struct ser *s = NULL;
	char *cause = NULL;

	T_EQ_INT(sim_start(&sp), 0);
	T_EQ_INT(ser_open(sp.url, 74880, &s, &cause), RC_OK);
	if (cause != NULL)
		printf("# %s\n", cause);
	if (s != NULL) {
		/* esptool's HardReset (protocol.md §11.1): RTS asserted pulls EN low, DTR released
		 * keeps GPIO0 high; the ROM then boots from flash and says so at 74880 baud
		 * (bootlog.md §1-2: rst cause 2 is the reset pin, boot mode 3 is flash). */
		T_EQ_INT(ser_set_dtr_rts(s, 0, 1), RC_OK);
		usleep(100 * 1000);
		T_EQ_INT(ser_discard(s), RC_OK);
		T_EQ_INT(ser_set_dtr_rts(s, 0, 0), RC_OK);
		T_TRUE(read_until(s, "ets Jan  8 2013,rst cause:2, boot mode:(3,"));
		/* ClassicReset: EN low, then EN high while DTR holds GPIO0 low: download mode
		 * (boot mode 1, as in bootlogs/08-download-mode-gpio0-low-1-7.log). */
		T_EQ_INT(ser_set_dtr_rts(s, 0, 1), RC_OK);
		usleep(100 * 1000);
		T_EQ_INT(ser_set_dtr_rts(s, 1, 0), RC_OK);
		usleep(50 * 1000);
		T_EQ_INT(ser_set_dtr_rts(s, 0, 0), RC_OK);
		T_TRUE(read_until(s, "ets Jan  8 2013,rst cause:2, boot mode:(1,"));
		ser_close(s);
	}
	free(cause);
	sim_stop(&sp);
}

/* Runs `espdesk list-ports ARGS` in a child; returns its exit code and output (stdout+stderr). */
static int
run_list_ports(char **argv, int argc, char *out, size_t outsize)
{
	int fds[2], status = -1;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		optind = 0;
		exit(cli_cmd_list_ports.run(argc, argv));
	}
	close(fds[1]);
	while (got < outsize - 1 && (n = read(fds[0], out + got, outsize - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_list_ports_cli(void)
{
	char out[8192];
	char *plain[] = { "list-ports", NULL };
	char *extra[] = { "list-ports", "/dev/ttyUSB0", NULL };
	char *bogus[] = { "list-ports", "--bogus", NULL };
	char *help[] = { "list-ports", "--help", NULL };

	if (access("/sys/class/tty", F_OK) == -1) {
		T_EQ_INT(run_list_ports(plain, 1, out, sizeof out), 1);
		T_CONTAINS(out, "espdesk list-ports: cannot list the serial ports");
	} else {
		T_EQ_INT(run_list_ports(plain, 1, out, sizeof out), 0);
		T_TRUE(strncmp(out, "PORT ", 5) == 0 || strstr(out, "no serial ports found") != NULL);
	}
	T_EQ_INT(run_list_ports(extra, 2, out, sizeof out), 2);
	T_CONTAINS(out, "unexpected argument '/dev/ttyUSB0'");
	T_EQ_INT(run_list_ports(bogus, 2, out, sizeof out), 2);
	T_CONTAINS(out, "Try 'espdesk list-ports --help'");
	T_EQ_INT(run_list_ports(help, 2, out, sizeof out), 0);
	T_CONTAINS(out, "usage: espdesk list-ports [--json]");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_bridge_names);
	T_RUN(test_baud_round_trip);
	T_RUN(test_open_at_74880);
	T_RUN(test_restore_all);
	T_RUN(test_restore_on_sigterm);
	T_RUN(test_read_deadlines);
	T_RUN(test_read_data_mid_wait);
	T_RUN(test_peer_closes_mid_read);
	T_RUN(test_raw_bytes_out);
	T_RUN(test_queued_write_larger_than_kernel_buffer);
	T_RUN(test_two_openers);
	T_RUN(test_dtr_rts_on_pty);
	T_RUN(test_no_such_port);
	if (geteuid() != 0)
		t_skip("test_permission_denied", "needs root, to drop to another user who may not open a pty");
	else if (!pty_closed_to_others())
		t_skip("test_permission_denied", "ptys here are open to every user");
	else
		T_RUN(test_permission_denied);
	T_RUN(test_telnet_negotiation);
	T_RUN(test_rfc2217_client);
	T_RUN(test_rfc2217_refused);
	{
		char sim[4096];

		if (sim_path_ok(sim, sizeof sim))
			T_RUN(test_rfc2217_resets_the_simulator);
		else
			t_skip("test_rfc2217_resets_the_simulator", "espdesk-sim is not built");
	}
	T_RUN(test_list);
	T_RUN(test_list_print);
	T_RUN(test_list_ports_cli);
	return t_done();
}
