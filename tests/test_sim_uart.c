/*
 * The UART bit model: equal bauds are the identity, hand-worked waveforms, and the ROM banner at
 * 74880 read at 115200 turning into the kind of garbage of real log 41.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sim/sim_uart.h"
#include "tap.h"

static void
test_same_baud_identity(void)
{
	uint8_t all[256];
	struct buf b = BUF_INIT;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	T_EQ_INT(sim_uart_resample(all, 256, 74880, 74880, &b), 256);
	T_EQ_MEM(buf_head(&b), all, 256);
	buf_free(&b);
}

static void
test_hand_worked(void)
{
	struct buf b = BUF_INIT;

	/*
	 * 0x00 sent twice as fast as read: start + 8 zero bits + stop span 5 receiver bits. Samples at
	 * receiver bits 1.5, 2.5, 3.5 fall on sender bits 3, 5, 7 (zeros), 4.5 on the stop bit, the
	 * rest on the idle line: 0b11111000.
	 */
	sim_uart_resample((const uint8_t *)"\x00", 1, 19200, 9600, &b);
	T_EQ_INT(buf_len(&b), 1);
	T_EQ_HEX(buf_head(&b)[0], 0xF8);
	buf_reset(&b);
	/*
	 * 0x0F sent at half the reader's speed: the first frame samples the start bit, then d0..d3
	 * (ones) twice each: 0xFE; the falling edge of d4 starts a second frame of zeros whose last
	 * sample lands on the stop bit: 0x80.
	 */
	sim_uart_resample((const uint8_t *)"\x0f", 1, 9600, 19200, &b);
	T_EQ_INT(buf_len(&b), 2);
	if (buf_len(&b) == 2) {
		T_EQ_HEX(buf_head(&b)[0], 0xFE);
		T_EQ_HEX(buf_head(&b)[1], 0x80);
	}
	buf_free(&b);
}

static void
test_banner_garbage(void)
{
	/* The ROM banner and loader lines as the AT firmware of log 41 prints them (bootlog.md §1). */
	static const char banner[] = "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\n"
	    "load 0x40100000, len 1396, room 16 \r\n";
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t n, printable = 0;
	char *txt, logline[256] = "";
	FILE *f;

	n = sim_uart_resample((const uint8_t *)banner, strlen(banner), 74880, 115200, &a);
	sim_uart_resample((const uint8_t *)banner, strlen(banner), 74880, 115200, &b);
	/* Deterministic. */
	T_EQ_INT(buf_len(&a), buf_len(&b));
	T_EQ_MEM(buf_head(&a), buf_head(&b), buf_len(&a));
	/* A faster reader sees at least as many characters, none of the text survives. */
	T_TRUE(n >= strlen(banner));
	txt = calloc(1, n + 1);
	memcpy(txt, buf_head(&a), n);
	for (size_t i = 0; i < n; i++) {
		if (txt[i] == 0)
			txt[i] = '.';
		printable += (uint8_t)txt[i] >= 0x20 && (uint8_t)txt[i] < 0x7F;
	}
	T_TRUE(strstr(txt, "ets") == NULL);
	T_TRUE(strstr(txt, "load") == NULL);
	/* Real log 41 shows mostly non-ASCII bytes with a few r, n, b, p between them. */
	T_TRUE(printable * 2 < n);
	f = fopen(t_data("bootlogs/41-at-boot15-viewed-at-115200-rom-garbage.log"), "rb");
	T_TRUE(f != NULL);
	if (f != NULL) {
		while (fgets(logline, sizeof logline, f) != NULL && strstr(logline, "b??") == NULL)
			;
		fclose(f);
	}
	for (const char *c = "rnbp"; *c; c++) {
		char one[2] = { *c, 0 };

		T_CONTAINS(logline, one);
		T_CONTAINS(txt, one);
	}
	free(txt);
	buf_free(&a);
	buf_free(&b);
}

static void
test_time(void)
{
	T_EQ_INT(sim_uart_time_us(1152, 115200), 100000);
	T_EQ_INT(sim_uart_time_us(7488, 74880), 1000000);
}

int
main(void)
{
	T_RUN(test_same_baud_identity);
	T_RUN(test_hand_worked);
	T_RUN(test_banner_garbage);
	T_RUN(test_time);
	return t_done();
}
