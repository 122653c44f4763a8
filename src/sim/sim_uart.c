#include "config.h"

#include "sim/sim_uart.h"

/*
 * Time is counted in units of 1 / (tx_baud * rx_baud) seconds, so that a transmitted bit lasts
 * rx_baud units and a received bit lasts tx_baud units, both integers.
 */
struct line {
	const uint8_t *in;
	size_t len;
	uint64_t tbit;  /* length of one transmitted bit */
	uint64_t end;   /* the line is idle (high) from here on */
};

static int
level(const struct line *l, uint64_t t)
{
	uint64_t idx, byte;
	unsigned bit;

	if (t >= l->end)
		return 1;
	idx = t / l->tbit;
	byte = idx / 10;
	bit = (unsigned)(idx % 10);
	if (bit == 0)
		return 0;           /* start bit */
	if (bit == 9)
		return 1;           /* stop bit */
	return (l->in[byte] >> (bit - 1)) & 1;
}

/* The first time >= t at which the line has value v, or UINT64_MAX. The level can only change at
 * multiples of tbit, so it suffices to look there. */
static uint64_t
find_level(const struct line *l, uint64_t t, int v)
{
	if (level(l, t) == v)
		return t;
	for (uint64_t b = t / l->tbit + 1; b * l->tbit < l->end; b++)
		if (level(l, b * l->tbit) == v)
			return b * l->tbit;
	return v == 1 ? l->end : UINT64_MAX;
}

size_t
sim_uart_resample(const uint8_t *in, size_t len, uint32_t tx_baud, uint32_t rx_baud,
    struct buf *out)
{
	struct line l;
	uint64_t t = 0, rbit = tx_baud, edge;
	size_t n = 0;
	int need_high = 0;  /* the line was idle before the burst */

	if (len == 0)
		return 0;
	if (tx_baud == rx_baud) {
		buf_add(out, in, len);
		return len;
	}
	l.in = in;
	l.len = len;
	l.tbit = rx_baud;
	l.end = (uint64_t)len * 10 * l.tbit;
	for (;;) {
		uint8_t c = 0;

		/* After a low stop bit wait for the line to go high, then for a falling edge. */
		if (need_high && (t = find_level(&l, t, 1)) >= l.end)
			break;
		need_high = 0;
		if ((edge = find_level(&l, t, 0)) == UINT64_MAX)
			break;
		/* Mid start bit: still low, or it was a glitch. */
		if (level(&l, edge + rbit / 2) != 0) {
			t = edge + rbit / 2;
			continue;
		}
		for (unsigned k = 0; k < 8; k++)
			c |= (uint8_t)(level(&l, edge + (k + 1) * rbit + rbit / 2) << k);
		/* The stop bit: a framing error still delivers c (0x00 for a break). */
		buf_add_byte(out, c);
		n++;
		t = edge + 9 * rbit + rbit / 2;
		need_high = level(&l, t) == 0;
	}
	return n;
}

uint64_t
sim_uart_time_us(size_t n, uint32_t baud)
{
	/* Rounded up, so that at the end time every byte counts as sent. */
	return baud ? ((uint64_t)n * 10 * 1000000u + baud - 1) / baud : 0;
}
