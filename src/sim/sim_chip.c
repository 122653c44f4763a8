#include "config.h"

#include "sim/sim_chip.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

/* Plain memory for every address without a model: an open-addressing table of written words. */
struct sim_chip_mem {
	uint32_t *addr, *val;
	size_t cap, n;
};

#define EMPTY_ADDR 0xFFFFFFFFu  /* never a word address: words are 4-aligned */

static size_t
mem_slot(const struct sim_chip_mem *m, uint32_t a)
{
	size_t i = (a >> 2) * 2654435761u % m->cap;

	while (m->addr[i] != EMPTY_ADDR && m->addr[i] != a)
		i = (i + 1) % m->cap;
	return i;
}

static void
mem_put(struct sim_chip_mem *m, uint32_t a, uint32_t v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct sim_chip_mem old = *m;

		m->cap = old.cap ? old.cap * 2 : 1024;
		m->addr = xreallocarray(NULL, m->cap, sizeof *m->addr);
		m->val = xreallocarray(NULL, m->cap, sizeof *m->val);
		memset(m->addr, 0xFF, m->cap * sizeof *m->addr);
		m->n = 0;
		for (size_t k = 0; k < old.cap; k++)
			if (old.addr[k] != EMPTY_ADDR) {
				i = mem_slot(m, old.addr[k]);
				m->addr[i] = old.addr[k];
				m->val[i] = old.val[k];
				m->n++;
			}
		free(old.addr);
		free(old.val);
	}
	i = mem_slot(m, a);
	if (m->addr[i] == EMPTY_ADDR)
		m->n++;
	m->addr[i] = a;
	m->val[i] = v;
}

static uint32_t
mem_get(const struct sim_chip_mem *m, uint32_t a)
{
	size_t i;

	if (m->cap == 0)
		return 0;
	i = mem_slot(m, a);
	return m->addr[i] == a ? m->val[i] : 0;
}

void
sim_chip_identity_default(struct sim_identity *id)
{
	static const uint8_t mac[6] = { 0x18, 0xfe, 0x34, 0xa1, 0xb2, 0xc3 };

	memset(id, 0, sizeof *id);
	memcpy(id->mac, mac, 6);
	id->xtal_mhz = 26;
	id->flash_id = 0xEF4016;
	id->flash_size = 4u << 20;
}

/* The flash size esptool derives from the JEDEC capacity byte (protocol.md §9.4), 0 if unknown.
 * flash_id is written manufacturer first (0xEF4016), so the capacity is its low byte. */
static uint32_t
jedec_size(uint32_t flash_id)
{
	unsigned cap = flash_id & 0xFF;

	if (cap >= 0x12 && cap <= 0x1C)
		return 1u << (cap - 0x12 + 18);
	if (cap >= 0x32 && cap <= 0x3A)
		return 1u << (cap - 0x32 + 18);
	return 0;
}

int
sim_chip_init(struct sim_chip *c, const struct sim_identity *id, char **cause)
{
	const uint8_t *m = id->mac;
	uint32_t sel, js;

	memset(c, 0, sizeof *c);
	c->id = *id;
	js = jedec_size(id->flash_id);
	if (js != 0 && js != id->flash_size) {
		*cause = xfmt("JEDEC id 0x%06X says %u KB but the flash size is %u KB; pass a matching "
		    "--flash-id or --flash-size", id->flash_id, js >> 10, id->flash_size >> 10);
		return RC_ERR_ARG;
	}
	/*
	 * eFuse words, built backwards from esptool's decoding (protocol.md §8.3, §8.4):
	 * MAC = OUI, (w1 >> 8) & FF, w1 & FF, w0 >> 24; the OUI is 18:fe:34 when w3 = 0 and
	 * (w1 >> 16) & FF = 0, ac:d0:74 for selector 1, otherwise w3 bits 23..0.
	 */
	uint32_t oui = (uint32_t)m[0] << 16 | (uint32_t)m[1] << 8 | m[2];
	int need_w3 = id->esp8285 && id->flash_size == 2u << 20;

	/* Word 2 as read from a real ESP8266EX (ISS #620): bit 16 (ESP8285) clear. */
	c->efuse[2] = 0xF200B000u;
	c->efuse[0] = (uint32_t)m[5] << 24;
	if (id->esp8285) {
		/* Embedded flash size bits: r0_4 with r3_26 clear = 1 MB, set = 2 MB ("N" part: w0
		 * bit 5 clear). Other sizes: only the ESP8285 flag in w2 bit 16. */
		if (id->flash_size == 1u << 20)
			c->efuse[0] |= 1u << 4;
		else if (id->flash_size == 2u << 20)
			c->efuse[0] |= 1u << 4, c->efuse[3] |= 1u << 26;
		else
			c->efuse[2] |= 1u << 16;
	}
	/* A non-zero word 3 makes esptool take the OUI from it, so once word 3 holds flash bits
	 * the OUI has to be there too. */
	if (!need_w3 && oui == 0x18fe34)
		sel = 0;
	else if (!need_w3 && oui == 0xacd074)
		sel = 1;
	else {
		sel = 0;
		c->efuse[3] |= oui;
	}
	c->efuse[1] = sel << 16 | (uint32_t)m[3] << 8 | m[4];
	c->mem = xcalloc(1, sizeof *c->mem);
	c->uart_baud = 115200;
	sim_chip_reset(c);
	return RC_OK;
}

void
sim_chip_free(struct sim_chip *c)
{
	if (c->mem != NULL) {
		free(c->mem->addr);
		free(c->mem->val);
		free(c->mem);
	}
	c->mem = NULL;
}

void
sim_chip_reset(struct sim_chip *c)
{
	/* ROM defaults: chip_size 4 MB is inferred, not measured (protocol.md §17.5). */
	c->flashchip[0] = c->id.flash_id;
	c->flashchip[1] = 4u << 20;
	c->flashchip[2] = 0x10000;
	c->flashchip[3] = 0x1000;
	c->flashchip[4] = 0x100;
	c->flashchip[5] = 0xFFFF;
	c->spi_wel = 0;
}

uint32_t
sim_chip_id(const struct sim_chip *c)
{
	return (c->efuse[0] >> 24) | ((c->efuse[1] & 0xFFFFFF) << 8);
}

uint32_t
sim_chip_clkdiv(uint32_t xtal_mhz, uint32_t baud)
{
	uint32_t clk = xtal_mhz * 2000000u;

	/* Rounded up: a real ROM at 115200 leaves 0x1C4 = 452 (ISS #397), 52e6/115200 = 451.4. */
	return baud ? (clk + baud - 1) / baud : 0;
}

/* Runs the SPI user command described by USR/USR1/USR2/ADDR (protocol.md §9). */
static void
spi_run(struct sim_chip *c)
{
	uint32_t usr2 = mem_get(c->mem, SIM_REG_SPI_USR2), cmd = usr2 & 0xFFFF;
	uint32_t w0 = 0, wval = mem_get(c->mem, SIM_REG_SPI_W0);

	switch (cmd) {
	case 0x9F: /* RDID: manufacturer, memory type, capacity in W0 bits 7..0, 15..8, 23..16 */
		w0 = (c->id.flash_id >> 16 & 0xFF) | (c->id.flash_id & 0xFF00) |
		    (c->id.flash_id & 0xFF) << 16;
		break;
	case 0x05: /* RDSR: one byte per status register */
		w0 = c->spi_status & 0xFF;
		if (c->spi_wel)
			w0 |= 2;
		break;
	case 0x35:
		w0 = c->spi_status >> 8 & 0xFF;
		break;
	case 0x15:
		w0 = c->spi_status >> 16 & 0xFF;
		break;
	case 0x5A: /* SFDP: not an XMC part (§9.3), reads 0 */
		w0 = 0;
		break;
	case 0x06: /* WREN */
	case 0x50: /* volatile WREN */
		c->spi_wel = 1;
		return;
	case 0x04: /* WRDI */
		c->spi_wel = 0;
		return;
	case 0x01: /* WRSR: 8 or 16 bits from W0 */
		if (c->spi_wel) {
			uint32_t bits = (mem_get(c->mem, SIM_REG_SPI_USR1) >> 17 & 0x1FF) + 1;

			c->spi_status = (c->spi_status & ~0xFFu) | (wval & 0xFF);
			if (bits >= 16)
				c->spi_status = (c->spi_status & ~0xFF00u) | (wval & 0xFF00);
			c->spi_wel = 0;
		}
		return;
	case 0x31:
		if (c->spi_wel)
			c->spi_status = (c->spi_status & ~0xFF00u) | (wval & 0xFF) << 8;
		c->spi_wel = 0;
		return;
	case 0x11:
		if (c->spi_wel)
			c->spi_status = (c->spi_status & ~0xFF0000u) | (wval & 0xFF) << 16;
		c->spi_wel = 0;
		return;
	default: /* anything else: the bus reads back idle-high data */
		w0 = 0xFFFFFFFFu;
		break;
	}
	mem_put(c->mem, SIM_REG_SPI_W0, w0);
}

uint32_t
sim_chip_read(struct sim_chip *c, uint32_t addr)
{
	addr &= ~3u;
	if (addr == SIM_REG_MAGIC)
		return SIM_MAGIC_ESP8266;
	if (addr >= SIM_REG_EFUSE0 && addr < SIM_REG_EFUSE0 + 16)
		return c->efuse[(addr - SIM_REG_EFUSE0) / 4];
	if (addr == SIM_REG_UART_CLKDIV)
		return sim_chip_clkdiv(c->id.xtal_mhz, c->uart_baud);
	if (addr >= SIM_REG_FLASHCHIP && addr < SIM_REG_FLASHCHIP + 24)
		return c->flashchip[(addr - SIM_REG_FLASHCHIP) / 4];
	return mem_get(c->mem, addr);
}

void
sim_chip_write(struct sim_chip *c, uint32_t addr, uint32_t value, uint32_t mask)
{
	uint32_t old;

	addr &= ~3u;
	if (addr == SIM_REG_MAGIC || (addr >= SIM_REG_EFUSE0 && addr < SIM_REG_EFUSE0 + 16))
		return; /* ROM and eFuse words are read-only */
	if (addr >= SIM_REG_FLASHCHIP && addr < SIM_REG_FLASHCHIP + 24) {
		uint32_t *w = &c->flashchip[(addr - SIM_REG_FLASHCHIP) / 4];

		*w = (value & mask) | (*w & ~mask);
		return;
	}
	old = mem_get(c->mem, addr);
	value = (value & mask) | (old & ~mask);
	if (addr == SIM_REG_SPI_CMD && (value & (1u << 18))) {
		spi_run(c);
		value &= ~(1u << 18); /* done at once: the first poll sees the bit clear */
	}
	mem_put(c->mem, addr, value);
}
