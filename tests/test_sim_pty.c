/*
 * espdesk-sim end to end: the real binary over a real pty (and over RFC 2217), driven by a small
 * ROM-protocol client written here from protocol.md. Expected bytes are the reference's wire
 * examples; flash contents are checked in the --flash file byte for byte.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <md5.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "rom/slip.h"
#include "serial/ser.h"
#include "sim_harness.h"
#include "tap.h"

struct simp {
	struct sim sim;
	struct ser *port;
	struct slip_decoder dec;
	uint8_t frame[0x2000];
	size_t flen;
	int have_frame;
};

static int
simp_start(struct simp *s, const char *const *extra)
{
	const char *args[32];
	int n = 0;

	memset(s, 0, sizeof *s);
	slip_decoder_init(&s->dec, sizeof s->frame);
	if (sim_prepare(&s->sim, "/tmp/simpty-XXXXXX") < 0)
		return -1;
	args[n++] = "--speed"; args[n++] = "fast";
	args[n++] = "--seed"; args[n++] = "3";
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	/* It prints its address first thing (well under a second; the deadline here is generous
	 * because sanitizer builds on a loaded machine are slow, and this is no timing test). */
	return sim_spawn(&s->sim, args, 10000);
}

static int
sim_open(struct simp *s, const char *path, int baud)
{
	char *cause = NULL;

	if (ser_open(path, baud, &s->port, &cause) != RC_OK) {
		printf("# %s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

static void
simp_stop(struct simp *s)
{
	ser_close(s->port);
	s->port = NULL;
	sim_stop(&s->sim);
	slip_decoder_free(&s->dec);
}

static void
on_frame(void *arg, enum slip_event ev, const uint8_t *data, size_t len)
{
	struct simp *s = arg;

	if (ev == SLIP_EV_FRAME && !s->have_frame && len <= sizeof s->frame) {
		memcpy(s->frame, data, len);
		s->flen = len;
		s->have_frame = 1;
	}
}

/* Reads the next SLIP frame into s->frame; 0, or -1 after timeout_ms. Reads byte by byte so
 * that nothing after the frame is consumed. */
static int
read_frame(struct simp *s, int timeout_ms)
{
	int64_t end = clock_now_ms() + timeout_ms;
	uint8_t c;

	s->have_frame = 0;
	while (!s->have_frame) {
		int r = ser_read(s->port, &c, 1, (int)clock_left_ms(end));

		if (r <= 0)
			return -1;
		slip_decoder_feed(&s->dec, &c, 1, on_frame, s);
	}
	return 0;
}

static void
send_cmd(struct simp *s, uint8_t op, const void *data, size_t len, uint32_t chk)
{
	uint8_t *pkt = malloc(8 + len);
	struct buf w = BUF_INIT;

	pkt[0] = 0;
	pkt[1] = op;
	pkt[2] = (uint8_t)len;
	pkt[3] = (uint8_t)(len >> 8);
	pkt[4] = (uint8_t)chk;
	pkt[5] = pkt[6] = pkt[7] = 0;
	if (len)
		memcpy(pkt + 8, data, len);
	slip_encode_buf(&w, pkt, 8 + len);
	ser_write(s->port, buf_head(&w), buf_len(&w));
	ser_flush(s->port, 2000);
	buf_free(&w);
	free(pkt);
}

/* A command and its response (skipping other frames, as esptool does). Returns the value field,
 * sets *st to the status word of the last two bytes (data[-2] << 8 | data[-1]); -1: no reply. */
static int
command(struct simp *s, uint8_t op, const void *data, size_t len, uint32_t chk, uint32_t *value,
    int *st)
{
	send_cmd(s, op, data, len, chk);
	for (int i = 0; i < 100; i++) {
		if (read_frame(s, 3000) < 0)
			return -1;
		if (s->flen >= 10 && s->frame[0] == 1 && s->frame[1] == op) {
			if (value)
				*value = rd_le32(s->frame + 4);
			*st = s->frame[s->flen - 2] << 8 | s->frame[s->flen - 1];
			return 0;
		}
	}
	return -1;
}

/* §3.4: 0xEF XOR every data byte. */
static uint32_t
xor_checksum(const uint8_t *d, size_t n)
{
	uint8_t c = 0xEF;

	for (size_t i = 0; i < n; i++)
		c ^= d[i];
	return c;
}

static const uint8_t sync_payload[36] = { 0x07, 0x07, 0x12, 0x20, 0x55, 0x55, 0x55, 0x55, 0x55,
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };

/* SYNC and the 8 replies; returns how many arrived exactly as §4.1 gives them. */
static int
do_sync(struct simp *s, uint32_t want_value)
{
	uint8_t want[10] = { 0x01, 0x08, 0x02, 0x00, 0, 0, 0, 0, 0x00, 0x00 };
	int good = 0;

	wr_le32(want + 4, want_value);
	/* Up to five tries, as esptool's connect does (§5.1): a SYNC sent while the chip is still
	 * printing its power-on banner is not heard, on a real chip as here. */
	for (int attempt = 0; attempt < 5 && good != 8; attempt++) {
		if (attempt > 0)
			usleep(50000);
		good = 0;
		ser_discard(s->port);
		slip_decoder_reset(&s->dec);
		send_cmd(s, 0x08, sync_payload, sizeof sync_payload, 0);
		for (int i = 0; i < 8; i++) {
			/* The first reply within esptool's 100 ms (a generous 1 s here: no timing test). */
			if (read_frame(s, i == 0 ? 1000 : 3000) < 0)
				break;
			good += s->flen == 10 && memcmp(s->frame, want, 10) == 0;
		}
	}
	return good;
}

static uint32_t
read_reg(struct simp *s, uint32_t addr)
{
	uint8_t d[4];
	uint32_t v = 0xDEADDEAD;
	int st;

	wr_le32(d, addr);
	if (command(s, 0x0A, d, 4, 0, &v, &st) < 0 || st != 0)
		return 0xDEADDEAD;
	return v;
}

static int
write_reg(struct simp *s, uint32_t addr, uint32_t value)
{
	uint8_t d[16];
	int st = -1;

	wr_le32(d, addr);
	wr_le32(d + 4, value);
	wr_le32(d + 8, 0xFFFFFFFF);
	wr_le32(d + 12, 0);
	if (command(s, 0x09, d, 16, 0, NULL, &st) < 0)
		return -1;
	return st;
}

static uint8_t *
map_flash(struct simp *s, size_t *size)
{
	struct stat st;
	int fd = open(s->sim.flash, O_RDONLY);
	uint8_t *m;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	*size = (size_t)st.st_size;
	return m == MAP_FAILED ? NULL : m;
}

static int
skip_if_missing(const char *name)
{
	if (access(sim_bin(), X_OK) != 0) {
		t_skip(name, "espdesk-sim is not built");
		return 1;
	}
	return 0;
}

/* ---- cases ---- */

static void
test_sync_and_identity(void)
{
	static const char *const ex[] = { "--download", "--flash-size", "4MB", NULL };
	struct simp s;
	uint32_t w0;

	if (skip_if_missing(__func__))
		return;
	if (simp_start(&s, ex) != 0) {
		T_TRUE(!"espdesk-sim started");
		simp_stop(&s);
		return;
	}
	T_EQ_STR(s.sim.pty, s.sim.pty[0] == '/' ? s.sim.pty : "/dev/pts/N");
	if (sim_open(&s, s.sim.link, 115200) != 0) {
		T_TRUE(!"port opened");
		simp_stop(&s);
		return;
	}
	T_EQ_INT(do_sync(&s, 0x20120707), 8);
	T_EQ_HEX(read_reg(&s, 0x40001000), 0xFFF0C101);
	/* Crystal: esptool's estimate from UART_CLKDIV at 115200 is 26 MHz (§8.5). */
	T_EQ_HEX(read_reg(&s, 0x60000014) & 0xFFFFF, 0x1C4);
	/* Flash id: the exact §9.2 sequence. */
	{
		uint32_t usr = read_reg(&s, 0x6000021C), usr2 = read_reg(&s, 0x60000224);
		int polls = 0;

		T_EQ_INT(write_reg(&s, 0x60000220, 0x00001700), 0);
		T_EQ_INT(write_reg(&s, 0x6000021C, 0x90000000), 0);
		T_EQ_INT(write_reg(&s, 0x60000224, 0x7000009F), 0);
		T_EQ_INT(write_reg(&s, 0x60000240, 0), 0);
		T_EQ_INT(write_reg(&s, 0x60000200, 0x00040000), 0);
		while ((read_reg(&s, 0x60000200) & (1u << 18)) && polls < 10)
			polls++;
		T_TRUE(polls < 10);
		w0 = read_reg(&s, 0x60000240);
		T_EQ_HEX(w0, 0x001640EF);
		write_reg(&s, 0x6000021C, usr);
		write_reg(&s, 0x60000224, usr2);
	}
	/* Autobaud (§1): the host may sync directly at 921600; UART_CLKDIV follows (§8.5). */
	T_EQ_INT(ser_set_baud(s.port, 921600), RC_OK);
	T_EQ_INT(do_sync(&s, 0x20120707), 8);
	{
		uint32_t div = read_reg(&s, 0x60000014) & 0xFFFFF;
		double est = 921600.0 * div / 1e6 / 2;

		T_TRUE(est > 25.0 && est < 27.0);
	}
	/* MAC through the eFuses (default 18:fe:34:a1:b2:c3, §8.3). */
	T_EQ_HEX(read_reg(&s, 0x3FF00054) & 0xFFFFFF, 0x00A1B2);
	T_EQ_HEX(read_reg(&s, 0x3FF00050) >> 24, 0xC3);
	simp_stop(&s);
}

static void
test_rom_flash_write(void)
{
	static const char *const ex[] = { "--download", "--flash-size", "1MB", NULL };
	struct simp s;
	uint8_t begin[16], blk[16 + 0x400], *m;
	size_t size = 0;
	int st = -1;

	if (skip_if_missing(__func__))
		return;
	if (simp_start(&s, ex) != 0) {
		T_TRUE(!"espdesk-sim started");
		simp_stop(&s);
		return;
	}
	if (sim_open(&s, s.sim.pty, 115200) != 0) {
		T_TRUE(!"port opened");
		simp_stop(&s);
		return;
	}
	T_EQ_INT(do_sync(&s, 0x20120707), 8);
	/* §5.4: write 8292 bytes at 0x23000 as esptool --no-stub does: erase_size 0x2000 (its
	 * compensation), 9 blocks of 0x400, the last padded with 0xFF. */
	wr_le32(begin, 0x2000);
	wr_le32(begin + 4, 9);
	wr_le32(begin + 8, 0x400);
	wr_le32(begin + 12, 0x23000);
	T_EQ_INT(command(&s, 0x02, begin, 16, 0, NULL, &st), 0);
	T_EQ_INT(st, 0);
	for (uint32_t seq = 0; seq < 9; seq++) {
		memset(blk, 0, 16);
		wr_le32(blk, 0x400);
		wr_le32(blk + 4, seq);
		for (uint32_t i = 0; i < 0x400; i++) {
			uint32_t off = seq * 0x400 + i;

			blk[16 + i] = off < 8292 ? (uint8_t)(off * 7 + (off >> 8)) : 0xFF;
		}
		st = -1;
		T_EQ_INT(command(&s, 0x03, blk, sizeof blk, xor_checksum(blk + 16, 0x400),
		    NULL, &st), 0);
		T_EQ_INT(st, 0);
	}
	m = map_flash(&s, &size);
	T_TRUE(m != NULL);
	if (m != NULL) {
		uint32_t bad = 0;

		T_EQ_INT(size, MB);
		for (uint32_t off = 0; off < 8292; off++)
			bad += m[0x23000 + off] != (uint8_t)(off * 7 + (off >> 8));
		T_EQ_INT(bad, 0);
		T_EQ_HEX(m[0x23000 + 8292], 0xFF);
		munmap(m, size);
	}
	simp_stop(&s);
}

/* Uploads a pretend stub as esptool v4.6.2 does (§4.4) and waits for OHAI. */
static int
upload_stub(struct simp *s)
{
	uint8_t begin[16], blk[16 + 0x1800], end[8];
	int st = -1;

	wr_le32(begin, 8248);
	wr_le32(begin + 4, 2);
	wr_le32(begin + 8, 0x1800);
	wr_le32(begin + 12, 0x4010D000);
	if (command(s, 0x05, begin, 16, 0, NULL, &st) < 0 || st != 0)
		return -1;
	for (uint32_t seq = 0; seq < 2; seq++) {
		uint32_t n = seq == 0 ? 0x1800 : 8248 - 0x1800;

		memset(blk, 0, sizeof blk);
		wr_le32(blk, n);
		wr_le32(blk + 4, seq);
		memset(blk + 16, 0xA5, n);
		if (command(s, 0x07, blk, 16 + n, xor_checksum(blk + 16, n), NULL, &st) < 0 || st != 0)
			return -1;
	}
	wr_le32(end, 0);
	wr_le32(end + 4, 0x4010D004);
	if (command(s, 0x06, end, 8, 0, NULL, &st) < 0 || st != 0)
		return -1;
	/* The stub's greeting: one raw frame c0 4f 48 41 49 c0. */
	if (read_frame(s, 3000) < 0 || s->flen != 4 || memcmp(s->frame, "OHAI", 4) != 0)
		return -1;
	return 0;
}

static void
test_stub(void)
{
	static const char *const ex[] = { "--download", "--flash-size", "1MB", NULL };
	struct simp s;
	uint8_t p[16 + 0x1000], digest[16], want[16], *m = NULL, got[0x3000];
	size_t size = 0, have = 0;
	int st = -1;
	MD5_CTX ctx;

	if (skip_if_missing(__func__))
		return;
	if (simp_start(&s, ex) != 0) {
		T_TRUE(!"espdesk-sim started");
		simp_stop(&s);
		return;
	}
	if (sim_open(&s, s.sim.pty, 115200) != 0) {
		T_TRUE(!"port opened");
		simp_stop(&s);
		return;
	}
	T_EQ_INT(do_sync(&s, 0x20120707), 8);
	T_EQ_INT(upload_stub(&s), 0);
	/* The stub answers SYNC with value 0 (§4.1): esptool's "stub already running" test. */
	T_EQ_INT(do_sync(&s, 0), 8);
	/* CHANGE_BAUDRATE 460800 (§4.5): the reply at the old rate, then the new one. */
	wr_le32(p, 460800);
	wr_le32(p + 4, 115200);
	T_EQ_INT(command(&s, 0x0F, p, 8, 0, NULL, &st), 0);
	T_EQ_INT(st, 0);
	usleep(50000);
	T_EQ_INT(ser_set_baud(s.port, 460800), RC_OK);
	T_EQ_INT(do_sync(&s, 0), 8);
	T_CONTAINS(sim_ctl(&s.sim, "status"), "baud=460800");
	/* SPI_SET_PARAMS as esptool sends it (§4.5). */
	wr_le32(p, 0); wr_le32(p + 4, MB); wr_le32(p + 8, 0x10000); wr_le32(p + 12, 0x1000);
	wr_le32(p + 16, 0x100); wr_le32(p + 20, 0xFFFF);
	T_EQ_INT(command(&s, 0x0B, p, 24, 0, NULL, &st), 0);
	T_EQ_INT(st, 0);
	/* Stub FLASH_BEGIN (plain size) + one FLASH_DATA of 0x1000 bytes at 0x3000. */
	wr_le32(p, 0x1000); wr_le32(p + 4, 1); wr_le32(p + 8, 0x4000); wr_le32(p + 12, 0x3000);
	T_EQ_INT(command(&s, 0x02, p, 16, 0, NULL, &st), 0);
	T_EQ_INT(st, 0);
	memset(p, 0, 16);
	wr_le32(p, 0x1000);
	for (int i = 0; i < 0x1000; i++)
		p[16 + i] = (uint8_t)(i ^ (i >> 4) ^ 0x5A);
	p[16 + 10] = 0xC0;
	p[16 + 11] = 0xDB;
	T_EQ_INT(command(&s, 0x03, p, 16 + 0x1000, xor_checksum(p + 16, 0x1000), NULL, &st), 0);
	T_EQ_INT(st, 0);
	/* The dummy READ_REG esptool sends waits for the write (§5.5). */
	T_EQ_HEX(read_reg(&s, 0x40001000), 0xFFF0C101);
	MD5Init(&ctx);
	MD5Update(&ctx, p + 16, 0x1000);
	MD5Final(want, &ctx);
	/* SPI_FLASH_MD5: 16 raw bytes before the status (§4.5). */
	{
		uint8_t q[16];

		wr_le32(q, 0x3000); wr_le32(q + 4, 0x1000); wr_le32(q + 8, 0); wr_le32(q + 12, 0);
		T_EQ_INT(command(&s, 0x13, q, 16, 0, NULL, &st), 0);
		T_EQ_INT(st, 0);
		T_EQ_INT(s.flen, 8 + 18);
		T_EQ_MEM(s.frame + 8, want, 16);
	}
	m = map_flash(&s, &size);
	T_TRUE(m != NULL);
	if (m != NULL)
		T_EQ_MEM(m + 0x3000, p + 16, 0x1000);
	/* READ_FLASH 0x2000..0x4FFF with ACKs and the final MD5 (§5.9). */
	{
		uint8_t q[16], ack[4];
		struct buf w = BUF_INIT;

		wr_le32(q, 0x2000); wr_le32(q + 4, 0x3000); wr_le32(q + 8, 0x1000); wr_le32(q + 12, 64);
		T_EQ_INT(command(&s, 0xD2, q, 16, 0, NULL, &st), 0);
		T_EQ_INT(st, 0);
		while (have < 0x3000) {
			if (read_frame(&s, 3000) < 0 || s.flen != 0x1000)
				break;
			memcpy(got + have, s.frame, 0x1000);
			have += 0x1000;
			wr_le32(ack, (uint32_t)have);
			buf_reset(&w);
			slip_encode_buf(&w, ack, 4);
			ser_write(s.port, buf_head(&w), buf_len(&w));
		}
		buf_free(&w);
		T_EQ_INT(have, 0x3000);
		T_EQ_INT(read_frame(&s, 3000), 0);
		T_EQ_INT(s.flen, 16);
		MD5Init(&ctx);
		MD5Update(&ctx, got, 0x3000);
		MD5Final(digest, &ctx);
		T_EQ_MEM(s.frame, digest, 16);
		if (m != NULL)
			T_EQ_MEM(got, m + 0x2000, 0x3000);
	}
	/* esptool-js reads 256 KB with 1024 frames in flight (tests/interop/FINDINGS.md F1): the
	 * reply comes first, then every frame, then the MD5 of all of it. */
	{
		uint8_t q[16], ack[4], *all = malloc(0x40000);
		struct buf w = BUF_INIT;
		size_t got_all = 0;

		wr_le32(q, 0); wr_le32(q + 4, 0x40000); wr_le32(q + 8, 0x1000); wr_le32(q + 12, 1024);
		send_cmd(&s, 0xD2, q, 16, 0);
		T_EQ_INT(read_frame(&s, 3000), 0);
		T_TRUE(s.flen == 10 && s.frame[0] == 1 && s.frame[1] == 0xD2 && s.frame[8] == 0);
		while (got_all < 0x40000) {
			if (read_frame(&s, 3000) < 0 || s.flen != 0x1000)
				break;
			memcpy(all + got_all, s.frame, 0x1000);
			got_all += 0x1000;
			wr_le32(ack, (uint32_t)got_all);
			buf_reset(&w);
			slip_encode_buf(&w, ack, 4);
			ser_write(s.port, buf_head(&w), buf_len(&w));
		}
		buf_free(&w);
		T_EQ_INT(got_all, 0x40000);
		T_EQ_INT(read_frame(&s, 3000), 0);
		MD5Init(&ctx);
		MD5Update(&ctx, all, 0x40000);
		MD5Final(digest, &ctx);
		T_EQ_INT(s.flen, 16);
		T_EQ_MEM(s.frame, digest, 16);
		if (m != NULL)
			T_EQ_MEM(all, m, 0x40000);
		free(all);
	}
	/* ERASE_REGION 0x3000+0x1000 (§4.5). */
	{
		uint8_t q[8];

		wr_le32(q, 0x3000); wr_le32(q + 4, 0x1000);
		T_EQ_INT(command(&s, 0xD1, q, 8, 0, NULL, &st), 0);
		T_EQ_INT(st, 0);
		if (m != NULL)
			T_EQ_HEX(m[0x3000] & m[0x3FFF] & m[0x3800], 0xFF);
	}
	/* Unknown opcode to the stub: FF 00 (§4.5). */
	T_EQ_INT(command(&s, 0x55, NULL, 0, 0, NULL, &st), 0);
	T_EQ_HEX(st, 0xFF00);
	/* --after no_reset: FLASH_BEGIN(0,0) + FLASH_END(0) back to the ROM (§4.3): SYNC value is the
	 * ROM's again. */
	wr_le32(p, 0); wr_le32(p + 4, 0); wr_le32(p + 8, 0x4000); wr_le32(p + 12, 0);
	T_EQ_INT(command(&s, 0x02, p, 16, 0, NULL, &st), 0);
	wr_le32(p, 0);
	T_EQ_INT(command(&s, 0x04, p, 4, 0, NULL, &st), 0);
	T_EQ_INT(st, 0);
	usleep(100000);
	T_EQ_INT(do_sync(&s, 0x20120707), 8);
	T_CONTAINS(sim_ctl(&s.sim, "status"), "mode=download");
	if (m != NULL)
		munmap(m, size);
	simp_stop(&s);
}

static void
test_control_and_boot_text(void)
{
	static const char *const ex[] = { NULL };
	struct simp s;
	char text[256];
	int n = 0;
	int64_t end;

	if (skip_if_missing(__func__))
		return;
	if (simp_start(&s, ex) != 0) {
		T_TRUE(!"espdesk-sim started");
		simp_stop(&s);
		return;
	}
	/* The host listens at 74880 (a custom rate: TCSETS2) and reads the ROM banner verbatim. */
	if (sim_open(&s, s.sim.link, 74880) != 0) {
		T_TRUE(!"port opened");
		simp_stop(&s);
		return;
	}
	T_CONTAINS(sim_ctl(&s.sim, "gpio0 down"), "ok");
	/* Whatever the power-on boot printed before the host set 74880 is gone. */
	usleep(100000);
	ser_discard(s.port);
	T_CONTAINS(sim_ctl(&s.sim, "reset"), "ok reset");
	end = clock_now_ms() + 2000;
	while (n < (int)sizeof text - 1 && clock_left_ms(end) > 0) {
		int r = ser_read(s.port, text + n, (size_t)(sizeof text - 1 - (size_t)n), 100);

		if (r < 0)
			break;
		for (int k = n; k < n + r; k++)
			if (text[k] == '\0')
				text[k] = '.';
		n += r;
		text[n] = '\0';
		if (strstr(text, "boot mode:(1,") != NULL)
			break;
	}
	text[n] = '\0';
	/* bootlog.md §1-§3: an EN reset with GPIO0 low. */
	T_CONTAINS(text, "ets Jan  8 2013,rst cause:2, boot mode:(1,");
	T_CONTAINS(sim_ctl(&s.sim, "status"), "mode=download");
	T_CONTAINS(sim_ctl(&s.sim, "status"), "host_baud=74880");
	T_CONTAINS(sim_ctl(&s.sim, "strap gpio15 high"), "ok");
	T_CONTAINS(sim_ctl(&s.sim, "power cycle"), "ok");
	usleep(100000);
	T_CONTAINS(sim_ctl(&s.sim, "status"), "boot_mode=5");
	T_CONTAINS(sim_ctl(&s.sim, "status"), "rst_cause=1");
	T_CONTAINS(sim_ctl(&s.sim, "frobnicate"), "error");
	T_CONTAINS(sim_ctl(&s.sim, "scenario exception"), "ok scenario exception");
	/* unplug closes the pty; plug brings it back at the same --link path. */
	T_CONTAINS(sim_ctl(&s.sim, "unplug"), "ok");
	{
		uint8_t c;
		int r = ser_read(s.port, &c, 1, 1000);

		T_EQ_INT(r, RC_ERR_GONE);
	}
	ser_close(s.port);
	s.port = NULL;
	T_CONTAINS(sim_ctl(&s.sim, "status"), "plugged=no");
	/* The device node goes with an unplugged adapter: so does the link. */
	T_TRUE(access(s.sim.link, F_OK) != 0);
	T_CONTAINS(sim_ctl(&s.sim, "plug"), "ok");
	T_CONTAINS(sim_ctl(&s.sim, "strap gpio15 low"), "ok");
	T_CONTAINS(sim_ctl(&s.sim, "gpio0 down"), "ok");
	T_CONTAINS(sim_ctl(&s.sim, "reset"), "ok");
	usleep(50000);
	if (sim_open(&s, s.sim.link, 115200) != 0) {
		T_TRUE(!"port opened");
		simp_stop(&s);
		return;
	}
	T_EQ_INT(do_sync(&s, 0x20120707), 8);
	simp_stop(&s);
}

static void
test_faults(void)
{
	static const char *const cut[] = { "--download", "--faults", "cut-after=200", NULL };
	static const char *const drop[] = { "--download", "--faults", "drop=1", NULL };
	static const char *const bad[] = { "--download", "--faults", "drop=2", NULL };
	struct simp s;
	int r = 0, status = 0;
	uint8_t c;

	if (skip_if_missing(__func__))
		return;
	/* cut-after: the 46-byte SYNC and 96 bytes of replies, then READ_REGs until the cable goes. */
	if (simp_start(&s, cut) != 0) {
		T_TRUE(!"espdesk-sim started");
		simp_stop(&s);
		return;
	}
	if (sim_open(&s, s.sim.pty, 115200) != 0) {
		T_TRUE(!"port opened");
		simp_stop(&s);
		return;
	}
	T_EQ_INT(do_sync(&s, 0x20120707), 8);
	for (int i = 0; i < 10 && read_reg(&s, 0x40001000) == 0xFFF0C101; i++)
		;
	for (int i = 0; i < 20 && (r = ser_read(s.port, &c, 1, 100)) >= 0; i++)
		;
	T_EQ_INT(r, RC_ERR_GONE);
	T_CONTAINS(sim_ctl(&s.sim, "status"), "powered=no");
	T_CONTAINS(sim_ctl(&s.sim, "status"), "plugged=no");
	simp_stop(&s);
	/* drop=1: nothing gets through. */
	if (simp_start(&s, drop) != 0) {
		T_TRUE(!"espdesk-sim started");
		simp_stop(&s);
		return;
	}
	if (sim_open(&s, s.sim.pty, 115200) != 0) {
		T_TRUE(!"port opened");
		simp_stop(&s);
		return;
	}
	T_EQ_INT(do_sync(&s, 0x20120707), 0);
	simp_stop(&s);
	/* A bad list: exit 2 with a message, before printing anything. */
	T_EQ_INT(simp_start(&s, bad), -1);
	waitpid(s.sim.pid, &status, 0);
	s.sim.pid = 0;
	T_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	simp_stop(&s);
}

static void
test_rfc2217_autoreset(void)
{
	char port[16], url[64];
	const char *ex[] = { "--rfc2217", port, NULL };
	struct simp s;
	int st;

	if (skip_if_missing(__func__))
		return;
	snprintf(port, sizeof port, "%d", 20000 + (int)(getpid() % 20000));
	if (simp_start(&s, ex) != 0) {
		T_TRUE(!"espdesk-sim started");
		simp_stop(&s);
		return;
	}
	snprintf(url, sizeof url, "rfc2217://127.0.0.1:%s", port);
	T_EQ_STR(s.sim.pty, url);
	if (sim_open(&s, url, 115200) != 0) {
		T_TRUE(!"port opened");
		simp_stop(&s);
		return;
	}
	/* Not in download mode: it booted from (blank) flash. */
	usleep(50000);
	T_TRUE(strstr(sim_ctl(&s.sim, "status"), "mode=download") == NULL);
	/* esptool's ClassicReset (§11.1) over SET-CONTROL: DTR=0 RTS=1, 100 ms, DTR=1, RTS=0,
	 * 50 ms, DTR=0. */
	ser_set_dtr(s.port, 0);
	ser_set_rts(s.port, 1);
	usleep(100000);
	ser_set_dtr(s.port, 1);
	ser_set_rts(s.port, 0);
	usleep(50000);
	ser_set_dtr(s.port, 0);
	usleep(50000);
	T_CONTAINS(sim_ctl(&s.sim, "status"), "mode=download");
	T_CONTAINS(sim_ctl(&s.sim, "status"), "rst_cause=2");
	T_EQ_INT(do_sync(&s, 0x20120707), 8);
	/* 0xFF in data crosses the Telnet layer escaped: MEM_DATA with 0xFF bytes checks out. */
	{
		uint8_t begin[16], blk[16 + 8];

		wr_le32(begin, 8); wr_le32(begin + 4, 1); wr_le32(begin + 8, 0x1800);
		wr_le32(begin + 12, 0x3FFE8000);
		T_EQ_INT(command(&s, 0x05, begin, 16, 0, NULL, &st), 0);
		memset(blk, 0, 16);
		wr_le32(blk, 8);
		memset(blk + 16, 0xFF, 8);
		T_EQ_INT(command(&s, 0x07, blk, 24, xor_checksum(blk + 16, 8), NULL, &st), 0);
		T_EQ_INT(st, 0);
		T_EQ_HEX(read_reg(&s, 0x3FFE8004), 0xFFFFFFFF);
	}
	/* HardReset: RTS pulse with DTR released boots the flash again. */
	ser_set_rts(s.port, 1);
	usleep(100000);
	ser_set_rts(s.port, 0);
	usleep(50000);
	T_TRUE(strstr(sim_ctl(&s.sim, "status"), "mode=download") == NULL);
	simp_stop(&s);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_sync_and_identity);
	T_RUN(test_rom_flash_write);
	T_RUN(test_stub);
	T_RUN(test_control_and_boot_text);
	T_RUN(test_faults);
	T_RUN(test_rfc2217_autoreset);
	return t_done();
}
