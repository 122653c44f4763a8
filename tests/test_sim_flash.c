/*
 * The simulated SPI flash: the ROM erase bug against every row of protocol.md §7.3, AND-writes,
 * the flash file, and power-loss faults.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim_flash.h"
#include "tap.h"

/* esptool's ESP8266ROM.get_erase_size (protocol.md §7.2), written from the reference. */
static uint32_t
esptool_erase_size(uint32_t offset, uint32_t size)
{
	uint32_t n = (size + 4095) / 4096, s = offset / 4096;
	uint32_t head = 16 - s % 16 < n ? 16 - s % 16 : n;

	if (n < 2 * head)
		return (n + 1) / 2 * 4096;
	return (n - head) * 4096;
}

struct row {
	uint32_t offset, size, sent, first, last;
};

/* protocol.md §7.3, column by column. */
static const struct row rows[] = {
	{ 0x0, 0x80, 0x1000, 0x0, 0x1FFF },
	{ 0x0, 0x2000, 0x1000, 0x0, 0x1FFF },
	{ 0x0, 0x3000, 0x2000, 0x0, 0x3FFF },
	{ 0x1000, 0x7E000, 0x6F000, 0x1000, 0x7EFFF },
	{ 0x23000, 8292, 0x2000, 0x23000, 0x26FFF },
	{ 0x81000, 0x5A000, 0x4B000, 0x81000, 0x81000 + 0x5A000 - 1 },
	{ 0xFC000, 128, 0x1000, 0xFC000, 0xFDFFF },
	{ 0xFE000, 0x1000, 0x1000, 0xFE000, 0xFFFFF },
	{ 0x0, 0x100000, 0xF0000, 0x0, 0xFFFFF },
	{ 0xF000, 0x3000, 0x2000, 0xF000, 0x11FFF },
};

static struct sim_flash *
zeroed_flash(uint32_t size)
{
	struct sim_flash *f;
	char *cause = NULL;
	uint8_t *z = calloc(1, size);

	if (sim_flash_open(NULL, size, &f, &cause) != RC_OK)
		abort();
	sim_flash_program(f, 0, z, size, NULL);
	free(z);
	return f;
}

static void
test_erase_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		struct sim_flash *f = zeroed_flash(4u << 20);
		const uint8_t *m = sim_flash_data(f);
		uint32_t sent = esptool_erase_size(r->offset, r->size), busy, first, n, bad = 0;

		printf("# row %zu: offset 0x%x size 0x%x\n", i, r->offset, r->size);
		T_EQ_HEX(sent, r->sent);
		T_EQ_INT(sim_flash_rom_erase_area(f, r->offset, sent, 4u << 20, &busy), RC_OK);
		T_EQ_INT(sim_flash_rom_erase_span(r->offset, sent, 4u << 20, &first, &n), RC_OK);
		T_EQ_HEX(first * 4096, r->first);
		T_EQ_HEX((first + n) * 4096 - 1, r->last);
		for (uint32_t a = r->first; a <= r->last; a++)
			bad += m[a] != 0xFF;
		T_EQ_INT(bad, 0);
		if (r->first > 0)
			T_EQ_HEX(m[r->first - 1], 0x00);
		T_EQ_HEX(m[r->last + 1], 0x00);
		T_TRUE(busy > 0);
		sim_flash_close(f);
	}
}

static void
test_erase_rejects(void)
{
	/* SPIEraseArea fails for an unaligned start and beyond flashchip.chip_size (§7.1 step 1). */
	T_EQ_INT(sim_flash_rom_erase_span(0x1, 0x1000, 4u << 20, NULL, NULL), RC_ERR_ARG);
	T_EQ_INT(sim_flash_rom_erase_span(0x3FF000, 0x2000, 4u << 20, NULL, NULL), RC_ERR_ARG);
	T_EQ_INT(sim_flash_rom_erase_span(0x3FF000, 0x1000, 4u << 20, NULL, NULL), RC_OK);
}

static void
test_and_writes(void)
{
	struct sim_flash *f;
	char *cause = NULL;
	uint8_t a[4] = { 0xF0, 0x0F, 0xAA, 0x00 }, b[4] = { 0x3C, 0xFF, 0x55, 0xFF }, out[4];
	uint32_t busy;

	T_EQ_INT(sim_flash_open(NULL, 1u << 20, &f, &cause), RC_OK);
	sim_flash_read(f, 0x1234, out, 4);
	T_EQ_MEM(out, "\xff\xff\xff\xff", 4);
	T_EQ_INT(sim_flash_program(f, 0x1234, a, 4, &busy), RC_OK);
	T_EQ_INT(sim_flash_program(f, 0x1234, b, 4, &busy), RC_OK);
	sim_flash_read(f, 0x1234, out, 4);
	T_EQ_MEM(out, "\x30\x0f\x00\x00", 4);
	/* Only an erase sets bits again. */
	T_EQ_INT(sim_flash_erase_sector(f, 0x1000, &busy), RC_OK);
	sim_flash_read(f, 0x1234, out, 4);
	T_EQ_MEM(out, "\xff\xff\xff\xff", 4);
	/* Addresses past the end wrap, as a part that ignores high address bits. */
	T_EQ_INT(sim_flash_program(f, (1u << 20) + 8, a, 1, &busy), RC_OK);
	T_EQ_HEX(sim_flash_data(f)[8], 0xF0);
	sim_flash_close(f);
}

static void
test_file_persists(void)
{
	char path[] = "/tmp/test_sim_flash_XXXXXX";
	int fd = mkstemp(path);
	struct sim_flash *f;
	char *cause = NULL;
	FILE *fp;
	uint8_t buf[16];

	close(fd);
	unlink(path); /* let sim_flash_open create it */
	T_EQ_INT(sim_flash_open(path, 1u << 20, &f, &cause), RC_OK);
	sim_flash_program(f, 0x10, "\x12\x34", 2, NULL);
	/* No close: the bytes must already be in the file (MAP_SHARED). */
	fp = fopen(path, "rb");
	T_TRUE(fp != NULL);
	if (fp != NULL) {
		T_EQ_INT(fread(buf, 1, 16, fp), 16);
		fseek(fp, 0, SEEK_END);
		T_EQ_INT(ftell(fp), 1 << 20);
		fclose(fp);
		T_EQ_HEX(buf[0], 0xFF);
	}
	sim_flash_close(f);
	f = NULL;
	T_EQ_INT(sim_flash_open(path, 1u << 20, &f, &cause), RC_OK);
	T_EQ_HEX(sim_flash_data(f)[0x10], 0x12);
	T_EQ_HEX(sim_flash_data(f)[0x11], 0x34);
	sim_flash_close(f);
	/* Another size is refused, not truncated. */
	T_EQ_INT(sim_flash_open(path, 4u << 20, &f, &cause), RC_ERR_ARG);
	T_TRUE(cause != NULL && strstr(cause, path) != NULL);
	free(cause);
	unlink(path);
}

static void
test_power_loss(void)
{
	struct sim_flash *f = zeroed_flash(1u << 20);
	const uint8_t *m = sim_flash_data(f);
	uint32_t busy;
	uint8_t z[256];

	sim_flash_arm_power_loss(f, SIM_FLASH_PL_ERASE);
	T_EQ_INT(sim_flash_erase_sector(f, 0x3000, &busy), RC_ERR_GONE);
	T_EQ_HEX(m[0x3000], 0xFF);
	T_EQ_HEX(m[0x3FFF], 0x00); /* left partly erased */
	T_EQ_INT(sim_flash_erase_sector(f, 0x3000, &busy), RC_OK); /* one-shot */
	T_EQ_HEX(m[0x3FFF], 0xFF);
	memset(z, 0, sizeof z);
	sim_flash_arm_power_loss(f, SIM_FLASH_PL_WRITE);
	T_EQ_INT(sim_flash_program(f, 0x3000, z, 256, &busy), RC_ERR_GONE);
	T_EQ_HEX(m[0x3000], 0x00);
	T_EQ_HEX(m[0x30FF], 0xFF);
	sim_flash_close(f);
}

static void
test_timings(void)
{
	/* W25Q32FV typical values, cited in sim_flash.c. */
	T_EQ_INT(sim_flash_time_page_us(), 700);
	T_EQ_INT(sim_flash_time_sector_us(), 45000);
	T_EQ_INT(sim_flash_time_block_us(), 150000);
	T_EQ_INT(sim_flash_time_chip_us(4u << 20), 10000000);
}

int
main(void)
{
	T_RUN(test_erase_table);
	T_RUN(test_erase_rejects);
	T_RUN(test_and_writes);
	T_RUN(test_file_persists);
	T_RUN(test_power_loss);
	T_RUN(test_timings);
	return t_done();
}
