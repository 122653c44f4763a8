/*
 * The simulated chip's identity as esptool decodes it (protocol.md §8), the SPI flash-id sequence
 * (§9.2) and UART_CLKDIV (§8.5). The decoders below are esptool's formulas, written from the
 * reference, not our own encoder run backwards.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sim/sim_chip.h"
#include "tap.h"

struct decoded {
	uint8_t mac[6];
	int unknown_oui;
	uint32_t chip_id;
	char name[16];
};

static void
esptool_decode(struct sim_chip *c, struct decoded *out)
{
	uint32_t w0 = sim_chip_read(c, 0x3FF00050), w1 = sim_chip_read(c, 0x3FF00054);
	uint32_t w2 = sim_chip_read(c, 0x3FF00058), w3 = sim_chip_read(c, 0x3FF0005C);
	int is8285, r0_4 = (w0 >> 4) & 1, r3_25 = (w3 >> 25) & 1, r3_26 = (w3 >> 26) & 1;
	int r3_27 = (w3 >> 27) & 1, mb = 0;

	memset(out, 0, sizeof *out);
	/* read_mac (§8.3) */
	if (w3 != 0) {
		out->mac[0] = (uint8_t)(w3 >> 16);
		out->mac[1] = (uint8_t)(w3 >> 8);
		out->mac[2] = (uint8_t)w3;
	} else if (((w1 >> 16) & 0xFF) == 0) {
		memcpy(out->mac, "\x18\xfe\x34", 3);
	} else if (((w1 >> 16) & 0xFF) == 1) {
		memcpy(out->mac, "\xac\xd0\x74", 3);
	} else
		out->unknown_oui = 1;
	out->mac[3] = (uint8_t)(w1 >> 8);
	out->mac[4] = (uint8_t)w1;
	out->mac[5] = (uint8_t)(w0 >> 24);
	/* chip_id (§8.4) */
	out->chip_id = (w0 >> 24) | ((w1 & 0xFFFFFF) << 8);
	/* ESP8285 and its name (§8.4) */
	is8285 = ((w0 >> 4) & 1) || ((w2 >> 16) & 1);
	if (!is8285) {
		snprintf(out->name, sizeof out->name, "ESP8266EX");
		return;
	}
	if (r0_4 && !r3_25)
		mb = (!r3_27 && !r3_26) ? 1 : (!r3_27 && r3_26) ? 2 : 0;
	else if (!r0_4 && r3_25)
		mb = (!r3_27 && !r3_26) ? 2 : (!r3_27 && r3_26) ? 4 : 0;
	if (mb == 1)
		snprintf(out->name, sizeof out->name, "ESP8285%c08", (w0 >> 5) & 1 ? 'H' : 'N');
	else if (mb == 2)
		snprintf(out->name, sizeof out->name, "ESP8285%c16", (w0 >> 5) & 1 ? 'H' : 'N');
	else
		snprintf(out->name, sizeof out->name, "ESP8285");
}

static void
check_identity(const char *mac_s, const uint8_t mac[6], int esp8285, uint32_t size,
    const char *want_name)
{
	struct sim_identity id;
	struct sim_chip c;
	struct decoded dec;
	char *cause = NULL;

	printf("# identity %s %s\n", mac_s, want_name);
	sim_chip_identity_default(&id);
	memcpy(id.mac, mac, 6);
	id.esp8285 = esp8285;
	id.flash_size = size;
	id.flash_id = 0;
	T_EQ_INT(sim_chip_init(&c, &id, &cause), RC_OK);
	esptool_decode(&c, &dec);
	T_FALSE(dec.unknown_oui);
	T_EQ_MEM(dec.mac, mac, 6);
	T_EQ_HEX(dec.chip_id, (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5] |
	    (((sim_chip_read(&c, 0x3FF00054) >> 16) & 0xFF) << 24));
	T_EQ_HEX(sim_chip_id(&c), dec.chip_id);
	T_EQ_STR(dec.name, want_name);
	T_EQ_HEX(sim_chip_read(&c, 0x40001000), 0xFFF0C101);
	sim_chip_free(&c);
}

static void
test_efuse_identities(void)
{
	check_identity("18:fe:34:a1:b2:c3", (const uint8_t *)"\x18\xfe\x34\xa1\xb2\xc3", 0, 4u << 20,
	    "ESP8266EX");
	check_identity("ac:d0:74:01:02:03", (const uint8_t *)"\xac\xd0\x74\x01\x02\x03", 0, 1u << 20,
	    "ESP8266EX");
	check_identity("5c:cf:7f:11:22:33", (const uint8_t *)"\x5c\xcf\x7f\x11\x22\x33", 0, 1u << 20,
	    "ESP8266EX");
	check_identity("84:0d:8e:76:81:9a (8285 1MB)", (const uint8_t *)"\x84\x0d\x8e\x76\x81\x9a", 1,
	    1u << 20, "ESP8285N08");
	check_identity("18:fe:34 8285 2MB", (const uint8_t *)"\x18\xfe\x34\x00\x00\x01", 1, 2u << 20,
	    "ESP8285N16");
	check_identity("18:fe:34 8285 4MB", (const uint8_t *)"\x18\xfe\x34\x00\x00\x01", 1, 4u << 20,
	    "ESP8285");
}

static void
test_efuse_real_sample(void)
{
	/* ISS #620: w3 = 0x00840D8E for OUI 84:0D:8E, w1 low 16 bits 0x7681, w2 0xF200B000. */
	struct sim_identity id;
	struct sim_chip c;
	char *cause = NULL;

	sim_chip_identity_default(&id);
	memcpy(id.mac, "\x84\x0d\x8e\x76\x81\x00", 6);
	T_EQ_INT(sim_chip_init(&c, &id, &cause), RC_OK);
	T_EQ_HEX(sim_chip_read(&c, 0x3FF0005C), 0x00840D8E);
	T_EQ_HEX(sim_chip_read(&c, 0x3FF00054) & 0xFFFF, 0x7681);
	T_EQ_HEX(sim_chip_read(&c, 0x3FF00058), 0xF200B000);
	sim_chip_free(&c);
}

static void
test_clkdiv(void)
{
	struct sim_identity id;
	struct sim_chip c;
	char *cause = NULL;
	uint32_t div;
	double est;

	sim_chip_identity_default(&id);
	T_EQ_INT(sim_chip_init(&c, &id, &cause), RC_OK);
	c.uart_baud = 115200;
	/* ISS #397: a real ROM at 115200 leaves 0x1C4. */
	T_EQ_HEX(sim_chip_read(&c, 0x60000014) & 0xFFFFF, 0x1C4);
	/* esptool's estimate (§8.5) must normalise to the crystal at any baud the host syncs at. */
	for (uint32_t baud = 9600; baud <= 921600; baud *= 2) {
		c.uart_baud = baud;
		div = sim_chip_read(&c, 0x60000014) & 0xFFFFF;
		est = (double)baud * div / 1e6 / 2;
		T_TRUE(est > 25.0 && est < 27.0);
	}
	sim_chip_free(&c);
	id.xtal_mhz = 40;
	T_EQ_INT(sim_chip_init(&c, &id, &cause), RC_OK);
	c.uart_baud = 115200;
	div = sim_chip_read(&c, 0x60000014) & 0xFFFFF;
	est = 115200.0 * div / 1e6 / 2;
	T_TRUE(est > 33.0 && est < 41.0);
	sim_chip_free(&c);
}

/* protocol.md §9.2, step by step, then §9.3's SFDP read. */
static uint32_t
spi_command(struct sim_chip *c, uint32_t usr1, uint32_t usr, uint32_t usr2, uint32_t addr)
{
	uint32_t old_usr = sim_chip_read(c, 0x6000021C), old_usr2 = sim_chip_read(c, 0x60000224);
	uint32_t w0;
	int polls = 0;

	sim_chip_write(c, 0x60000220, usr1, 0xFFFFFFFF);
	sim_chip_write(c, 0x6000021C, usr, 0xFFFFFFFF);
	sim_chip_write(c, 0x60000224, usr2, 0xFFFFFFFF);
	if (addr != 0xFFFFFFFF)
		sim_chip_write(c, 0x60000204, addr, 0xFFFFFFFF);
	sim_chip_write(c, 0x60000240, 0, 0xFFFFFFFF);
	sim_chip_write(c, 0x60000200, 0x00040000, 0xFFFFFFFF);
	while ((sim_chip_read(c, 0x60000200) & (1u << 18)) && polls < 10)
		polls++;
	T_EQ_INT(polls, 0);
	w0 = sim_chip_read(c, 0x60000240);
	sim_chip_write(c, 0x6000021C, old_usr, 0xFFFFFFFF);
	sim_chip_write(c, 0x60000224, old_usr2, 0xFFFFFFFF);
	T_EQ_HEX(sim_chip_read(c, 0x6000021C), old_usr);
	return w0;
}

static void
test_spi_rdid_sfdp(void)
{
	struct sim_identity id;
	struct sim_chip c;
	char *cause = NULL;
	uint32_t w0;

	sim_chip_identity_default(&id); /* W25Q32, 0xEF4016 */
	T_EQ_INT(sim_chip_init(&c, &id, &cause), RC_OK);
	w0 = spi_command(&c, 0x00001700, 0x90000000, 0x7000009F, 0xFFFFFFFF);
	T_EQ_HEX(w0, 0x001640EF); /* §9.2: W25Q32 -> W0 = 0x001640EF */
	T_EQ_HEX(w0 >> 16, 0x16); /* detect_flash_size reads it unmasked: 4MB */
	/* SFDP byte 0x10: not XMC (§9.3), both address encodings. */
	T_TRUE(spi_command(&c, 0x5C000707, 0xF0000000, 0x7000005A, 0x10) != 0x20);
	T_TRUE(spi_command(&c, 0x5C000707, 0xF0000000, 0x7000005A, 0x1000) != 0x20);
	/* RDSR: one byte. */
	T_EQ_HEX(spi_command(&c, 0x00000700, 0x90000000, 0x70000005, 0xFFFFFFFF) & ~0xFFu, 0);
	sim_chip_free(&c);
	/* The identity check: a JEDEC capacity that contradicts the size is refused. */
	id.flash_size = 1u << 20;
	T_EQ_INT(sim_chip_init(&c, &id, &cause), RC_ERR_ARG);
	T_TRUE(cause != NULL);
	free(cause);
}

static void
test_plain_memory(void)
{
	struct sim_identity id;
	struct sim_chip c;
	char *cause = NULL;

	sim_chip_identity_default(&id);
	T_EQ_INT(sim_chip_init(&c, &id, &cause), RC_OK);
	/* esptool's test_read_write_memory_rom works on DRAM 0x3FFE8000. */
	T_EQ_HEX(sim_chip_read(&c, 0x3FFE8000), 0);
	sim_chip_write(&c, 0x3FFE8000, 0xDEADBEEF, 0xFFFFFFFF);
	sim_chip_write(&c, 0x3FFE8000, 0x00000000, 0x0000FFFF);
	T_EQ_HEX(sim_chip_read(&c, 0x3FFE8000), 0xDEAD0000);
	for (uint32_t i = 0; i < 5000; i++)
		sim_chip_write(&c, 0x3FFE9000 + 4 * i, i, 0xFFFFFFFF);
	T_EQ_HEX(sim_chip_read(&c, 0x3FFE9000 + 4 * 4321), 4321);
	/* eFuses and the magic word are read-only. */
	sim_chip_write(&c, 0x40001000, 0, 0xFFFFFFFF);
	T_EQ_HEX(sim_chip_read(&c, 0x40001000), 0xFFF0C101);
	sim_chip_free(&c);
}

int
main(void)
{
	T_RUN(test_efuse_identities);
	T_RUN(test_efuse_real_sample);
	T_RUN(test_clkdiv);
	T_RUN(test_spi_rdid_sfdp);
	T_RUN(test_plain_memory);
	return t_done();
}
