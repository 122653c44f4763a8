/*
 * bootlog_baud.c: is a run of bytes text read at the wrong baud, and at which baud was it sent?
 *
 * Why a model and not a count of non-ASCII bytes. When a UART listens at another rate than the
 * sender's, the bytes it delivers are a deterministic function of the sender's bit stream: the
 * receiver syncs on a falling edge, then samples the line at its own bit times. 74880-baud text
 * (the ROM) read at 115200: every sender bit lasts 1.54 receive bits, so a received frame covers
 * only ~6.5 sender bits; bit 0 always lands in the start bit (received bytes are even), bits 2/3
 * and 5/6 sample the same sender bit, and the frame ends inside the data, so a second frame
 * starts on the next falling edge and fills its high bits from the stop bit and the idle line
 * (0xF8, 0xFC, 0xFE ...). 115200-baud text (the application) read at 74880: one receive frame
 * swallows 1.5 sender bytes; the receiver sees every other sender bit, the zero MSB of ASCII and
 * the stop bit at fixed positions, which yields a few ASCII-looking letters over and over ('r',
 * 'l', 'n', '~' and friends, bootlog.md §1) plus high bytes. Counting non-ASCII bytes would call
 * "nlrnnn" text; the model knows it is garbage.
 *
 * So the decoder runs this bit-level model once (bootlog_baud_garble) over a corpus of typical
 * boot-log text, at every receiver phase and at +/-2% baud error, and turns the byte histograms
 * into log-likelihood tables for three hypotheses: readable text, ROM text read at 115200, and
 * application text read at 74880. A line is scored by summing the table entries of its bytes.
 *
 * Pasted logs lose the raw bytes: terminals and forums print undecodable bytes as '?', U+FFFD or
 * U+2E2E ('⸮'). Under the garbage hypotheses '?' therefore stands for any unprintable byte; the
 * multi-byte replacement characters are high bytes, which the garbage hypotheses expect anyway.
 */
#include "config.h"

#include "bootlog/bootlog.h"

#include <pthread.h>
#include <string.h>

/*
 * Typical text an ESP8266 prints, written from the reference (bootlog.md §1-11) and common
 * application output; not copied from the sample logs the tests check against.
 */
static const char bootlog_baud_corpus[] =
    "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\n"
    "load 0x40100000, len 2408, room 16 \r\ntail 8\r\nchksum 0xe5\r\n"
    "load 0x3ffe8000, len 776, room 0 \r\ntail 8\r\nchksum 0x84\r\n"
    "load 0x3ffe8310, len 632, room 0 \r\ntail 8\r\nchksum 0xd8\r\ncsum 0xd8\r\n\r\n"
    "2nd boot version : 1.6\r\n  SPI Speed      : 40MHz\r\n  SPI Mode       : DOUT\r\n"
    "  SPI Flash Size & Map: 8Mbit(512KB+512KB)\r\njump to run user1 @ 1000\r\n\r\n"
    "rf cal sector: 251\r\nrf[112] : 00\r\nrf[113] : 00\r\nrf[114] : 01\r\n\r\n"
    "SDK ver: 2.2.1(6ab97e9) compiled @ Jun  7 2018 13:59:14\r\nphy ver: 1136_0, pp ver: 10.2\r\n\r\n"
    "rBoot v1.4.2 - richardaburton@gmail.com\r\nFlash Size:   8 Mbit\r\nFlash Mode:   DIO\r\n"
    "Flash Speed:  40 MHz\r\n\r\nBooting rom 0.\r\n"
    "load 0x4010f000, len 3424, room 16 \r\ntail 0\r\nchksum 0x2e\r\nload 0x3fff20b8, len 40, room 8 \r\n"
    "tail 0\r\nchksum 0x2b\r\ncsum 0x2b\r\nv00043ab0\r\n~ld\r\n"
    "mode : sta(5c:cf:7f:8a:21:3e)\r\nadd if0\r\nscandone\r\nstate: 0 -> 2 (b0)\r\n"
    "state: 2 -> 3 (0)\r\nstate: 3 -> 5 (10)\r\nadd 0\r\naid 1\r\ncnt \r\n"
    "connected with HomeNet, channel 11\r\ndhcp client start...\r\n"
    "ip:192.168.0.23,mask:255.255.255.0,gw:192.168.0.1\r\n"
    "Connecting to WiFi...\r\nWiFi connected, IP address: 10.0.1.57\r\n"
    "MQTT: connecting to broker.local:1883 as sonoff-4F21\r\nMQTT connected\r\n"
    "00:00:01 CFG: Loaded from flash at FB, Count 42\r\n00:00:02 WIF: Connected\r\n"
    "Relay 1 ON, power state saved\r\nTemperature: 21.4 C, humidity: 48 %\r\n"
    "HTTP server started on port 80\r\nready\r\nOK\r\n"
    "Fatal exception 28(LoadProhibitedCause):\r\n"
    "epc1=0x40202c4a, epc2=0x00000000, epc3=0x00000000, excvaddr=0x00000010, depc=0x00000000\r\n"
    "ctx: cont\r\nsp: 3ffffd90 end: 3fffffc0 offset: 01a0\r\n>>>stack>>>\r\n"
    "3ffffe30:  3fffdad0 00000000 3ffee5f4 40201f8d\r\n<<<stack<<<\r\n";

/* The rates the hypotheses are about. */
#define ROM_BAUD 74880
#define APP_BAUD 115200

static float bootlog_baud_tab[BL_HYP_COUNT][256];
static pthread_once_t bootlog_baud_once = PTHREAD_ONCE_INIT;

/* The sender's line level at time t (seconds): idle high outside the frames. */
static int
line_level(const uint8_t *src, size_t len, double bit_s, double t)
{
	double k;
	size_t bit, byte;

	if (t < 0)
		return 1;
	k = t / bit_s;
	if (k >= (double)len * 10.0)
		return 1;
	bit = (size_t)k; /* t >= 0: truncation is floor */
	byte = bit / 10;
	bit %= 10;
	if (bit == 0)
		return 0;              /* start bit */
	if (bit == 9)
		return 1;              /* stop bit */
	return (src[byte] >> (bit - 1)) & 1;
}

/* The model, with an optional framing-error flag per delivered byte. */
static size_t
garble(const uint8_t *src, size_t len, double send_baud, double recv_baud, int phase,
    uint8_t *dst, uint8_t *fe, size_t cap)
{
	double ts = 1.0 / send_baud, tr = 1.0 / recv_baud, step = tr / 16.0;
	double t = phase * step, end = (double)len * 10.0 * ts;
	size_t n = 0;

	while (n < cap && t < end) {
		uint8_t v = 0;

		/* Hunt for a low level: a start bit (or, after a framing error, the line still low). */
		while (t < end && line_level(src, len, ts, t) == 1)
			t += step;
		if (t >= end)
			break;
		/* A start bit must still be low at its middle, or it was a glitch. */
		if (line_level(src, len, ts, t + tr / 2) != 0) {
			t += tr / 2;
			continue;
		}
		for (int i = 0; i < 8; i++)
			v |= (uint8_t)(line_level(src, len, ts, t + (1.5 + i) * tr) << i);
		dst[n] = v;
		if (fe != NULL)
			fe[n] = line_level(src, len, ts, t + 9.5 * tr) == 0;
		n++;
		t += 9.5 * tr;
	}
	return n;
}

size_t
bootlog_baud_garble(const uint8_t *src, size_t len, int send_baud, int recv_baud, int phase,
    uint8_t *dst, size_t cap)
{
	if (send_baud <= 0 || recv_baud <= 0)
		return 0;
	return garble(src, len, send_baud, recv_baud, phase, dst, NULL, cap);
}

static int
printable(int c)
{
	return c == '\t' || (c >= 0x20 && c < 0x7f);
}

/* Adds the garbled corpus to counts, at 16 receiver phases and three baud errors. */
static void
count_garbled(double counts[256], double send, double recv)
{
	static const double err[] = { 0.98, 1.0, 1.02 };
	const uint8_t *src = (const uint8_t *)bootlog_baud_corpus;
	size_t len = sizeof bootlog_baud_corpus - 1;
	static uint8_t out[sizeof bootlog_baud_corpus * 2], fe[sizeof bootlog_baud_corpus * 2];

	for (size_t e = 0; e < sizeof err / sizeof err[0]; e++) {
		for (int p = 0; p < 16; p++) {
			size_t n = garble(src, len, send * err[e], recv, p, out, fe, sizeof out);

			for (size_t i = 0; i < n; i++) {
				/* Drivers that report framing errors deliver such a byte as 0x00
				 * (termios without IGNPAR/PARMRK); others pass it on. Count both. */
				if (fe[i]) {
					counts[out[i]] += 0.5;
					counts[0] += 0.5;
				} else
					counts[out[i]] += 1.0;
			}
		}
	}
}

/*
 * Natural logarithm of x > 0, without libm (the build links no -lm): x = m * 2^e with m in
 * [1, 2), ln m = 2 atanh((m - 1) / (m + 1)) by its series, which converges fast for z <= 1/3.
 */
static double
ln(double x)
{
	const double ln2 = 0.69314718055994530942;
	double z, z2, term, sum = 0;
	int e = 0;

	while (x >= 2.0) {
		x /= 2.0;
		e++;
	}
	while (x < 1.0) {
		x *= 2.0;
		e--;
	}
	z = (x - 1.0) / (x + 1.0);
	z2 = z * z;
	term = z;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return 2.0 * sum + e * ln2;
}

static void
to_log(float tab[256], const double counts[256], int text)
{
	double total = 0, w[256], unshowable = 0;

	for (int c = 0; c < 256; c++) {
		/* Text: unseen printable bytes stay plausible, other bytes rare but possible (UTF-8
		 * in app output). Garbage: every byte value possible. */
		double alpha = text ? (printable(c) ? 1.0 : 0.2) : 0.5;

		w[c] = counts[c] + alpha;
		total += w[c];
	}
	for (int c = 0; c < 256; c++) {
		if (!printable(c) && c != '\r' && c != '\n')
			unshowable += w[c];
	}
	if (!text && unshowable / 2 > w['?'])
		w['?'] = unshowable / 2; /* a paste's stand-in for an unprintable byte */
	for (int c = 0; c < 256; c++)
		tab[c] = (float)ln(w[c] / total);
}

static void
build_tables(void)
{
	double counts[256];

	memset(counts, 0, sizeof counts);
	for (size_t i = 0; i + 1 < sizeof bootlog_baud_corpus; i++)
		counts[(uint8_t)bootlog_baud_corpus[i]] += 48.0; /* same weight as 48 garbled runs */
	to_log(bootlog_baud_tab[BL_HYP_TEXT], counts, 1);

	memset(counts, 0, sizeof counts);
	count_garbled(counts, ROM_BAUD, APP_BAUD);
	to_log(bootlog_baud_tab[BL_HYP_SLOW], counts, 0);

	memset(counts, 0, sizeof counts);
	count_garbled(counts, APP_BAUD, ROM_BAUD);
	to_log(bootlog_baud_tab[BL_HYP_FAST], counts, 0);
}

void
bootlog_baud_score(const uint8_t *buf, size_t len, double ll[BL_HYP_COUNT])
{
	float s[BL_HYP_COUNT] = { 0, 0, 0 };

	pthread_once(&bootlog_baud_once, build_tables);
	for (size_t i = 0; i < len; i++) {
		s[0] += bootlog_baud_tab[0][buf[i]];
		s[1] += bootlog_baud_tab[1][buf[i]];
		s[2] += bootlog_baud_tab[2][buf[i]];
	}
	for (int h = 0; h < BL_HYP_COUNT; h++)
		ll[h] += s[h];
}
