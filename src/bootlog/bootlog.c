/*
 * bootlog.c: the push parser. Bytes are gathered into a bounded line buffer; each complete line
 * is classified once against the messages of bootlog.md and reported as one event.
 */
#include "config.h"

#include "bootlog/bootlog.h"

#include <string.h>

#include "core/common.h"

#define ROM_BAUD 74880
/* How much likelier (in nats) garbage must be than text before a line is called garbage. A
 * single stray high byte in a line of text is not enough; two or three garbled bytes are. */
#define GARBAGE_MIN_NATS 9.0

#define STARTS(s, n, lit) ((n) >= sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

void
bootlog_init(struct bootlog *b, bootlog_cb *cb, void *arg)
{
	memset(b, 0, sizeof *b);
	b->cb = cb;
	b->arg = arg;
	b->app_baud = 115200;
}

void
bootlog_set_read_baud(struct bootlog *b, int baud)
{
	b->read_baud = baud > 0 ? baud : 0;
}

void
bootlog_set_app_baud(struct bootlog *b, int baud)
{
	b->app_baud = baud > 0 ? baud : 115200;
}

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A cursor over the text of one line. */
struct cur {
	const uint8_t *p, *end;
};

static void
skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* Consumes lit (after blanks) if it comes next. */
static int
eat(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	skip_ws(c);
	if ((size_t)(c->end - c->p) >= n && memcmp(c->p, lit, n) == 0) {
		c->p += n;
		return 1;
	}
	return 0;
}

/* Reads an unsigned number: hex with "0x" (or when base is 16), else decimal. At most 16
 * digits, so the value always fits. */
static int
num(struct cur *c, int base, int64_t *out)
{
	uint64_t v = 0;
	int digits = 0, d;

	skip_ws(c);
	if (c->end - c->p >= 2 && c->p[0] == '0' && (c->p[1] == 'x' || c->p[1] == 'X')) {
		base = 16;
		c->p += 2;
	}
	while (c->p < c->end && digits < 16 && (d = hexval(*c->p)) >= 0 && d < base) {
		v = v * (uint64_t)base + (uint64_t)d;
		c->p++;
		digits++;
	}
	if (digits == 0)
		return 0;
	*out = (int64_t)v;
	return 1;
}

/* Finds lit in [c->p, c->end) and moves past it. */
static int
find(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);
	const uint8_t *hit = memmem(c->p, (size_t)(c->end - c->p), lit, n);

	if (hit == NULL)
		return 0;
	c->p = hit + n;
	return 1;
}

static int
contains(const uint8_t *s, size_t n, const char *lit)
{
	return memmem(s, n, lit, strlen(lit)) != NULL;
}

/*
 * Length of a timestamp prefix at s, or 0: an optional date ("2017.07.27", "2024-01-02") then a
 * clock with two colons ("13:20:14.814", "2024-01-02T10:11:12"), then separators (", ", " -> ",
 * " | "). Terminal programs and serial monitors add these. Stack lines ("3fff19e0:  ...") have
 * one colon and hex letters, so they never match.
 */
static size_t
time_prefix(const uint8_t *s, size_t n)
{
	size_t i = 0;

	for (int tokens = 0; tokens < 3 && i < n && is_digit(s[i]); tokens++) {
		size_t k = i;
		int colons = 0, digits = 0, datesep = 0;

		while (k < n && (is_digit(s[k]) || s[k] == ':' || s[k] == '.' || s[k] == '-' ||
		    s[k] == '/' || s[k] == 'T' || s[k] == 'Z' || s[k] == '+')) {
			colons += s[k] == ':';
			digits += is_digit(s[k]);
			datesep += s[k] == '-' || s[k] == '/' || (s[k] == '.' && colons == 0);
			k++;
		}
		if (colons >= 2 && digits >= 6) {
			/* The clock: eat what separates it from the message. */
			while (k < n && (s[k] == ' ' || s[k] == ',' || s[k] == '|'))
				k++;
			if (STARTS(s + k, n - k, "->"))
				k += 2;
			return k;
		}
		if (colons > 0 || digits < 4 || !datesep)
			return 0;
		/* A date: a clock must follow. */
		while (k < n && (s[k] == ' ' || s[k] == ','))
			k++;
		i = k;
	}
	return 0;
}

/*
 * Length of the paste prefix at the start of a line: blanks, a byte-order mark, "> " quoting,
 * "RX:", a bracketed timestamp "[...]" and a date/clock stamp ("12:34:56.789 -> ",
 * "2017.07.27, 13:20:14.814, "). The stack markers start with '>' and '<' and are not prefixes.
 */
static size_t
skip_prefix(const uint8_t *s, size_t n)
{
	size_t i = 0, k;

	for (;;) {
		size_t start = i;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < n && s[i] == '>' && !STARTS(s + i, n - i, ">>>stack")) {
			i++;
			continue;
		}
		if (STARTS(s + i, n - i, "\xef\xbb\xbf")) {
			i += 3; /* a UTF-8 byte-order mark from a Windows editor */
			continue;
		}
		if (STARTS(s + i, n - i, "RX:") || STARTS(s + i, n - i, "rx:")) {
			i += 3;
			continue;
		}
		if (i < n && s[i] == '[') {
			int digit = 0;

			for (k = i + 1; k < n && k < i + 40; k++) {
				if (s[k] == ']')
					break;
				if (is_digit(s[k]))
					digit = 1;
				else if (s[k] != ':' && s[k] != '.' && s[k] != ' ' && s[k] != '-' &&
				    s[k] != 'T' && s[k] != '/' && s[k] != ',')
					break;
			}
			if (k < n && s[k] == ']' && digit) {
				i = k + 1;
				continue;
			}
		}
		if ((k = time_prefix(s + i, n - i)) > 0) {
			i += k;
			continue;
		}
		if (i == start)
			return i;
	}
}

/* " ets Jan  8 2013,rst cause:2, boot mode:(3,6)" from "ets " on. */
static int
parse_banner(struct cur *c, struct bootlog_event *ev)
{
	int64_t v;

	if (!find(c, "rst cause:") || !num(c, 10, &v))
		return 0;
	ev->n[0] = v;
	ev->n[1] = ev->n[2] = -1;
	if (find(c, "boot mode:(") && num(c, 10, &v)) {
		ev->n[1] = v;
		if (eat(c, ",") && num(c, 10, &v))
			ev->n[2] = v;
	}
	return 1;
}

/* Reads "N" then "." then "M" for versions like "1.6" or "1.7(5d6f877)". */
static void
parse_version(struct cur *c, struct bootlog_event *ev)
{
	int64_t v;

	ev->n[0] = ev->n[1] = -1;
	if (num(c, 10, &v)) {
		ev->n[0] = v;
		if (eat(c, ".") && num(c, 10, &v))
			ev->n[1] = v;
	}
}

static int64_t
spi_mode(struct cur *c)
{
	skip_ws(c);
	if (eat(c, "QIO"))
		return 0;
	if (eat(c, "QOUT"))
		return 1;
	if (eat(c, "DIO"))
		return 2;
	if (eat(c, "DOUT"))
		return 3;
	return -1;
}

/* "40MHz", "26.7MHz", "40 MHz" -> kHz. */
static int64_t
speed_khz(struct cur *c)
{
	int64_t mhz, frac = 0;

	if (!num(c, 10, &mhz))
		return -1;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (num(c, 10, &frac) && frac > 9)
			frac = 0;
	}
	return mhz * 1000 + frac * 100;
}

/* "8Mbit(512KB+512KB)" -> n0 = 8, n1 = SDK map; "4Mbit" -> n1 = -1. */
static void
parse_size_map(struct cur *c, struct bootlog_event *ev)
{
	int64_t mbit, a, b;

	ev->n[0] = ev->n[1] = -1;
	if (!num(c, 10, &mbit) || !eat(c, "Mbit"))
		return;
	ev->n[0] = mbit;
	if (!eat(c, "(") || !num(c, 10, &a) || !eat(c, "KB+") || !num(c, 10, &b))
		return;
	/* protocol.md §13.2: the map strings of boot_v1.x. */
	if (a == 256 && mbit == 4)
		ev->n[1] = 0;
	else if (a == 512 && mbit == 8)
		ev->n[1] = 2;
	else if (a == 512 && mbit == 16)
		ev->n[1] = 3;
	else if (a == 512 && mbit == 32)
		ev->n[1] = 4;
	else if (a == 1024 && mbit == 16)
		ev->n[1] = 5;
	else if (a == 1024 && mbit == 32)
		ev->n[1] = 6;
	else if (a == 1024 && mbit == 64)
		ev->n[1] = 8;
	else if (a == 1024 && mbit == 128)
		ev->n[1] = 9;
	(void)b;
}

static int
all_hex(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexval(s[i]) < 0)
			return 0;
	return 1;
}

/* Drops trailing blanks and the "<\r><\n>" some terminals print for control bytes. */
static size_t
trim_end(const uint8_t *s, size_t n)
{
	for (;;) {
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n >= 4 && (memcmp(s + n - 4, "<\\r>", 4) == 0 || memcmp(s + n - 4, "<\\n>", 4) == 0))
			n -= 4;
		else
			return n;
	}
}

/* IDF log lines: "I (49) boot: ..." -> the message after the tag's colon, or NULL. */
static int
idf_line(struct cur *c)
{
	struct cur k = *c;
	int64_t v;

	if (k.end - k.p < 5 || (k.p[0] != 'I' && k.p[0] != 'E' && k.p[0] != 'W' && k.p[0] != 'D'))
		return 0;
	k.p++;
	if (!eat(&k, "(") || !num(&k, 10, &v) || !eat(&k, ")"))
		return 0;
	*c = k;
	return 1;
}

static enum bootlog_kind
classify_idf(struct cur *c)
{
	size_t n = (size_t)(c->end - c->p);

	if (contains(c->p, n, "2nd stage bootloader"))
		return BL_IDF_BOOT;
	if (contains(c->p, n, "invalid magic number") || contains(c->p, n, "Failed to verify partition table") ||
	    contains(c->p, n, "load partition table error") || contains(c->p, n, "No bootable app partitions"))
		return BL_IDF_PART_ERROR;
	return BL_TEXT;
}

/* Lines that only say a restart is coming: "AT+RST", "Restarting", "rebooting", "ESP.restart".
 * One pass with a switch: this runs on every line of application chatter. */
static int
is_restart(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i + 6 <= n; i++) {
		switch (s[i]) {
		case 'A':
			if (memcmp(s + i, "AT+RST", 6) == 0)
				return 1;
			break;
		case 'E':
			if (memcmp(s + i, "ESP.re", 6) == 0)
				return 1;
			break;
		case 'R':
		case 'r':
			if ((i + 10 <= n && memcmp(s + i + 1, "estarting", 9) == 0) ||
			    (i + 9 <= n && memcmp(s + i + 1, "ebooting", 8) == 0))
				return 1;
			break;
		}
	}
	return 0;
}

/* The ROM banner's "ets Jan" anywhere in s[from..n), found by its rare 'J'. */
static const uint8_t *
find_banner(const uint8_t *s, size_t from, size_t n)
{
	const uint8_t *p = s + from, *end = s + n;

	while (p < end && (p = memchr(p, 'J', (size_t)(end - p))) != NULL) {
		if (p - s >= 4 && end - p >= 3 && memcmp(p - 4, "ets Jan", 7) == 0)
			return p - 4;
		p++;
	}
	return NULL;
}

/* Classifies the text at t (m bytes, prefix already skipped). Fills ev->kind and ev->n. */
static void
classify(struct bootlog *b, const uint8_t *t, size_t m, struct bootlog_event *ev)
{
	struct cur c = { t, t + m };
	int64_t v;

	ev->kind = BL_TEXT;
	if (m == 0)
		return;
	switch (t[0]) {
	case 'e':
		if (STARTS(t, m, "ets Jan") && parse_banner(&c, ev))
			ev->kind = BL_ROM_BANNER;
		else if (STARTS(t, m, "ets_main.c"))
			ev->kind = BL_ROM_ETS_MAIN;
		else if (STARTS(t, m, "error magic"))
			ev->kind = BL_BOOT_ERROR_MAGIC;
		else if (STARTS(t, m, "error user bin flag")) {
			ev->kind = BL_BOOT_FLAG_ERROR;
			ev->n[0] = find(&c, "=") && num(&c, 16, &v) ? v : -1;
		} else if (STARTS(t, m, "epc1=")) {
			static const char *const keys[] = { "epc1=", "epc2=", "epc3=", "excvaddr=", "depc=" };

			for (int i = 0; i < 5; i++) {
				struct cur k = { t, t + m };

				ev->n[i] = find(&k, keys[i]) && num(&k, 16, &v) ? v : 0;
			}
			ev->kind = BL_EXC_REGS;
		} else if (m <= 4 && STARTS(t, m, "e:") && (c.p += 2, num(&c, 10, &v))) {
			ev->kind = BL_EBOOT_ERROR;
			ev->n[0] = v;
		}
		break;
	case 'l':
		if (STARTS(t, m, "load 0x")) {
			c.p += 4;
			if (num(&c, 16, &ev->n[0]) && eat(&c, ",") && eat(&c, "len") && num(&c, 10, &ev->n[1])) {
				ev->kind = BL_ROM_LOAD;
				ev->n[2] = eat(&c, ",") && eat(&c, "room") && num(&c, 10, &v) ? v : -1;
			}
		} else if (STARTS(t, m, "load partition table error"))
			ev->kind = BL_IDF_PART_ERROR;
		else if (m == 2 && t[1] == 'd')
			ev->kind = BL_EBOOT_LOAD;
		break;
	case 't':
		if (STARTS(t, m, "tail ") && (c.p += 5, num(&c, 10, &v))) {
			ev->kind = BL_ROM_TAIL;
			ev->n[0] = v;
		}
		break;
	case 'h':
		if (STARTS(t, m, "ho ") && (c.p += 3, num(&c, 10, &ev->n[0])) && eat(&c, "tail") &&
		    num(&c, 10, &ev->n[1]) && eat(&c, "room") && num(&c, 10, &ev->n[2]))
			ev->kind = BL_ROM_HO;
		break;
	case 'c':
		if (STARTS(t, m, "chksum 0x") && (c.p += 7, num(&c, 16, &v))) {
			ev->kind = BL_ROM_CHKSUM;
			ev->n[0] = v;
		} else if (STARTS(t, m, "csum err"))
			ev->kind = BL_ROM_CSUM_ERR;
		else if (STARTS(t, m, "csum 0x") && (c.p += 5, num(&c, 16, &v))) {
			ev->kind = BL_ROM_CSUM;
			ev->n[0] = v;
		} else if (STARTS(t, m, "ctx:")) {
			c.p += 4;
			ev->kind = BL_EXC_CTX;
			ev->n[0] = eat(&c, "cont") ? 0 : eat(&c, "sys") ? 1 : 2;
		} else if (STARTS(t, m, "cp:") && (c.p += 3, num(&c, 10, &v))) {
			ev->kind = BL_EBOOT_COPY;
			ev->n[0] = v;
		}
		break;
	case '@':
		if (STARTS(t, m, "@cp:") && (c.p += 4, num(&c, 10, &v))) {
			ev->kind = BL_EBOOT_COPY;
			ev->n[0] = v;
		}
		break;
	case 'u':
		if (STARTS(t, m, "user code done"))
			ev->kind = BL_ROM_USER_CODE_DONE;
		break;
	case 'w':
		if (STARTS(t, m, "waiting for host"))
			ev->kind = BL_ROM_WAITING_HOST;
		else if (STARTS(t, m, "wdt reset"))
			ev->kind = BL_ROM_WDT_RESET;
		break;
	case '2':
		if (STARTS(t, m, "2nd boot version")) {
			find(&c, ":");
			parse_version(&c, ev);
			ev->kind = BL_BOOT_VERSION;
		}
		break;
	case 'S':
		if (STARTS(t, m, "SPI Speed")) {
			find(&c, ":");
			ev->kind = BL_BOOT_SPI_SPEED;
			ev->n[0] = speed_khz(&c);
		} else if (STARTS(t, m, "SPI Mode")) {
			find(&c, ":");
			ev->kind = BL_BOOT_SPI_MODE;
			ev->n[0] = spi_mode(&c);
		} else if (STARTS(t, m, "SPI Flash Size")) {
			find(&c, ":");
			ev->kind = BL_BOOT_SPI_SIZE;
			parse_size_map(&c, ev);
		} else if (STARTS(t, m, "SDK ver") || STARTS(t, m, "SDK:"))
			ev->kind = BL_SDK_VERSION;
		else if (STARTS(t, m, "Soft WDT reset"))
			ev->kind = BL_SOFT_WDT;
		break;
	case 'j':
		if (STARTS(t, m, "jump to run ")) {
			c.p += 12;
			ev->kind = BL_BOOT_JUMP;
			if (eat(&c, "user") && num(&c, 10, &v))
				ev->n[0] = v;
			else
				eat(&c, "bin");
			ev->n[1] = eat(&c, "@") && num(&c, 16, &v) ? v : -1;
		}
		break;
	case 'b':
		if (STARTS(t, m, "backup boot failed"))
			ev->kind = BL_BOOT_BACKUP_FAILED;
		break;
	case 'f':
		if (STARTS(t, m, "first boot failed"))
			ev->kind = BL_BOOT_FIRST_FAILED;
		else if (STARTS(t, m, "flash_parts:") && contains(t, m, "invalid magic"))
			ev->kind = BL_IDF_PART_ERROR;
		else if (STARTS(t, m, "flash map not support")) {
			ev->kind = BL_BOOT_SPI_SIZE;
			ev->n[0] = ev->n[1] = -1;
		}
		break;
	case 'v':
		if (m == 9 && all_hex(t + 1, 8) && (c.p += 1, num(&c, 16, &v))) {
			ev->kind = BL_EBOOT_VERSION;
			ev->n[0] = v;
		}
		break;
	case '~':
		if (STARTS(t, m, "~ld"))
			ev->kind = BL_EBOOT_LOAD;
		break;
	case 'r':
		if (STARTS(t, m, "rst cause:") && parse_banner(&c, ev))
			ev->kind = BL_ROM_BANNER; /* a banner pasted without its date */
		else if (STARTS(t, m, "rBoot v"))
			ev->kind = BL_RBOOT_BANNER;
		else if (STARTS(t, m, "rBoot Option"))
			ev->kind = BL_RBOOT_OPTION;
		else if (STARTS(t, m, "rf_cal[0]") && find(&c, "is") && num(&c, 16, &v)) {
			ev->kind = BL_SDK_RF_CAL;
			ev->n[0] = v;
		} else if (STARTS(t, m, "rf cal sector:") && (c.p += 14, num(&c, 10, &v))) {
			ev->kind = BL_SDK_RF_CAL_SECTOR;
			ev->n[0] = v;
		}
		break;
	case 'F':
		if (STARTS(t, m, "Flash Size:") && (c.p += 11, num(&c, 10, &v))) {
			ev->kind = BL_RBOOT_FLASH_SIZE;
			ev->n[0] = v;
		} else if (STARTS(t, m, "Flash Mode:")) {
			c.p += 11;
			ev->kind = BL_RBOOT_FLASH_MODE;
			ev->n[0] = spi_mode(&c);
		} else if (STARTS(t, m, "Flash Speed:")) {
			c.p += 12;
			ev->kind = BL_RBOOT_FLASH_SPEED;
			ev->n[0] = speed_khz(&c);
		} else if (STARTS(t, m, "Fatal exception") && m > 15 && t[15] != ':') {
			/* "Fatal exception (28):" or "Fatal exception 28(LoadProhibitedCause):".
			 * "Fatal exception:0 flag:4" is ESP.getResetInfo() about the last reset. */
			c.p += 15;
			eat(&c, "(");
			if (num(&c, 10, &v)) {
				ev->kind = BL_EXCEPTION;
				ev->n[0] = v;
				ev->n[1] = 0;
			}
		}
		break;
	case 'E':
		if (STARTS(t, m, "Exception (") && (c.p += 11, num(&c, 10, &v))) {
			ev->kind = BL_EXCEPTION;
			ev->n[0] = v;
			ev->n[1] = 1;
		} else if (idf_line(&c))
			ev->kind = classify_idf(&c);
		break;
	case 'I':
		if (STARTS(t, m, "Invalid rom selected"))
			ev->kind = BL_RBOOT_INVALID_ROM;
		else if (STARTS(t, m, "ISR not in IRAM"))
			ev->kind = BL_PANIC;
		else if (idf_line(&c))
			ev->kind = classify_idf(&c);
		break;
	case 'W':
		if (STARTS(t, m, "Writing default boot config"))
			ev->kind = BL_RBOOT_DEFAULT_CONFIG;
		else if (idf_line(&c))
			ev->kind = classify_idf(&c);
		break;
	case 'D':
		if (idf_line(&c))
			ev->kind = classify_idf(&c);
		break;
	case 'R':
		if (STARTS(t, m, "Rom ") && (c.p += 4, num(&c, 10, &v)) && contains(t, m, "is bad")) {
			ev->kind = BL_RBOOT_BAD;
			ev->n[0] = v;
		} else if (STARTS(t, m, "Resetting boot config"))
			ev->kind = BL_RBOOT_DEFAULT_CONFIG;
		break;
	case 'N':
		if (STARTS(t, m, "No good rom available"))
			ev->kind = BL_RBOOT_NO_GOOD;
		else if (STARTS(t, m, "No bootable app partitions"))
			ev->kind = BL_IDF_PART_ERROR;
		break;
	case 'B':
		if (STARTS(t, m, "Booting rom ") && (c.p += 12, num(&c, 10, &v))) {
			ev->kind = BL_RBOOT_BOOTING;
			ev->n[0] = v;
		} else if (STARTS(t, m, "Booting GPIO-selected")) {
			ev->kind = BL_RBOOT_BOOTING;
			ev->n[0] = -1;
		}
		break;
	case 's':
		if (STARTS(t, m, "system param error"))
			ev->kind = BL_SDK_SYS_PARAM;
		else if (STARTS(t, m, "sp:") && (c.p += 3, num(&c, 16, &ev->n[0]))) {
			ev->kind = BL_EXC_SP;
			ev->n[1] = eat(&c, "end:") && num(&c, 16, &v) ? v : 0;
			ev->n[2] = eat(&c, "offset:") && num(&c, 16, &v) ? v : 0;
		} else if (STARTS(t, m, "system_partition_table_regist")) {
			ev->kind = BL_SDK_PARTITION;
			ev->n[0] = contains(t, m, "fail") ? 1 : 0;
		}
		break;
	case 'm':
		if (STARTS(t, m, "mismatch map") && (c.p += 12, num(&c, 10, &ev->n[0]))) {
			ev->kind = BL_SDK_MISMATCH_MAP;
			ev->n[1] = find(&c, "spi_size_map") && num(&c, 10, &v) ? v : -1;
		}
		break;
	case '>':
		if (STARTS(t, m, ">>>stack>>>"))
			ev->kind = BL_STACK_BEGIN;
		break;
	case '<':
		if (STARTS(t, m, "<<<stack<<<"))
			ev->kind = BL_STACK_END;
		break;
	case 'U':
		if (STARTS(t, m, "User exception"))
			ev->kind = BL_PANIC;
		break;
	case 'G':
		/* ESP8266_RTOS_SDK v3 (IDF-style) crash report. */
		if (STARTS(t, m, "Guru Meditation Error"))
			ev->kind = BL_PANIC;
		break;
	case 'T':
		/* The RTOS SDK's task watchdog: the soft watchdog's counterpart there. */
		if (STARTS(t, m, "Task watchdog got triggered"))
			ev->kind = BL_SOFT_WDT;
		break;
	case 'a':
		if (STARTS(t, m, "abort() was called"))
			ev->kind = BL_PANIC;
		break;
	case 'A':
		if (STARTS(t, m, "Abort called"))
			ev->kind = BL_PANIC;
		break;
	}
	if (ev->kind == BL_TEXT && b->in_stack && m >= 9 && t[8] == ':' && all_hex(t, 8)) {
		ev->kind = BL_STACK_LINE;
		num(&c, 16, &ev->n[0]);
	}
	if (ev->kind == BL_TEXT && is_restart(t, m))
		ev->kind = BL_RESTART;
}

/*
 * Which baud a garbled line was most likely sent at. The model decides when one direction is
 * clearly likelier: it also recognises bytes that were read at the old baud but reach us after
 * a viewer switched (the suggestion is then the baud now in use, so the viewer stays). When the
 * model cannot tell, the baud that is not in use, or else the boot stage, decides.
 */
static int
garbage_baud(const struct bootlog *b, const double ll[BL_HYP_COUNT])
{
	int rom = ROM_BAUD, app = b->app_baud;

	if (ll[BL_HYP_SLOW] > ll[BL_HYP_FAST] + 4.0)
		return rom;
	if (ll[BL_HYP_FAST] > ll[BL_HYP_SLOW] + 4.0)
		return app;
	if (b->read_baud == rom)
		return app;
	if (b->read_baud == app)
		return rom;
	return b->stage == BL_STAGE_APP ? app : rom;
}

/* Updates the boot stage after an event. */
static void
track(struct bootlog *b, const struct bootlog_event *ev)
{
	switch (ev->kind) {
	case BL_ROM_BANNER:
		b->stage = BL_STAGE_ROM;
		b->in_stack = 0;
		break;
	case BL_ROM_CSUM:
	case BL_BOOT_VERSION:
	case BL_RBOOT_BANNER:
	case BL_IDF_BOOT:
	case BL_EBOOT_VERSION:
		if (b->stage < BL_STAGE_LOADER)
			b->stage = BL_STAGE_LOADER;
		break;
	case BL_BOOT_JUMP:
	case BL_EBOOT_LOAD:
	case BL_RBOOT_BOOTING:
	case BL_SDK_VERSION:
	case BL_SDK_RF_CAL_SECTOR:
		b->stage = BL_STAGE_APP;
		break;
	case BL_STACK_BEGIN:
		b->in_stack = 1;
		break;
	case BL_STACK_END:
		b->in_stack = 0;
		break;
	default:
		break;
	}
}

/* Classifies and reports one line (or piece) of len bytes starting at text. */
static void
report(struct bootlog *b, const uint8_t *text, size_t len, uint64_t offset, int flags)
{
	struct bootlog_event ev;
	size_t skip = skip_prefix(text, len);
	size_t m = trim_end(text + skip, len - skip);

	memset(&ev, 0, sizeof ev);
	ev.lineno = ++b->lineno;
	ev.offset = offset;
	ev.text = text;
	ev.len = len;
	ev.skip = skip;
	ev.flags = flags;
	classify(b, text + skip, m, &ev);
	if (ev.kind == BL_TEXT && m >= 2) {
		double ll[BL_HYP_COUNT] = { 0, 0, 0 };
		double g;

		bootlog_baud_score(text + skip, m, ll);
		g = ll[BL_HYP_SLOW] > ll[BL_HYP_FAST] ? ll[BL_HYP_SLOW] : ll[BL_HYP_FAST];
		if (g - ll[BL_HYP_TEXT] > GARBAGE_MIN_NATS) {
			ev.kind = BL_GARBAGE;
			ev.baud = garbage_baud(b, ll);
			if (ev.baud == b->read_baud)
				ev.flags |= BOOTLOG_F_STALE;
		}
	}
	track(b, &ev);
	if (b->cb != NULL)
		b->cb(b->arg, &ev);
}

/* Reports the buffered line; a ROM banner in the middle of it starts a line of its own. */
static void
end_line(struct bootlog *b, int flags)
{
	const uint8_t *s = b->line, *hit;
	size_t len = b->len;
	uint64_t start = b->offset - len;

	if (len == 0 && b->split) {
		/* The terminator right after a split piece ends that line; no empty line. */
		b->split = 0;
		return;
	}
	if (len > 8 && (hit = find_banner(s, 5, len)) != NULL) {
		size_t at = (size_t)(hit - s);

		if (skip_prefix(s, at) < at) {
			report(b, s, at, start, BOOTLOG_F_CUT);
			s += at;
			len -= at;
			start += at;
		}
	}
	report(b, s, len, start, flags);
	b->len = 0;
	b->split = (flags & BOOTLOG_F_SPLIT) != 0;
}

void
bootlog_feed(struct bootlog *b, const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + len;

	while (p < end) {
		const uint8_t *q = p;

		if (*p == '\r' || *p == '\n') {
			/* CRLF and LFCR are one terminator; CR CR or LF LF end an empty line. */
			if (b->last_term != 0 && b->last_term != *p && b->len == 0)
				b->last_term = 0;
			else {
				end_line(b, 0);
				b->last_term = *p;
			}
			b->offset++;
			p++;
			continue;
		}
		b->last_term = 0;
		while (q < end && *q != '\r' && *q != '\n')
			q++;
		while (p < q) {
			size_t room = BOOTLOG_LINE_MAX - b->len, n = (size_t)(q - p);

			if (n > room)
				n = room;
			memcpy(b->line + b->len, p, n);
			b->len += n;
			b->offset += n;
			p += n;
			if (b->len == BOOTLOG_LINE_MAX)
				end_line(b, BOOTLOG_F_SPLIT);
		}
	}
}

void
bootlog_flush(struct bootlog *b)
{
	if (b->len > 0)
		end_line(b, 0);
	b->last_term = 0;
}
