/*
 * sim_main.c: espdesk-sim, a simulated ESP8266/ESP8285 behind a pseudo-terminal or an RFC 2217
 * server. One single-threaded poll() loop over the face (pty master or TCP socket), the control
 * socket and the device's timers. Options and control commands: doc/espdesk-sim.1.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "sim/sim_baud.h"
#include "sim/sim_ctl.h"
#include "sim/sim_dev.h"
#include "sim/sim_fault.h"
#include "sim/sim_fw.h"
#include "sim/sim_pty.h"
#include "sim/sim_rfc2217.h"

#define MAX_CTL 8
/* Bytes the host does not read are lost once its buffers would have overflowed on a real line:
 * the tty keeps about 64 KB (flip buffers), which takes 64 KB x 10 bits / baud to fill. With
 * --speed fast the line has no speed; a host that reads nothing for 10 s has gone away. */
#define HOST_BUFFER_BYTES 65536
#define FAST_STALL_US 10000000
/* How often the pty's baud is re-read while nothing else happens. */
#define BAUD_POLL_MS 20
/* While this much is waiting for the host, the device is not run: the host's reading paces it. */
#define TO_HOST_MAX 65536

struct ctl_client {
	int fd;
	struct buf in, out;
};

struct sim {
	struct sim_dev *dev;
	/* pty face */
	struct sim_pty pty;
	const char *link;
	/* RFC 2217 face */
	int rfc_port, listen_fd, client_fd;
	struct sim_rfc2217 rfc;
	int dtr, rts, no_autoreset;
	uint32_t rfc_baud;
	/* common */
	int plugged, fast;
	struct buf to_host;       /* device bytes not yet accepted by the face */
	int64_t stall_since;
	int ctl_fd;
	char *ctl_path;
	struct ctl_client ctl[MAX_CTL];
	char status[256];
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static ED_NORETURN void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f,
	    "usage: espdesk-sim [options]\n"
	    "  --link PATH            stable symlink to the pty\n"
	    "  --rfc2217 PORT         serve RFC 2217 on 127.0.0.1:PORT instead of a pty\n"
	    "  --no-autoreset         ignore DTR/RTS (a Sonoff has no auto-reset circuit)\n"
	    "  --control PATH         control socket (see espdesk-sim(1))\n"
	    "  --chip esp8266|esp8285 --mac AA:BB:CC:DD:EE:FF --xtal 26|40\n"
	    "  --flash FILE           flash contents (created 0xFF-filled)\n"
	    "  --flash-size 1MB|2MB|4MB|16MB  --flash-id 0xEF4016\n"
	    "  --download             start powered with GPIO0 held low\n"
	    "  --off                  start without power\n"
	    "  --scenario none|exception|soft-wdt|hw-wdt|brownout\n"
	    "  --speed real|fast      --usb-latency MS\n"
	    "  --faults LIST          drop=R,corrupt=R,cut-after=N,power-loss=erase|write,stuck-gpio0\n"
	    "  --seed N               -v FILE (log)\n");
	exit(code);
}

static ED_NORETURN void
die(const char *fmt, ...) ED_PRINTFLIKE(1, 2);

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "espdesk-sim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint32_t
parse_size(const char *s)
{
	if (strcmp(s, "1MB") == 0) return 1u << 20;
	if (strcmp(s, "2MB") == 0) return 2u << 20;
	if (strcmp(s, "4MB") == 0) return 4u << 20;
	if (strcmp(s, "8MB") == 0) return 8u << 20;
	if (strcmp(s, "16MB") == 0) return 16u << 20;
	die("--flash-size %s: use 1MB, 2MB, 4MB, 8MB or 16MB", s);
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xFF)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* ---- faces ---- */

static uint32_t
host_baud(struct sim *s)
{
	if (s->rfc_port)
		return s->rfc_baud;
	if (s->plugged && s->pty.master >= 0) {
		uint32_t b = sim_baud_get(s->pty.master);

		return b ? b : 115200;
	}
	return 115200;
}

static void
apply_lines(struct sim *s, int64_t now)
{
	/* NodeMCU two-transistor circuit (protocol.md §11.1): DTR -> GPIO0, RTS -> EN, both active
	 * low; both asserted (or both released) leaves EN high and GPIO0 free. */
	if (s->no_autoreset)
		return;
	sim_dev_set_lines(s->dev, s->dtr, s->rts, now);
}

static void
rfc_event(void *arg, enum sim_rfc_event ev, uint32_t value, const uint8_t *data, size_t len)
{
	struct sim *s = arg;
	int64_t now = clock_now_us();

	switch (ev) {
	case SIM_RFC_DATA:
		sim_dev_host_rx(s->dev, data, len, s->rfc_baud, now);
		break;
	case SIM_RFC_BAUD:
		log_info("rfc2217: baud %u", value);
		s->rfc_baud = value;
		break;
	case SIM_RFC_DTR:
		s->dtr = (int)value;
		apply_lines(s, now);
		break;
	case SIM_RFC_RTS:
		s->rts = (int)value;
		apply_lines(s, now);
		break;
	case SIM_RFC_BREAK:
		if (value)
			sim_dev_host_break(s->dev, s->rfc_baud, now);
		break;
	case SIM_RFC_PURGE:
		/* RFC 2217 PURGE-DATA 1 (or 3): the access server's receive buffer, i.e. what the
		 * device sent that the client has not got yet (pyserial's reset_input_buffer). */
		if (value & 1)
			buf_reset(&s->to_host);
		break;
	}
}

static int
face_fd(const struct sim *s)
{
	if (!s->plugged)
		return -1;
	return s->rfc_port ? s->client_fd : s->pty.master;
}

static void
client_drop(struct sim *s)
{
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
	buf_reset(&s->to_host);
	/* The host's lines are released with the connection. */
	s->dtr = s->rts = 0;
	apply_lines(s, clock_now_us());
}

static int
face_up(struct sim *s, char **cause)
{
	if (s->rfc_port) {
		struct sockaddr_in sa;
		int one = 1;

		s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s->listen_fd < 0) {
			*cause = xfmt("socket: %s", strerror(errno));
			return -1;
		}
		setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)s->rfc_port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
		    listen(s->listen_fd, 2) < 0) {
			*cause = xfmt("127.0.0.1:%d: %s; pick another --rfc2217 port", s->rfc_port,
			    strerror(errno));
			close(s->listen_fd);
			s->listen_fd = -1;
			return -1;
		}
	} else if (sim_pty_open(&s->pty, s->link, cause) != RC_OK)
		return -1;
	s->plugged = 1;
	s->stall_since = 0;
	return 0;
}

static void
face_down(struct sim *s)
{
	if (!s->plugged)
		return;
	if (s->rfc_port) {
		client_drop(s);
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		s->listen_fd = -1;
	} else
		sim_pty_close(&s->pty, 0);
	buf_reset(&s->to_host);
	s->plugged = 0;
}

static void ctl_unplug(void *arg) { face_down(arg); }

static int
ctl_plug(void *arg, char **err)
{
	struct sim *s = arg;

	if (s->plugged)
		return 0;
	return face_up(s, err);
}

static const char *
ctl_status(void *arg)
{
	struct sim *s = arg;

	if (s->rfc_port)
		snprintf(s->status, sizeof s->status, "face=rfc2217 port=%d plugged=%s client=%s "
		    "host_baud=%u dtr=%d rts=%d", s->rfc_port, s->plugged ? "yes" : "no",
		    s->client_fd >= 0 ? "yes" : "no", s->rfc_baud, s->dtr, s->rts);
	else
		snprintf(s->status, sizeof s->status, "face=pty port=%s plugged=%s host_baud=%u",
		    s->plugged ? s->pty.name : "-", s->plugged ? "yes" : "no", host_baud(s));
	return s->status;
}

static const struct sim_ctl_ops ctl_ops = { ctl_unplug, ctl_plug, ctl_status };

/* ---- control socket ---- */

static int
ctl_listen(const char *path, char **cause)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		*cause = xfmt("--control %s: path too long for a Unix socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
		*cause = xfmt("--control %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void
ctl_close(struct ctl_client *c)
{
	close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
}

static void
ctl_read(struct sim *s, struct ctl_client *c)
{
	uint8_t tmp[512];
	ssize_t n = read(c->fd, tmp, sizeof tmp);
	const uint8_t *p, *nl;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			ctl_close(c);
		return;
	}
	buf_add(&c->in, tmp, (size_t)n);
	while ((p = buf_head(&c->in)) != NULL && (nl = memchr(p, '\n', buf_len(&c->in))) != NULL) {
		size_t len = (size_t)(nl - p);
		char *line = xstrndup((const char *)p, len), *reply;

		buf_drain(&c->in, len + 1);
		log_info("control: %s", line);
		reply = sim_ctl_exec(s->dev, line, clock_now_us(), &ctl_ops, s);
		if (reply != NULL) {
			buf_add(&c->out, reply, strlen(reply));
			buf_add_byte(&c->out, '\n');
			free(reply);
		}
		free(line);
	}
	if (buf_len(&c->in) > 4096)
		ctl_close(c);
}

/* ---- the loop ---- */

static int64_t
stall_limit_us(struct sim *s)
{
	uint32_t baud = host_baud(s);
	int64_t t;

	if (s->fast || baud == 0)
		return FAST_STALL_US;
	t = (int64_t)HOST_BUFFER_BYTES * 10 * 1000000 / baud;
	return t < 500000 ? 500000 : t;
}

static void
pump_out(struct sim *s, int64_t now)
{
	int fd = face_fd(s);
	ssize_t n;

	if (fd < 0 || buf_len(&s->to_host) == 0) {
		if (fd < 0)
			buf_reset(&s->to_host);
		s->stall_since = 0;
		return;
	}
	n = write(fd, buf_head(&s->to_host), buf_len(&s->to_host));
	if (n > 0) {
		buf_drain(&s->to_host, (size_t)n);
		s->stall_since = 0;
		return;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		if (s->rfc_port)
			client_drop(s);
		return;
	}
	if (s->stall_since == 0)
		s->stall_since = now;
	else if (now - s->stall_since > stall_limit_us(s)) {
		/* Nobody reads the port: what the chip sent is gone, as on a real line. */
		log_info("host not reading: %zu bytes dropped", buf_len(&s->to_host));
		if (!s->rfc_port)
			sim_pty_discard_output(&s->pty);
		buf_reset(&s->to_host);
		s->stall_since = 0;
	}
}

static void
device_out(struct sim *s, int64_t now)
{
	struct buf out = BUF_INIT;

	if (buf_len(&s->to_host) >= TO_HOST_MAX) {
		pump_out(s, now);
		return;
	}
	sim_dev_run(s->dev, now, host_baud(s), &out);
	if (buf_len(&out) > 0 && face_fd(s) >= 0) {
		if (s->rfc_port)
			sim_rfc2217_escape(buf_head(&out), buf_len(&out), &s->to_host);
		else
			buf_add(&s->to_host, buf_head(&out), buf_len(&out));
	}
	buf_free(&out);
	if (sim_dev_cable_cut(s->dev)) {
		log_info("fault: cut-after reached, cable pulled");
		face_down(s);
	}
	pump_out(s, now);
}

static void
face_read(struct sim *s, int64_t now)
{
	uint8_t tmp[4096];
	ssize_t n = read(face_fd(s), tmp, sizeof tmp);

	if (n <= 0) {
		if (s->rfc_port && (n == 0 || (errno != EAGAIN && errno != EINTR)))
			client_drop(s);
		return;
	}
	if (s->rfc_port) {
		struct buf reply = BUF_INIT;

		sim_rfc2217_feed(&s->rfc, tmp, (size_t)n, &reply, rfc_event, s);
		buf_add(&s->to_host, buf_head(&reply), buf_len(&reply));
		buf_free(&reply);
	} else
		sim_dev_host_rx(s->dev, tmp, (size_t)n, host_baud(s), now);
}

static void
rfc_accept(struct sim *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), one = 1;

	if (fd < 0)
		return;
	if (s->client_fd >= 0)
		client_drop(s);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->client_fd = fd;
	sim_rfc2217_init(&s->rfc, s->rfc_baud);
	buf_reset(&s->to_host);
	{
		struct buf g = BUF_INIT;

		sim_rfc2217_greeting(&s->rfc, &g);
		buf_add(&s->to_host, buf_head(&g), buf_len(&g));
		buf_free(&g);
	}
	log_info("rfc2217: client connected");
}

static int
run(struct sim *s)
{
	while (!quit) {
		struct pollfd pfd[4 + MAX_CTL];
		int np = 0, i_face = -1, i_listen = -1, i_ctl = -1, timeout, idx[MAX_CTL];
		int64_t now = clock_now_us(), next;

		device_out(s, now);
		next = sim_dev_next_us(s->dev);
		timeout = BAUD_POLL_MS;
		if (next >= 0 && buf_len(&s->to_host) < TO_HOST_MAX) {
			int64_t ms = (next - now + 999) / 1000;

			if (ms < timeout)
				timeout = ms < 0 ? 0 : (int)ms;
		}
		if (face_fd(s) >= 0) {
			i_face = np;
			pfd[np].fd = face_fd(s);
			pfd[np++].events = (short)(POLLIN | (buf_len(&s->to_host) ? POLLOUT : 0));
		}
		if (s->rfc_port && s->plugged && s->listen_fd >= 0) {
			i_listen = np;
			pfd[np].fd = s->listen_fd;
			pfd[np++].events = POLLIN;
		}
		if (s->ctl_fd >= 0) {
			i_ctl = np;
			pfd[np].fd = s->ctl_fd;
			pfd[np++].events = POLLIN;
		}
		for (int i = 0; i < MAX_CTL; i++) {
			idx[i] = -1;
			if (s->ctl[i].fd < 0)
				continue;
			idx[i] = np;
			pfd[np].fd = s->ctl[i].fd;
			pfd[np++].events = (short)(POLLIN | (buf_len(&s->ctl[i].out) ? POLLOUT : 0));
		}
		if (buf_len(&s->to_host) && s->stall_since && timeout > 50)
			timeout = 50;
		if (poll(pfd, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		now = clock_now_us();
		if (i_face >= 0 && (pfd[i_face].revents & (POLLIN | POLLHUP | POLLERR)))
			face_read(s, now);
		if (i_face >= 0 && (pfd[i_face].revents & POLLOUT))
			pump_out(s, now);
		if (i_listen >= 0 && (pfd[i_listen].revents & POLLIN))
			rfc_accept(s);
		if (i_ctl >= 0 && (pfd[i_ctl].revents & POLLIN)) {
			int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			for (int i = 0; fd >= 0 && i < MAX_CTL; i++)
				if (s->ctl[i].fd < 0) {
					s->ctl[i].fd = fd;
					buf_init(&s->ctl[i].in);
					buf_init(&s->ctl[i].out);
					fd = -1;
				}
			if (fd >= 0)
				close(fd);
		}
		for (int i = 0; i < MAX_CTL; i++) {
			struct ctl_client *c = &s->ctl[i];

			if (idx[i] < 0 || c->fd < 0)
				continue;
			if (pfd[idx[i]].revents & (POLLIN | POLLHUP | POLLERR))
				ctl_read(s, c);
			if (c->fd >= 0 && buf_len(&c->out)) {
				ssize_t n = write(c->fd, buf_head(&c->out), buf_len(&c->out));

				if (n > 0)
					buf_drain(&c->out, (size_t)n);
				else if (n < 0 && errno != EAGAIN && errno != EINTR)
					ctl_close(c);
			}
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	enum {
		O_LINK = 256, O_RFC, O_NOAUTO, O_CONTROL, O_CHIP, O_MAC, O_XTAL, O_FLASH, O_FSIZE,
		O_FID, O_DOWNLOAD, O_OFF, O_SCENARIO, O_SPEED, O_LATENCY, O_FAULTS, O_SEED,
	};
	static const struct option opts[] = {
		{ "link", required_argument, NULL, O_LINK },
		{ "rfc2217", required_argument, NULL, O_RFC },
		{ "no-autoreset", no_argument, NULL, O_NOAUTO },
		{ "control", required_argument, NULL, O_CONTROL },
		{ "chip", required_argument, NULL, O_CHIP },
		{ "mac", required_argument, NULL, O_MAC },
		{ "xtal", required_argument, NULL, O_XTAL },
		{ "flash", required_argument, NULL, O_FLASH },
		{ "flash-size", required_argument, NULL, O_FSIZE },
		{ "flash-id", required_argument, NULL, O_FID },
		{ "download", no_argument, NULL, O_DOWNLOAD },
		{ "off", no_argument, NULL, O_OFF },
		{ "scenario", required_argument, NULL, O_SCENARIO },
		{ "speed", required_argument, NULL, O_SPEED },
		{ "usb-latency", required_argument, NULL, O_LATENCY },
		{ "faults", required_argument, NULL, O_FAULTS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const scn[] = { "none", "exception", "soft-wdt", "hw-wdt", "brownout" };
	struct sim_dev_config cfg;
	struct sim s;
	const char *faults = NULL, *ctl_path = NULL;
	uint64_t seed = 1;
	uint32_t fsize = 0, fid = 0;
	int c, rc, have_mac = 0;
	char *cause = NULL;

	if (argc > 1 && strcmp(argv[1], "make-firmware") == 0)
		return sim_fw_main(argc - 1, argv + 1);  /* sim_fw.h: the firmware builder */
	memset(&s, 0, sizeof s);
	memset(&cfg, 0, sizeof cfg);
	sim_chip_identity_default(&cfg.id);
	cfg.powered = 1;
	s.listen_fd = s.client_fd = s.ctl_fd = -1;
	s.pty.master = s.pty.slave = -1;
	s.rfc_baud = 115200;
	for (int i = 0; i < MAX_CTL; i++)
		s.ctl[i].fd = -1;
	while ((c = getopt_long(argc, argv, "hVv:", opts, NULL)) != -1) {
		switch (c) {
		case O_LINK: s.link = optarg; break;
		case O_RFC:
			s.rfc_port = atoi(optarg);
			if (s.rfc_port <= 0 || s.rfc_port > 65535)
				die("--rfc2217 %s: expected a TCP port number 1-65535", optarg);
			break;
		case O_NOAUTO: s.no_autoreset = 1; break;
		case O_CONTROL: ctl_path = optarg; break;
		case O_CHIP:
			if (strcmp(optarg, "esp8266") == 0)
				cfg.id.esp8285 = 0;
			else if (strcmp(optarg, "esp8285") == 0)
				cfg.id.esp8285 = 1;
			else
				die("--chip %s: use esp8266 or esp8285", optarg);
			break;
		case O_MAC:
			if (parse_mac(optarg, cfg.id.mac) < 0)
				die("--mac %s: expected six hex bytes like 18:fe:34:a1:b2:c3", optarg);
			have_mac = 1;
			break;
		case O_XTAL:
			cfg.id.xtal_mhz = (uint32_t)atoi(optarg);
			if (cfg.id.xtal_mhz != 26 && cfg.id.xtal_mhz != 40)
				die("--xtal %s: use 26 or 40 (MHz)", optarg);
			break;
		case O_FLASH: cfg.flash_path = optarg; break;
		case O_FSIZE: fsize = parse_size(optarg); break;
		case O_FID: {
			char *end;

			fid = (uint32_t)strtoul(optarg, &end, 16);
			if (*end != '\0' || fid == 0 || fid > 0xFFFFFF)
				die("--flash-id %s: expected the JEDEC id, manufacturer first, like 0xEF4016",
				    optarg);
			break;
		}
		case O_DOWNLOAD: cfg.download = 1; break;
		case O_OFF: cfg.powered = 0; break;
		case O_SCENARIO: {
			size_t i;

			for (i = 0; i < ARRAY_SIZE(scn) && strcmp(scn[i], optarg) != 0; i++)
				;
			if (i == ARRAY_SIZE(scn))
				die("--scenario %s: use none, exception, soft-wdt, hw-wdt or brownout", optarg);
			cfg.scenario = (enum sim_scenario)i;
			break;
		}
		case O_SPEED:
			if (strcmp(optarg, "fast") == 0)
				cfg.fast = 1;
			else if (strcmp(optarg, "real") == 0)
				cfg.fast = 0;
			else
				die("--speed %s: use real or fast", optarg);
			break;
		case O_LATENCY: cfg.usb_latency_ms = (uint32_t)atoi(optarg); break;
		case O_FAULTS: faults = optarg; break;
		case O_SEED: seed = strtoull(optarg, NULL, 0); break;
		case 'v':
			if (log_open(optarg) != RC_OK)
				die("-v %s: %s", optarg, strerror(errno));
			break;
		case 'V': printf("espdesk-sim %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	(void)have_mac;
	/* Flash geometry: the size from the JEDEC id or the other way round (Winbond W25Q parts,
	 * or the ESP8285's embedded 1 MB part, JEDEC 0x514014, devices.md). */
	if (cfg.id.esp8285 && fid == 0 && (fsize == 0 || fsize == 1u << 20)) {
		fsize = 1u << 20;
		fid = 0x514014;
	}
	if (fid != 0 && fsize == 0) {
		unsigned cap = fid & 0xFF;

		if (cap >= 0x12 && cap <= 0x19)
			fsize = 1u << (cap - 0x12 + 18);
		else if (cap >= 0x32 && cap <= 0x39)
			fsize = 1u << (cap - 0x32 + 18);
		else
			die("--flash-id 0x%06X: unknown capacity byte 0x%02X; give --flash-size too",
			    fid, cap);
	}
	if (fsize != 0) {
		cfg.id.flash_size = fsize;
		if (fid == 0) {
			unsigned cap = 0x12;

			while ((1u << (cap - 0x12 + 18)) < fsize)
				cap++;
			fid = 0xEF4000u | cap;
		}
	}
	if (fid != 0)
		cfg.id.flash_id = fid;
	if (sim_fault_parse(&cfg.fault, faults, seed, &cause) != RC_OK)
		die("%s", cause);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	s.fast = cfg.fast;
	if ((rc = sim_dev_new(&cfg, clock_now_us(), &s.dev, &cause)) != RC_OK)
		die("%s", cause);
	if (face_up(&s, &cause) < 0)
		die("%s", cause);
	if (ctl_path != NULL && (s.ctl_fd = ctl_listen(ctl_path, &cause)) < 0)
		die("%s", cause);
	/* First thing on stdout: where the device is. */
	if (s.rfc_port)
		printf("rfc2217://127.0.0.1:%d\n", s.rfc_port);
	else
		printf("%s\n", s.pty.name);
	fflush(stdout);
	log_info("espdesk-sim up: %s", s.rfc_port ? "rfc2217" : s.pty.name);

	rc = run(&s);

	face_down(&s);
	if (s.link != NULL && !s.rfc_port)
		unlink(s.link);
	free(s.pty.link);
	if (ctl_path != NULL) {
		close(s.ctl_fd);
		unlink(ctl_path);
	}
	for (int i = 0; i < MAX_CTL; i++)
		if (s.ctl[i].fd >= 0)
			ctl_close(&s.ctl[i]);
	buf_free(&s.to_host);
	sim_dev_free(s.dev);
	log_close();
	return rc;
}
