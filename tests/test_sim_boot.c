/*
 * test_sim_boot.c: the simulated chip's boot paths against the reference (bootlog.md,
 * protocol.md §11.5/§12/§13) and the real logs in tests/data/bootlogs/. Expected lines are read
 * from the real logs at run time wherever a log has them; the rest are quoted from the reference
 * or a cited public log. Checksums are recomputed here by the reference's rule (0xEF XOR), not
 * taken from our builder.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "core/xmalloc.h"
#include "sim/sim_app.h"
#include "sim/sim_boot.h"
#include "sim/sim_fw.h"
#include "sim/sim_image.h"
#include "tap.h"

#define MB (1024u * 1024u)

static struct sim_boot_env
env_default(void)
{
	struct sim_boot_env e;

	memset(&e, 0, sizeof e);
	e.xtal_hz = 26000000;
	e.rst_cause = SIM_RST_EXTERNAL;
	e.gpio0 = 1;
	e.gpio2 = 1;
	e.gpio15 = 0;
	e.boot_count = 1;
	return e;
}

/* All step texts of a plan, concatenated (caller frees). */
static char *
ptext(const struct sim_boot_plan *p)
{
	struct buf b = BUF_INIT;
	char *s;

	for (size_t i = 0; i < p->nsteps; i++)
		buf_add(&b, p->steps[i].text, p->steps[i].len);
	s = xstrndup(buf_head(&b) ? (const char *)buf_head(&b) : "", buf_len(&b));
	buf_free(&b);
	return s;
}

static char *
looptext(const struct sim_boot_plan *p)
{
	struct buf b = BUF_INIT;
	char *s;

	for (size_t i = 0; i < p->nloop; i++)
		buf_add(&b, p->loop[i].text, p->loop[i].len);
	s = xstrndup(buf_head(&b) ? (const char *)buf_head(&b) : "", buf_len(&b));
	buf_free(&b);
	return s;
}

/* The whole text of a real log (caller frees). */
static char *
logfile(const char *name)
{
	char path[256];
	struct buf b = BUF_INIT;
	char chunk[4096], *s;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "bootlogs/%s", name);
	f = fopen(t_data(path), "rb");
	if (f == NULL) {
		printf("# cannot open %s\n", t_data(path));
		return xstrdup("");
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	s = xstrndup(buf_head(&b) ? (const char *)buf_head(&b) : "", buf_len(&b));
	buf_free(&b);
	return s;
}

/*
 * Line n (from 1) of a real log, as the chip sent it: without the line end, without the
 * "<\r><\n>" markers the poster of log 19 wrote and without the "> " quote prefix of log 04.
 * Caller frees.
 */
static char *
logline(const char *name, int n)
{
	char *all = logfile(name), *p = all, *end, *s;
	size_t len;

	for (int i = 1; i < n && p != NULL; i++)
		p = (p = strchr(p, '\n')) != NULL ? p + 1 : NULL;
	if (p == NULL) {
		free(all);
		return xstrdup("(no such line)");
	}
	end = strchr(p, '\n');
	len = end ? (size_t)(end - p) : strlen(p);
	if (len >= 2 && strncmp(p, "> ", 2) == 0) {
		p += 2;
		len -= 2;
	}
	s = xstrndup(p, len);
	if ((p = strstr(s, "<\\r><\\n>")) != NULL)
		*p = '\0';
	free(all);
	return s;
}

/* True when text has line as a whole line ("\n" LINE "\r\n"). */
static int
has_line(const char *text, const char *line)
{
	char *needle = xfmt("\n%s\r\n", line);
	int ok = strstr(text, needle) != NULL;

	if (!ok)
		printf("# line \"%s\" not found\n", line);
	free(needle);
	return ok;
}

#define T_LINE(text, line) T_CHECK_(has_line((text), (line)), "%s has the line \"%s\"", #text, (line))

/* Checks that line n of a real log is a whole line of text. */
#define T_LOGLINE(text, log, n) do {                                          \
	char *l_ = logline((log), (n));                                       \
	T_CHECK_(has_line((text), l_), "%s has line %d of %s: \"%s\"", #text, (n), (log), l_); \
	free(l_);                                                             \
} while (0)

static uint8_t *
build(const struct sim_fw_opts *o)
{
	uint8_t *flash = NULL;
	char *cause = NULL;
	int rc = sim_fw_build(o, &flash, &cause);

	if (rc != RC_OK)
		printf("# sim_fw_build: %s\n", cause ? cause : "?");
	free(cause);
	return flash;
}

/* Plans a boot of flash (flash_size bytes) with env e and returns its text (caller frees). */
static char *
boot(struct sim_boot_env *e, const uint8_t *flash, uint32_t size, struct sim_boot_plan *p)
{
	e->flash = flash;
	e->flash_size = size;
	sim_boot_plan(e, p);
	return ptext(p);
}

/* The reference's checksum rule, written again here: 0xEF XOR the data of every segment; the
 * stored byte ends the 16-byte block after the last segment. Returns 1 when they match. */
static int
image_csum_ok(const uint8_t *img, uint8_t *computed)
{
	uint32_t p = 8;
	uint8_t c = 0xEF;

	for (unsigned s = 0; s < img[1]; s++) {
		uint32_t len = (uint32_t)img[p + 4] | (uint32_t)img[p + 5] << 8 |
		    (uint32_t)img[p + 6] << 16 | (uint32_t)img[p + 7] << 24;

		for (uint32_t i = 0; i < len; i++)
			c ^= img[p + 8 + i];
		p += 8 + len;
	}
	*computed = c;
	return img[p | 15] == c;
}

/* ---- ROM banner and strap modes ---- */

static void
test_rom_baud(void)
{
	/* bootlog.md §1, protocol.md §1: 115200 * 26/40 = 74880; 115200 on 40 MHz. */
	T_EQ_INT(sim_boot_rom_baud(26000000), 74880);
	T_EQ_INT(sim_boot_rom_baud(40000000), 115200);
}

static void
test_download_mode(void)
{
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	char *t;

	e.gpio0 = 0;
	t = boot(&e, NULL, 0, &p);
	/* Log 10 line 2: " ets Jan  8 2013,rst cause:2, boot mode:(1,6)", then an empty line. */
	T_LOGLINE(t, "10-restart-after-serial-flash-stuck-uart-mode.log", 2);
	T_EQ_STR(t, "\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,6)\r\n\r\n");
	T_EQ_INT(p.next, SIM_NEXT_DOWNLOAD);
	T_EQ_INT(p.nsteps, 1);
	T_EQ_INT(p.steps[0].baud, 74880);
	sim_boot_plan_free(&p);
	free(t);

	/* After a hardware WDT in UART mode (log 10 lines 5-7). */
	e.rst_cause = SIM_RST_WDT;
	t = boot(&e, NULL, 0, &p);
	T_LOGLINE(t, "10-restart-after-serial-flash-stuck-uart-mode.log", 5);
	T_LOGLINE(t, "10-restart-after-serial-flash-stuck-uart-mode.log", 7);
	T_EQ_STR(t, "\r\n ets Jan  8 2013,rst cause:4, boot mode:(1,6)\r\n\r\nwdt reset\r\n");
	T_EQ_INT(p.next, SIM_NEXT_DOWNLOAD);
	sim_boot_plan_free(&p);
	free(t);

	/* A 40 MHz crystal prints the banner at 115200 (protocol.md §1). */
	e.xtal_hz = 40000000;
	sim_boot_plan(&e, &p);
	T_EQ_INT(p.steps[0].baud, 115200);
	sim_boot_plan_free(&p);
}

static void
test_sdio_mode(void)
{
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	char *t;

	e.gpio15 = 1;
	t = boot(&e, NULL, 0, &p);
	/* Log 13: `(7,0)`, an empty line, `waiting for host`. */
	T_LOGLINE(t, "13-sdio-mode-7-0-gpio15-0v5.log", 1);
	T_LOGLINE(t, "13-sdio-mode-7-0-gpio15-0v5.log", 3);
	T_CONTAINS(t, "(7,0)\r\n\r\nwaiting for host\r\n");
	T_EQ_INT(p.next, SIM_NEXT_HALT);
	sim_boot_plan_free(&p);
	free(t);
}

static void
test_gpio2_low(void)
{
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	char *t, *l;

	e.gpio2 = 0;
	t = boot(&e, NULL, 0, &p);
	/* Log 17: `rst cause:2, boot mode:(2,0)` (the poster's copy lost a space in "Jan  8"). */
	T_CONTAINS(t, "rst cause:2, boot mode:(2,0)\r\n\r\n");
	T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
	T_TRUE(p.nloop >= 1);
	l = looptext(&p);
	T_CONTAINS(l, "Fatal exception (28):\r\n");
	{
		char *want = logline("17-boot-mode-2-0-fatal28-strapping.log", 4);

		T_CONTAINS(l, want);
		free(want);
	}
	T_EQ_INT(p.loop[0].baud, 74880);
	sim_boot_plan_free(&p);
	free(l);
	free(t);

	/* GPIO0 and GPIO2 low: x = 0, the same junk (bootlog.md §13). */
	e.gpio0 = 0;
	t = boot(&e, NULL, 0, &p);
	T_CONTAINS(t, "boot mode:(0,0)");
	T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
	sim_boot_plan_free(&p);
	free(t);
}

static void
test_erased_flash(void)
{
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash = xmalloc(MB);
	char *t;

	memset(flash, 0xFF, MB);
	e.rst_cause = SIM_RST_POWERON;
	t = boot(&e, flash, MB, &p);
	/* Nothing at 0x0: " ets Jan  8 2013,rst cause:1, boot mode:(3,7)", empty line,
	 * "ets_main.c " (SmingHub/Sming#2366: "the boot sector hasn't been programmed"). */
	T_EQ_STR(t, "\r\n ets Jan  8 2013,rst cause:1, boot mode:(3,7)\r\n\r\nets_main.c ");
	sim_boot_plan_free(&p);
	free(t);

	/* Log 19 kept the line ends as bytes: the banner is followed by "\r\n\r\n". */
	e.rst_cause = SIM_RST_EXTERNAL;
	t = boot(&e, flash, MB, &p);
	{
		char *l = logfile("19-csum-err-qio-arduino164-esp07.log");
		char *end = strstr(l, "<\\r><\\n><\\r><\\n>");

		T_TRUE(end != NULL);
		if (end != NULL) {
			char *want;

			*end = '\0';
			want = xfmt("\r\n%s\r\n\r\n", l);
			T_TRUE(strncmp(t, want, strlen(want)) == 0);
			free(want);
		}
		free(l);
	}
	T_EQ_INT(p.next, SIM_NEXT_HALT);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

/* ---- the ROM's loader ---- */

/* An image with the given segment lengths (filled with 0x11 so checksums are known), at 0x0
 * of a 1 MB flash. */
static uint8_t *
image_with(const uint32_t *addr, const uint32_t *len, unsigned n, uint8_t mode)
{
	struct sim_fw_seg segs[8];
	struct buf b = BUF_INIT;
	uint8_t *flash = xmalloc(MB), *data[8];

	memset(flash, 0xFF, MB);
	for (unsigned i = 0; i < n; i++) {
		data[i] = xmalloc(len[i] + 1);
		memset(data[i], 0x11, len[i] + 1);
		segs[i] = (struct sim_fw_seg){ addr[i], data[i], len[i] };
	}
	sim_fw_image_v1(&b, mode, 0x20, 0x40100004, segs, n);
	memcpy(flash, buf_head(&b), buf_len(&b));
	for (unsigned i = 0; i < n; i++)
		free(data[i]);
	buf_free(&b);
	return flash;
}

static void
check_loader_log(const char *log, const uint32_t *addr, const uint32_t *len, unsigned n,
    const int *lines, size_t nlines)
{
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash = image_with(addr, len, n, SIM_MODE_DOUT);
	char *t = boot(&e, flash, MB, &p);

	for (size_t i = 0; i < nlines; i++) {
		char *l = logline(log, lines[i]);
		size_t ll = strlen(l);

		/* Some posters' copies lost the ROM's trailing space after `room N`. */
		if (strncmp(l, "load ", 5) == 0 && ll > 0 && l[ll - 1] != ' ') {
			char *l2 = xfmt("%s ", l);

			free(l);
			l = l2;
		}
		T_CHECK_(has_line(t, l), "%s line %d: \"%s\"", log, lines[i], l);
		free(l);
	}
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_loader_room_tail(void)
{
	/* Every real log's load/tail/ho lines follow from its segment lengths alone. */
	{
		static const uint32_t a[] = { 0x40100000, 0x3ffe8000, 0x3ffe8630 };
		static const uint32_t l[] = { 28780, 1580, 36588 };
		static const int lines[] = { 2, 3, 5, 6, 7, 9, 10 };

		check_loader_log("19-csum-err-qio-arduino164-esp07.log", a, l, 3, lines, ARRAY_SIZE(lines));
	}
	{
		static const uint32_t a[] = { 0x40100000, 0x3ffe8000, 0x3ffe8898 };
		static const uint32_t l[] = { 26420, 2200, 8 };
		static const int lines[] = { 3, 4, 6, 7, 9, 10 };

		check_loader_log("22-rf-cal-0xff-missing-init-data.log", a, l, 3, lines, ARRAY_SIZE(lines));
	}
	{
		static const uint32_t a[] = { 0x40100000, 0x3ffe8000, 0x3ffe8450 };
		static const uint32_t l[] = { 32028, 1092, 3000 };
		static const int lines[] = { 3, 4, 6, 7, 8, 10, 11 };

		check_loader_log("25-flash-size-16mb-unsupported-system-param-error.log", a, l, 3, lines,
		    ARRAY_SIZE(lines));
	}
	{
		static const uint32_t a[] = { 0x40100000, 0x3ffe8000 };
		static const uint32_t l[] = { 1516, 700 };
		static const int lines[] = { 18, 19, 21, 22, 23 };

		check_loader_log("29-rboot-rom1-bad-fallback-rom0.log", a, l, 2, lines, ARRAY_SIZE(lines));
	}
	{
		static const uint32_t a[] = { 0x40100000, 0x3ffe8000, 0x3ffe8a90 };
		static const uint32_t l[] = { 23140, 2692, 3296 };
		static const int lines[] = { 2, 3, 5, 6, 8, 9 };

		check_loader_log("05-healthy-nonos-nonota-app-at-74880.log", a, l, 3, lines, ARRAY_SIZE(lines));
	}
	{
		static const uint32_t a[] = { 0x40100000, 0x3ffe8000, 0x3ffe8314 };
		static const uint32_t l[] = { 612, 788, 264 };
		static const int lines[] = { 8, 9, 11, 12, 14, 15 };

		check_loader_log("04-healthy-at-rst-old-sdk-wdt-boot11.log", a, l, 3, lines, ARRAY_SIZE(lines));
	}
}

static void
test_loader_checksums(void)
{
	static const uint32_t a[] = { 0x40100000, 0x3ffe8000 };
	static const uint32_t l[] = { 1001, 16 };
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash = image_with(a, l, 2, SIM_MODE_DOUT), c;
	char *t, *want;

	/* 1001 bytes of 0x11 XOR to 0x11: chksum 0xef ^ 0x11 = 0xfe; 16 more cancel out. */
	T_TRUE(image_csum_ok(flash, &c));
	T_EQ_HEX(c, 0xfe);
	t = boot(&e, flash, MB, &p);
	T_LINE(t, "chksum 0xfe");
	want = xfmt("csum 0x%02x", c);
	T_LINE(t, want);
	/* Not a boot loader: the ROM starts it as a NONOS application, whose SDK finds no init
	 * data in this otherwise blank flash. */
	T_LINE(t, "rf_cal[0] !=0x05,is 0xFF");
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	free(want);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);

	/* Blank segment data (an even number of 0xFF bytes) leaves the seed: `chksum 0xef`
	 * (bootlog.md §4). */
	{
		static const uint32_t l2[] = { 1000, 16 };

		flash = image_with(a, l2, 2, SIM_MODE_DOUT);
		memset(flash + 16, 0xFF, 1000);
		t = boot(&e, flash, MB, &p);
		T_CONTAINS(t, "load 0x40100000, len 1000, room 16 \r\ntail 8\r\nchksum 0xef\r\n");
		sim_boot_plan_free(&p);
		free(t);
		free(flash);
	}
}

static void
test_wrong_flash_mode(void)
{
	/* esp8266.com t=3699 (dsvilko), a module whose flash cannot do the header's mode: the
	 * first segment header reads, everything after it reads as zeros. */
	static const char *const want[] = {
		"load 0x40100000, len 30452, room 16 ", "tail 4", "chksum 0xef",
		"load 0x00000000, len 0, room 4 ", "tail 0", "chksum 0xef", "ho 12 tail 0 room 4",
		"load 0x00000000, len 0, room 12 ", "tail 0", "chksum 0xef", "csum 0xef", "csum err",
	};
	static const uint32_t a[] = { 0x40100000, 0x3ffe8000, 0x3ffe8200 };
	static const uint32_t l[] = { 30452, 1000, 500 };
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash = image_with(a, l, 3, SIM_MODE_QIO);
	char *t;

	e.esp8285 = 1;
	t = boot(&e, flash, MB, &p);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		T_LINE(t, want[i]);
	T_TRUE(strlen(t) > 11 && strcmp(t + strlen(t) - 11, "ets_main.c ") == 0);
	T_EQ_INT(p.next, SIM_NEXT_HALT);
	sim_boot_plan_free(&p);
	free(t);

	/* The same image on an ESP8266 (QIO-capable flash) loads. */
	e.esp8285 = 0;
	t = boot(&e, flash, MB, &p);
	T_FALSE(strstr(t, "csum err") != NULL);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_esp8285_header_modes(void)
{
	/* protocol.md §13.3 item 2 / log 19: DIO or QIO on a DOUT-only ESP8285 ends in
	 * `csum err`, DOUT boots. */
	static const uint8_t modes[] = { SIM_MODE_QIO, SIM_MODE_QOUT, SIM_MODE_DIO, SIM_MODE_DOUT };
	struct sim_fw_opts o;

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		struct sim_boot_env e = env_default();
		struct sim_boot_plan p;
		uint8_t *flash;
		char *t;

		sim_fw_opts_default(&o);
		o.mode = modes[i];
		flash = build(&o);
		e.esp8285 = 1;
		t = boot(&e, flash, o.flash_size, &p);
		if (modes[i] == SIM_MODE_DOUT) {
			T_LINE(t, "jump to run user1 @ 1000");
			T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
		} else {
			T_LOGLINE(t, "19-csum-err-qio-arduino164-esp07.log", 13);
			T_EQ_INT(p.next, SIM_NEXT_HALT);
		}
		sim_boot_plan_free(&p);
		free(t);
		free(flash);
	}
}

static void
test_csum_err(void)
{
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash, c;
	char *t, *l;

	sim_fw_opts_default(&o);
	o.layout = SIM_FW_NONOS_PLAIN;
	o.corrupt_checksum = 1;
	flash = build(&o);
	T_FALSE(image_csum_ok(flash, &c));
	t = boot(&e, flash, o.flash_size, &p);
	/* Log 19's last two lines: `csum err`, then `ets_main.c ` and nothing more. */
	T_LOGLINE(t, "19-csum-err-qio-arduino164-esp07.log", 13);
	l = logline("19-csum-err-qio-arduino164-esp07.log", 14);
	T_EQ_STR(l, "ets_main.c ");
	T_TRUE(strlen(t) > strlen(l) && strcmp(t + strlen(t) - strlen(l), l) == 0);
	T_EQ_INT(p.next, SIM_NEXT_HALT);
	free(l);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

/* ---- the firmware builder's images, checked by the reference's rules ---- */

static void
test_fw_images(void)
{
	struct sim_fw_opts o;
	uint8_t *flash, c;
	uint32_t ilen, second, end;

	T_EQ_HEX(sim_fw_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u); /* CRC-32 check value */

	sim_fw_opts_default(&o);
	o.user2 = 1;
	flash = build(&o);
	T_TRUE(flash != NULL);
	if (flash == NULL)
		return;
	/* boot at 0x0: E9, 3 segments, DOUT, 1MB/40m = 0x20 (protocol.md §12.1). */
	T_EQ_HEX(flash[0], 0xE9);
	T_EQ_HEX(flash[1], 3);
	T_EQ_HEX(flash[2], 3);
	T_EQ_HEX(flash[3], 0x20);
	T_TRUE(image_csum_ok(flash, &c));
	/* user1 at 0x1000 and user2 at 0x81000: EA 04 00 <app>, then the IROM segment, then an E9
	 * image whose checksum covers the RAM segments (§12.6). */
	T_EQ_HEX(flash[0x1000], 0xEA);
	T_EQ_HEX(flash[0x1001], 0x04);
	T_EQ_HEX(flash[0x1003], 1);
	T_EQ_HEX(flash[0x81000], 0xEA);
	T_EQ_HEX(flash[0x81003], 2);
	ilen = rd_le32(flash + 0x1000 + 12);
	second = 0x1000 + 16 + ilen;
	T_EQ_HEX(flash[second], 0xE9);
	T_TRUE(image_csum_ok(flash + second, &c));
	/* The v2 CRC: crc32 of everything before it, transformed (§12.6). */
	end = second + 8;
	for (unsigned s = 0; s < flash[second + 1]; s++)
		end += 8 + rd_le32(flash + end + 4);
	end = ((end - 0x1000) | 15) + 1 + 0x1000;
	{
		uint32_t crc = sim_fw_crc32(flash + 0x1000, end - 0x1000);

		crc = crc & 0x80000000u ? crc ^ 0xFFFFFFFFu : crc + 1;
		T_EQ_HEX(rd_le32(flash + end), crc);
	}
	/* esp_init_data at E-0x4000 = 0xFC000 starts with 0x05 (§13.1); the system area after it
	 * is blank (user1 selected). */
	T_EQ_HEX(flash[0xFC000], 0x05);
	T_EQ_HEX(flash[0xFD000], 0xFF);
	T_EQ_HEX(flash[0xFF000], 0xFF);
	free(flash);

	/* arduino: eboot is one segment at 0x4010f000 (bootlog.md §9); the sketch at 0x1000. */
	sim_fw_opts_default(&o);
	o.layout = SIM_FW_ARDUINO;
	flash = build(&o);
	T_EQ_HEX(flash[1], 1);
	T_EQ_HEX(rd_le32(flash + 8), 0x4010f000u);
	T_TRUE(image_csum_ok(flash, &c));
	T_EQ_HEX(flash[0x1000], 0xE9);
	T_TRUE(image_csum_ok(flash + 0x1000, &c));
	free(flash);
}

static void
test_fw_errors(void)
{
	struct sim_fw_opts o;
	uint8_t *flash = NULL;
	char *cause = NULL;

	sim_fw_opts_default(&o);
	o.script = "baud 115200\nprint ok\nblink fast\n";
	o.script_name = "demo.app";
	T_EQ_INT(sim_fw_build(&o, &flash, &cause), RC_ERR_ARG);
	T_TRUE(flash == NULL);
	T_CONTAINS(cause, "demo.app:3: unknown directive 'blink'");
	free(cause);

	sim_fw_opts_default(&o);
	T_TRUE(sim_fw_parse_size("256KB", &o.flash_size, &o.size_nibble));
	o.user2 = 1;
	T_EQ_INT(sim_fw_build(&o, &flash, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "no user2 slot");
	free(cause);

	sim_fw_opts_default(&o);
	o.flash_size = 512 * 1024;   /* a 1 MB layout does not fit */
	T_EQ_INT(sim_fw_build(&o, &flash, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "does not fit");
	free(cause);
}

/* ---- NONOS boot_v1.x ---- */

static void
test_boot15_log01(void)
{
	static const int lines[] = { 1, 3, 4, 6, 7, 9, 10, 14, 15, 16, 17, 18, 21, 22, 23, 25, 26 };
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* Log 01: AT firmware, boot 1.5, DIO, 1 MB 512+512, user1. */
	sim_fw_opts_default(&o);
	o.boot_version = "1.5";
	o.mode = SIM_MODE_DIO;
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		char *l = logline("01-healthy-at-stock-boot15-user1-1000.log", lines[i]);
		size_t ll = strlen(l);

		if (strncmp(l, "load ", 5) == 0 && l[ll - 1] != ' ') {
			char *l2 = xfmt("%s ", l);

			free(l);
			l = l2;
		}
		T_CHECK_(has_line(t, l), "log 01 line %d: \"%s\"", lines[i], l);
		free(l);
	}
	/* The 2nd stage follows `csum` after an empty line, and its jump line is followed by one. */
	T_CONTAINS(t, "\r\n\r\n2nd boot version : 1.5\r\n");
	T_CONTAINS(t, "jump to run user1 @ 1000\r\n\r\n");
	/* Our rf cal sector is the SDK default E-0x5000 = 0xFB000 = 251 (log 01's AT firmware
	 * chose 249). */
	T_LINE(t, "rf cal sector: 251");
	T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
	T_EQ_INT(p.nloop, 0);
	T_EQ_INT(p.app_baud, 74880);
	for (size_t i = 0; i < p.nsteps; i++)
		T_EQ_INT(p.steps[i].baud, 74880);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_boot16_log02(void)
{
	static const int lines[] = { 2, 3, 5, 6, 8, 9, 13, 14, 15, 16, 17, 20, 21, 22 };
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* Log 02: boot 1.6, 80 MHz, DIO, 4 MB 512+512 (map 4). */
	sim_fw_opts_default(&o);
	o.boot_version = "1.6";
	o.mode = SIM_MODE_DIO;
	o.freq = 0xF;
	T_TRUE(sim_fw_parse_size("4MB", &o.flash_size, &o.size_nibble));
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		T_LOGLINE(t, "02-healthy-boot16-dio-user1-after-dio-fix.log", lines[i]);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_boot17_error_magic_log27(void)
{
	static const int lines[] = { 3, 4, 6, 7, 9, 10, 14, 15, 16, 17, 18, 20, 21, 23 };
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* Log 27: boot 1.7, QIO, 1 MB, the parameters select user2, no image in either slot. */
	sim_fw_opts_default(&o);
	o.boot_version = "1.7(5d6f877)";
	o.mode = SIM_MODE_QIO;
	o.slot = 2;
	o.user1 = 0;
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		T_LOGLINE(t, "27-boot17-user2-81000-error-magic.log", lines[i]);
	T_CONTAINS(t, "jump to run user2 @ 81000\r\n\r\nerror magic!\r\nbackup boot failed.\r\n"
	    "\r\nuser code done\r\n");
	T_EQ_INT(p.next, SIM_NEXT_HALT);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_real_boot_by_layout(void)
{
	/* A genuine boot_v1.7 (restored from a device's dump) has no version text we can read,
	 * but its segment lengths are log 27's: it is recognised by them. */
	static const uint32_t a[] = { 0x40100000, 0x3ffe8000, 0x3ffe82fc };
	static const uint32_t l[] = { 2592, 764, 676 };
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash = image_with(a, l, 3, SIM_MODE_QIO);
	char *t;

	t = boot(&e, flash, MB, &p);
	T_LOGLINE(t, "27-boot17-user2-81000-error-magic.log", 14);
	T_LOGLINE(t, "27-boot17-user2-81000-error-magic.log", 16);
	T_LINE(t, "jump to run user1 @ 1000");
	T_LINE(t, "error magic!");
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_boot11_log04(void)
{
	static const int lines[] = { 7, 19, 20, 21, 22, 23 };
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* Log 04: boot 1.1, QIO, `SPI Flash Size : 4Mbit` (map 0), no address on the jump line,
	 * after a hardware WDT reset. */
	sim_fw_opts_default(&o);
	o.boot_version = "1.1";
	o.mode = SIM_MODE_QIO;
	T_TRUE(sim_fw_parse_size("512KB", &o.flash_size, &o.size_nibble));
	flash = build(&o);
	e.rst_cause = SIM_RST_WDT;
	t = boot(&e, flash, o.flash_size, &p);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		T_LOGLINE(t, "04-healthy-at-rst-old-sdk-wdt-boot11.log", lines[i]);
	T_CONTAINS(t, "\r\n\r\nwdt reset\r\nload 0x40100000, len 612, room 16 \r\n");
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_map_strings(void)
{
	/* protocol.md §13.2. */
	static const char *const v16[16] = {
		"4Mbit(256KB+256KB)", "2Mbit", "8Mbit(512KB+512KB)", "16Mbit(512KB+512KB)",
		"32Mbit(512KB+512KB)", "16Mbit(1024KB+1024KB)", "32Mbit(1024KB+1024KB)",
		"flash map not support", "flash map not support", "flash map not support",
	};
	struct sim_fw_opts o;

	for (unsigned n = 0; n < 16; n++) {
		const char *want17 = n == 8 ? "64Mbit(1024KB+1024KB)" : n == 9 ? "128Mbit(1024KB+1024KB)" :
		    n < 10 ? v16[n] : "flash map not support";

		T_EQ_STR(sim_image_map_str(n, 1), want17);
		T_EQ_STR(sim_image_map_str(n, 0), n < 10 ? v16[n] : "flash map not support");
	}
	/* Through a boot, for every map the builder can lay out, on a chip of that size. */
	static const char *const sizes[] = { "512KB", "1MB", "2MB", "2MB-c1", "4MB", "4MB-c1", "8MB",
		"16MB" };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct sim_boot_env e = env_default();
		struct sim_boot_plan p;
		uint8_t *flash;
		char *t, *line;

		sim_fw_opts_default(&o);
		o.boot_version = "1.7(5d6f877)";
		T_TRUE(sim_fw_parse_size(sizes[i], &o.flash_size, &o.size_nibble));
		flash = build(&o);
		t = boot(&e, flash, o.flash_size, &p);
		line = xfmt("SPI Flash Size & Map: %s", sim_image_map_str((unsigned)o.size_nibble, 1));
		T_LINE(t, line);
		T_LINE(t, "jump to run user1 @ 1000");
		T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
		free(line);
		sim_boot_plan_free(&p);
		free(t);
		free(flash);
	}
}

static void
test_slot_selection(void)
{
	static const struct { const char *size; const char *jump; } cases[] = {
		{ "1MB", "jump to run user2 @ 81000" },
		{ "2MB", "jump to run user2 @ 81000" },
		{ "4MB", "jump to run user2 @ 81000" },
		{ "2MB-c1", "jump to run user2 @ 101000" },
		{ "4MB-c1", "jump to run user2 @ 101000" },
	};
	struct sim_fw_opts o;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sim_boot_env e = env_default();
		struct sim_boot_plan p;
		uint8_t *flash;
		char *t;

		sim_fw_opts_default(&o);
		T_TRUE(sim_fw_parse_size(cases[i].size, &o.flash_size, &o.size_nibble));
		o.slot = 2;
		o.user2 = 1;
		o.script = "print running from user2\n";
		flash = build(&o);
		t = boot(&e, flash, o.flash_size, &p);
		T_LINE(t, cases[i].jump);
		T_LINE(t, "running from user2");
		T_FALSE(strstr(t, "error magic!") != NULL);
		sim_boot_plan_free(&p);
		free(t);
		free(flash);
	}
}

static void
test_backup_slot(void)
{
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* boot_v1.6: user2 selected but empty, user1 good: `error magic!`, then user1 runs. */
	sim_fw_opts_default(&o);
	o.slot = 2;
	o.script = "print hello from user1\n";
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_CONTAINS(t, "jump to run user2 @ 81000\r\n\r\nerror magic!\r\n");
	T_FALSE(strstr(t, "backup boot failed.") != NULL);
	T_LINE(t, "hello from user1");
	sim_boot_plan_free(&p);
	free(t);

	/* boot_v1.5 has no fallback: straight back to the ROM. */
	free(flash);
	o.boot_version = "1.5";
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_CONTAINS(t, "error magic!\r\n\r\nuser code done\r\n");
	T_EQ_INT(p.next, SIM_NEXT_HALT);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_rboot_log29(void)
{
	static const int lines[] = { 18, 19, 21, 22, 23, 27, 28, 29, 30, 31, 33, 35 };
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* Log 29: rBoot v1.2.1, 32 Mbit QIO 40 MHz, rom 1 selected but never written. */
	sim_fw_opts_default(&o);
	o.layout = SIM_FW_RBOOT;
	o.mode = SIM_MODE_QIO;
	T_TRUE(sim_fw_parse_size("4MB", &o.flash_size, &o.size_nibble));
	o.slot = 2;
	o.script = "sdk-banner off\nprint Currently running rom 0.\n";
	flash = build(&o);
	e.rst_cause = SIM_RST_POWERON;
	t = boot(&e, flash, o.flash_size, &p);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		T_LOGLINE(t, "29-rboot-rom1-bad-fallback-rom0.log", lines[i]);
	T_CONTAINS(t, "rBoot Option: Big flash\r\n\r\nRom 1 is bad.\r\n\r\nBooting rom 0.\r\n\r\n");
	T_LOGLINE(t, "29-rboot-rom1-bad-fallback-rom0.log", 5);
	T_FALSE(strstr(t, "SDK ver") != NULL);
	T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
	sim_boot_plan_free(&p);
	free(t);

	/* A broken config: rBoot reports writing its default (2 roms, rom 0 at 0x2000). */
	flash[0x1000] = 0xFF;
	t = boot(&e, flash, o.flash_size, &p);
	T_LINE(t, "Writing default boot config.");
	T_LINE(t, "Booting rom 0.");
	sim_boot_plan_free(&p);
	free(t);

	/* No good rom at all: back to the ROM. */
	memset(flash + 0x2000, 0xFF, 0x1000);
	t = boot(&e, flash, o.flash_size, &p);
	T_CONTAINS(t, "Rom 0 is bad.\r\n\r\nRom 1 is bad.\r\n\r\nNo good rom available.\r\n");
	T_CONTAINS(t, "\r\nuser code done\r\n");
	T_EQ_INT(p.next, SIM_NEXT_HALT);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

/* ---- the SDK's start-up checks ---- */

static void
test_rf_cal_blank_log22(void)
{
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	sim_fw_opts_default(&o);
	o.layout = SIM_FW_NONOS_PLAIN;
	o.blank_init_data = 1;
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	/* Log 22: right after `csum`, `rf_cal[0] !=0x05,is 0xFF`, and the chip restarts keeping
	 * `rst cause:2` (bootlog.md §2, §8). */
	T_LOGLINE(t, "22-rf-cal-0xff-missing-init-data.log", 13);
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	T_EQ_INT(p.next_rst_cause, SIM_RST_EXTERNAL);
	sim_boot_plan_free(&p);
	free(t);

	e.rst_cause = SIM_RST_POWERON;
	sim_boot_plan(&e, &p);
	T_EQ_INT(p.next_rst_cause, SIM_RST_POWERON);
	sim_boot_plan_free(&p);
	free(flash);
}

static void
test_header_bigger_than_layout(void)
{
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* protocol.md §13.3 item 1: a 1 MB layout on a 4 MB chip with the header patched to 4 MB:
	 * boot_v1.x says 32Mbit and the SDK looks for its init data at 0x3FC000 (blank). */
	sim_fw_opts_default(&o);
	o.flash_size = 4 * MB;
	o.size_nibble = 2;
	o.header_nibble = 4;
	flash = build(&o);
	T_EQ_HEX(flash[0xFC000], 0x05);
	t = boot(&e, flash, o.flash_size, &p);
	T_LINE(t, "  SPI Flash Size & Map: 32Mbit(512KB+512KB)");
	T_LINE(t, "rf_cal[0] !=0x05,is 0xFF");
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_system_param_error_log25(void)
{
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* Log 25: a 16 MB header under an SDK older than 2.1. */
	sim_fw_opts_default(&o);
	o.layout = SIM_FW_NONOS_PLAIN;
	o.flash_size = 4 * MB;
	o.size_nibble = 4;
	T_TRUE(sim_fw_parse_size("16MB", &(uint32_t){ 0 }, &o.header_nibble));
	o.script = "sdk 1.5.4.1(39cb9a32)\n";
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_LOGLINE(t, "25-flash-size-16mb-unsupported-system-param-error.log", 14);
	T_LOGLINE(t, "25-flash-size-16mb-unsupported-system-param-error.log", 15);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);

	/* SDK 2.2 knows map 9: no complaint. */
	o.script = "sdk 2.2.1(6ab97e9)\n";
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_FALSE(strstr(t, "system param error") != NULL);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

/* ---- eboot and applications ---- */

static const char app_script[] =
    "# a test application\n"
    "name test app\n"
    "baud 115200\n"
    "print hello\n"
    "after 100 ms print tab\\there \\x41\n"
    "every 2000 ms print tick\n"
    "every 1000 ms print tock\n";

static void
test_eboot_log36(void)
{
	static const int lines[] = { 1, 3, 4, 5, 8, 9 };
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	sim_fw_opts_default(&o);
	o.layout = SIM_FW_ARDUINO;
	flash = build(&o);
	e.rst_cause = SIM_RST_WDT;
	t = boot(&e, flash, o.flash_size, &p);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		T_LOGLINE(t, "36-hw-wdt-blocked-websocket-example.log", lines[i]);
	/* An Arduino sketch without a script runs silently at 115200. */
	T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
	T_EQ_INT(p.nloop, 0);
	T_EQ_INT(p.app_baud, 115200);
	sim_boot_plan_free(&p);
	free(t);

	/* Nothing at 0x1000: eboot's load fails at the header (`e:1`) and it resets. */
	memset(flash + 0x1000, 0xFF, 0x1000);
	t = boot(&e, flash, o.flash_size, &p);
	T_CONTAINS(t, "~ld\r\ne:1\r\n");
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_app_script(void)
{
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t, *l;

	sim_fw_opts_default(&o);
	o.layout = SIM_FW_ARDUINO;
	o.script = app_script;
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_CONTAINS(t, "~ld\r\nhello\r\ntab\there A\r\n");
	T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
	T_EQ_INT(p.app_baud, 115200);
	T_EQ_INT(p.steps[0].baud, 74880);
	T_EQ_INT(p.steps[p.nsteps - 1].baud, 115200);
	T_EQ_INT(p.nloop, 2);
	l = looptext(&p);
	T_EQ_STR(l, "tick\r\ntock\r\n");
	T_EQ_INT(p.loop[0].delay_us, 2000000);
	T_EQ_INT(p.loop[1].delay_us, 1000000);
	T_EQ_INT(p.loop[0].baud, 115200);
	free(l);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);

	/* The same script in the other layouts. */
	for (int lay = SIM_FW_NONOS_OTA; lay <= SIM_FW_NONOS_PLAIN; lay++) {
		sim_fw_opts_default(&o);
		o.layout = (enum sim_fw_layout)lay;
		o.script = app_script;
		flash = build(&o);
		t = boot(&e, flash, o.flash_size, &p);
		/* NONOS: the SDK banner at the ROM's baud first (log 01), then the app at its own. */
		T_CONTAINS(t, "SDK ver: 1.5.4.1(39cb9a32) compiled @ Jul  1 2016 20:04:35\r\n");
		T_CONTAINS(t, "\r\n\r\nhello\r\n");
		T_EQ_INT(p.nloop, 2);
		sim_boot_plan_free(&p);
		free(t);
		free(flash);
	}

	/* 40 MHz crystal: ROM text at 115200. */
	sim_fw_opts_default(&o);
	o.layout = SIM_FW_ARDUINO;
	flash = build(&o);
	e.xtal_hz = 40000000;
	t = boot(&e, flash, o.flash_size, &p);
	T_EQ_INT(p.steps[0].baud, 115200);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_exception_log32(void)
{
	static const int lines[] = { 1, 2, 4, 5, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22 };
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	sim_fw_opts_default(&o);
	o.layout = SIM_FW_ARDUINO;
	o.script = "sdk-debug on\nprint connecting\nevery 1000 ms print tick\n"
	    "crash exception 28 after 3500 ms\n";
	flash = build(&o);
	e.rst_cause = SIM_RST_POWERON;
	t = boot(&e, flash, o.flash_size, &p);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		T_LOGLINE(t, "32-exception28-uninitialized-pointer-io_ctx.log", lines[i]);
	T_CONTAINS(t, "sp: 3fff1840 end: ");
	T_CONTAINS(t, "3fff1aa0:  3fff608c 3fff60cc 3ffe93c8 00000000\r\n<<<stack<<<\r\n");
	/* Three ticks (1, 2, 3 s) before the crash at 3.5 s. */
	T_CONTAINS(t, "tick\r\ntick\r\ntick\r\nFatal exception 28(LoadProhibitedCause):");
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	/* An exception restart keeps the last hardware cause (bootlog.md §2, file 29). */
	T_EQ_INT(p.next_rst_cause, SIM_RST_POWERON);
	sim_boot_plan_free(&p);
	free(t);

	/* A crash at once: only the lines due at time 0 get out before it. */
	free(flash);
	o.script = "print first\nafter 1 ms print never\ncrash soft-wdt after 0 ms\n";
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_FALSE(strstr(t, "never") != NULL);
	T_CONTAINS(t, "~ld\r\nfirst\r\nSoft WDT reset\r\n");
	for (size_t i = 0; i < p.nsteps; i++)
		T_TRUE(p.steps[i].delay_us < 1000000);
	sim_boot_plan_free(&p);
	free(t);

	/* Without sdk-debug the SDK line is not there; a NONOS app prints only the SDK's. */
	free(flash);
	o.script = "crash exception 9 after 100 ms epc1=0x40201234 excvaddr=0x3\n";
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_FALSE(strstr(t, "Fatal exception") != NULL);
	T_LINE(t, "Exception (9):");
	T_LINE(t, "epc1=0x40201234 epc2=0x00000000 epc3=0x00000000 excvaddr=0x00000003 depc=0x00000000");
	sim_boot_plan_free(&p);
	free(t);
	free(flash);

	sim_fw_opts_default(&o);
	o.layout = SIM_FW_NONOS_PLAIN;
	o.script = "crash exception 28 after 100 ms\n";
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_LOGLINE(t, "32-exception28-uninitialized-pointer-io_ctx.log", 1);
	T_FALSE(strstr(t, ">>>stack>>>") != NULL);
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_scenarios(void)
{
	struct sim_fw_opts o;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t, *log34, *crlf;
	struct buf b = BUF_INIT;

	sim_fw_opts_default(&o);
	o.layout = SIM_FW_ARDUINO;
	o.script = app_script;
	flash = build(&o);

	/* Soft WDT: log 34 byte for byte (with the UART's \r\n). */
	e.scenario = SIM_SCN_SOFT_WDT;
	t = boot(&e, flash, o.flash_size, &p);
	log34 = logfile("34-soft-wdt-busy-loop-delaymicroseconds.log");
	for (const char *s = log34; *s; s++) {
		if (*s == '\n')
			buf_add_byte(&b, '\r');
		buf_add_byte(&b, (uint8_t)*s);
	}
	crlf = xstrndup((const char *)buf_head(&b), buf_len(&b));
	T_CONTAINS(t, crlf);
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	T_EQ_INT(p.next_rst_cause, SIM_RST_EXTERNAL);
	free(crlf);
	free(log34);
	buf_free(&b);
	sim_boot_plan_free(&p);
	free(t);

	/* Exception switched on from outside: the log 32 values. */
	e.scenario = SIM_SCN_EXCEPTION;
	t = boot(&e, flash, o.flash_size, &p);
	T_LOGLINE(t, "32-exception28-uninitialized-pointer-io_ctx.log", 5);
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	sim_boot_plan_free(&p);
	free(t);

	/* Hardware WDT: no text, a silent wait, then a reset with cause 4, whose banner has
	 * `wdt reset` (log 36). */
	e.scenario = SIM_SCN_HW_WDT;
	t = boot(&e, flash, o.flash_size, &p);
	T_FALSE(strstr(t, "Exception") != NULL || strstr(t, "Soft WDT") != NULL);
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	T_EQ_INT(p.next_rst_cause, SIM_RST_WDT);
	T_EQ_INT(p.steps[p.nsteps - 1].len, 0);
	T_TRUE(p.steps[p.nsteps - 1].delay_us > 0);
	e.rst_cause = p.next_rst_cause;
	sim_boot_plan_free(&p);
	free(t);
	t = boot(&e, flash, o.flash_size, &p);
	T_LOGLINE(t, "36-hw-wdt-blocked-websocket-example.log", 1);
	T_LOGLINE(t, "36-hw-wdt-blocked-websocket-example.log", 3);
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	sim_boot_plan_free(&p);
	free(t);

	/* Brownout: reset mid-boot, no crash text, power-on cause. */
	e.rst_cause = SIM_RST_EXTERNAL;
	e.scenario = SIM_SCN_BROWNOUT;
	t = boot(&e, flash, o.flash_size, &p);
	T_FALSE(strstr(t, "Exception") != NULL || strstr(t, "Soft WDT") != NULL ||
	    strstr(t, "Fatal") != NULL);
	T_FALSE(strstr(t, "hello\r\n") != NULL);
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	T_EQ_INT(p.next_rst_cause, SIM_RST_POWERON);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);

	/* NONOS brownout: the SDK banner is cut. */
	sim_fw_opts_default(&o);
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_FALSE(strstr(t, "phy ver") != NULL);
	T_EQ_INT(p.next, SIM_NEXT_RESET);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

static void
test_demo_and_stock(void)
{
	char out[] = "/tmp/test_sim_boot.XXXXXX", arg0[] = "make-firmware", arg1[] = "--demo";
	char *argv[] = { arg0, arg1, out, NULL };
	struct sim_fw_opts o;
	int fd, saved;
	FILE *f;
	struct sim_boot_env e = env_default();
	struct sim_boot_plan p;
	uint8_t *flash;
	char *t;

	/* stock: boot 1.7 in DOUT, no script: the SDK banner, then silence. */
	sim_fw_opts_default(&o);
	o.boot_version = "1.7(5d6f877)";
	flash = build(&o);
	t = boot(&e, flash, o.flash_size, &p);
	T_LINE(t, "SPI Mode : DOUT");
	T_LINE(t, "phy ver: 972, pp ver: 10.1");
	T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
	T_EQ_INT(p.nloop, 0);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);

	/* `make-firmware OUT --demo` writes a whole flash whose demo boots and loops. */
	fd = mkstemp(out);
	T_TRUE(fd >= 0);
	close(fd);
	fflush(stdout);
	saved = dup(1);
	fd = open("/dev/null", O_WRONLY);
	dup2(fd, 1);
	close(fd);
	T_EQ_INT(sim_fw_main(3, argv), 0);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	flash = xmalloc(MB);
	f = fopen(out, "rb");
	T_TRUE(f != NULL && fread(flash, 1, MB, f) == MB);
	if (f != NULL)
		fclose(f);
	unlink(out);
	t = boot(&e, flash, MB, &p);
	T_CONTAINS(t, "~ld\r\n");
	T_LINE(t, "00:00:00 CFG: Loaded from flash at FA, Count 10");
	T_EQ_INT(p.next, SIM_NEXT_APP_LOOP);
	T_EQ_INT(p.nloop, 2);
	T_EQ_INT(p.app_baud, 115200);
	sim_boot_plan_free(&p);
	free(t);
	free(flash);
}

/* ---- the script parser ---- */

static void
test_script_parser(void)
{
	static const char s[] = "name  X\nbaud 9600\r\ncore nonos\nprint a\\x\nafter 5 print b\n"
	    "every 0 ms print c\nevery 7 ms say d\ncrash soft-wdt after 12\nprint\n";
	struct sim_app a, b;
	struct sim_app_parser p;
	uint8_t blob[128];

	sim_app_init(&a);
	sim_app_parser_init(&p, &a);
	sim_app_parser_feed(&p, s, sizeof s - 1);
	sim_app_parser_finish(&p);
	T_EQ_STR(a.name, "X");
	T_EQ_INT(a.baud, 9600);
	T_EQ_INT(a.core, SIM_APP_CORE_NONOS);
	T_EQ_INT(a.nstart, 3);
	T_EQ_STR(a.start[0].text, "a\\x");
	T_EQ_INT(a.start[1].delay_ms, 5);
	T_EQ_STR(a.start[2].text, "");
	T_EQ_INT(a.nloop, 0);
	T_EQ_INT(a.crash, SIM_SCN_SOFT_WDT);
	T_EQ_INT(a.crash_after_ms, 12);
	T_EQ_INT(a.nerrors, 3);
	T_EQ_INT(a.error_line, 4);
	T_CONTAINS(a.error, "escape");

	/* Fed one byte at a time, the same result. */
	sim_app_init(&b);
	sim_app_parser_init(&p, &b);
	for (size_t i = 0; i < sizeof s - 1; i++)
		sim_app_parser_feed(&p, s + i, 1);
	sim_app_parser_finish(&p);
	T_EQ_INT(b.nstart, a.nstart);
	T_EQ_INT(b.nerrors, a.nerrors);
	T_EQ_INT(b.crash_after_ms, a.crash_after_ms);
	sim_app_free(&a);
	sim_app_free(&b);

	/* Found behind its marker in a segment; a NUL byte ends the script. */
	memset(blob, 0x5A, sizeof blob);
	memcpy(blob + 10, SIM_APP_MARKER "print one\n", strlen(SIM_APP_MARKER "print one\n"));
	blob[10 + strlen(SIM_APP_MARKER "print one\n")] = 0;
	sim_app_init(&a);
	T_EQ_INT(sim_app_find(blob, sizeof blob, &a), 1);
	T_EQ_INT(a.nstart, 1);
	T_EQ_INT(a.nerrors, 0);
	sim_app_free(&a);
	sim_app_init(&a);
	T_EQ_INT(sim_app_find(blob, 20, &a), 0);
	T_EQ_INT(a.found, 0);
	sim_app_free(&a);
}

int
main(void)
{
	T_RUN(test_rom_baud);
	T_RUN(test_download_mode);
	T_RUN(test_sdio_mode);
	T_RUN(test_gpio2_low);
	T_RUN(test_erased_flash);
	T_RUN(test_loader_room_tail);
	T_RUN(test_loader_checksums);
	T_RUN(test_wrong_flash_mode);
	T_RUN(test_esp8285_header_modes);
	T_RUN(test_csum_err);
	T_RUN(test_fw_images);
	T_RUN(test_fw_errors);
	T_RUN(test_boot15_log01);
	T_RUN(test_boot16_log02);
	T_RUN(test_boot17_error_magic_log27);
	T_RUN(test_boot11_log04);
	T_RUN(test_real_boot_by_layout);
	T_RUN(test_map_strings);
	T_RUN(test_slot_selection);
	T_RUN(test_backup_slot);
	T_RUN(test_rboot_log29);
	T_RUN(test_rf_cal_blank_log22);
	T_RUN(test_header_bigger_than_layout);
	T_RUN(test_system_param_error_log25);
	T_RUN(test_eboot_log36);
	T_RUN(test_app_script);
	T_RUN(test_exception_log32);
	T_RUN(test_scenarios);
	T_RUN(test_demo_and_stock);
	T_RUN(test_script_parser);
	return t_done();
}
