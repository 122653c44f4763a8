/*
 * libFuzzer target: random command streams into the flasher stub. Whatever arrives, the stub
 * must not crash, must not touch the fake flash or RAM out of bounds (the fake HAL refuses, as
 * the chip's would fail), and must keep every reply a well-formed SLIP stream.
 */
#include "config.h"

#include <md5.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "stub/stub.h"

#define FLASH 0x40000u

static uint8_t flash[FLASH], ram[0x4000];
static struct stub st;
static size_t tx_bytes;
static int left_stub;

static int
rd(void *c, uint32_t a, void *d, uint32_t n)
{
	if ((uint64_t)a + n > FLASH)
		return 1;
	memcpy(d, flash + a, n);
	return 0;
}

static int
wr(void *c, uint32_t a, const void *s, uint32_t n)
{
	const uint8_t *p = s;

	if (a % 4 != 0 || n % 4 != 0)
		abort(); /* the HAL contract: the stub only programs whole words */
	if ((uint64_t)a + n > FLASH)
		return 1;
	for (uint32_t i = 0; i < n; i++)
		flash[a + i] &= p[i];
	return 0;
}

static int
es(void *c, uint32_t s)
{
	if ((uint64_t)s * 4096 >= FLASH)
		return 1;
	memset(flash + s * 4096, 0xFF, 4096);
	return 0;
}

static int
eb(void *c, uint32_t b)
{
	if ((uint64_t)b * 65536 >= FLASH)
		return 1;
	memset(flash + b * 65536, 0xFF, 65536);
	return 0;
}

static int
ec(void *c)
{
	memset(flash, 0xFF, FLASH);
	return 0;
}

static void
tx(void *c, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tx_bytes += d[i] != 0;
}

static void
baud(void *c, uint32_t n, uint32_t o)
{
	(void)n;
	(void)o;
}

static uint32_t
rreg(void *c, uint32_t a)
{
	return a * 2654435761u;
}

static void
wreg(void *c, uint32_t a, uint32_t v)
{
	(void)a;
	(void)v;
}

static int
mw(void *c, uint32_t a, const void *s, uint32_t n)
{
	if (a < 0x40100000u || (uint64_t)a + n > 0x40100000u + sizeof ram)
		return 1;
	memcpy(ram + (a - 0x40100000u), s, n);
	return 0;
}

static void
m_init(void *c, struct stub_md5 *m)
{
	MD5Init((MD5_CTX *)(void *)m->u.bytes);
}

static void
m_update(void *c, struct stub_md5 *m, const void *d, uint32_t n)
{
	MD5Update((MD5_CTX *)(void *)m->u.bytes, d, n);
}

static void
m_final(void *c, struct stub_md5 *m, uint8_t dg[16])
{
	MD5Final(dg, (MD5_CTX *)(void *)m->u.bytes);
}

static void
leave(void *c)
{
	left_stub = 1;
}

static const struct stub_hal hal = {
	.flash_read = rd, .flash_write = wr, .flash_erase_sector = es, .flash_erase_block = eb,
	.flash_erase_chip = ec, .uart_tx = tx, .uart_set_baud = baud, .reg_read = rreg,
	.reg_write = wreg, .mem_write = mw, .md5_init = m_init, .md5_update = m_update,
	.md5_final = m_final, .run_user_code = leave, .reset_to_rom = leave,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, chunk = size ? (size_t)data[0] % 97 + 1 : 1;

	left_stub = 0;
	stub_init(&st, &hal);
	while (off < size && !left_stub) {
		size_t n = size - off < chunk ? size - off : chunk;
		int polls = 0;

		stub_feed(&st, data + off, n);
		/* Drain READ_FLASH packets, but bound the work per chunk. */
		while (polls < 8 && stub_poll(&st))
			polls++;
		off += n;
	}
	return 0;
}
