/* flasher_plan.c: pure planning rules: ROM erase-size compensation, the baud ladder, bounds. */
#include "config.h"

#include "flasher/flasher.h"

#include <stddef.h>

#include "core/xmalloc.h"

#define SECTOR 4096u
#define SECTORS_PER_BLOCK 16u

/*
 * The ROM's SPIEraseArea erases head + N sectors instead of N (§7.1); esptool asks for less so
 * that the result is right (§7.2). esp-serial-flasher's variant under-erases: not used.
 */
uint32_t
flasher_plan_rom_erase_size(uint32_t off, uint32_t size)
{
	uint32_t n = (uint32_t)(((uint64_t)size + SECTOR - 1) / SECTOR);
	uint32_t s = off / SECTOR;
	uint32_t head = SECTORS_PER_BLOCK - s % SECTORS_PER_BLOCK;

	if (head > n)
		head = n;
	if (n < 2 * head)
		return (n + 1) / 2 * SECTOR;
	return (n - head) * SECTOR;
}

uint32_t
flasher_plan_rom_erased(uint32_t off, uint32_t erase_size)
{
	uint32_t n = (uint32_t)(((uint64_t)erase_size + SECTOR - 1) / SECTOR);
	uint32_t h = SECTORS_PER_BLOCK - (off / SECTOR) % SECTORS_PER_BLOCK;

	return ((n < h ? n : h) + n) * SECTOR;
}

size_t
flasher_plan_next_run(const uint8_t *need, size_t n, size_t from, size_t max, size_t *end)
{
	size_t i = from, j;

	if (max == 0)
		max = 1;
	while (i < n && !need[i])
		i++;
	for (j = i; j < n && need[j] && j - i < max; j++)
		;
	*end = j;
	return i;
}

static const int ladder[] = { 921600, 460800, 230400, 115200 };

int
flasher_plan_baud_down(int baud)
{
	for (size_t i = 0; i < ARRAY_SIZE(ladder); i++)
		if (ladder[i] < baud)
			return ladder[i];
	return 0;
}

int
flasher_plan_baud_top(int cap)
{
	if (cap <= 0)
		return ladder[0];
	for (size_t i = 0; i < ARRAY_SIZE(ladder); i++)
		if (ladder[i] <= cap)
			return ladder[i];
	return cap;
}

int
flasher_plan_check_write(uint32_t off, size_t len, uint32_t flash_size, const char *name,
    char **cause)
{
	*cause = NULL;
	if (name == NULL)
		name = "the data";
	if (len == 0) {
		*cause = xfmt("%s is empty: there is nothing to write at 0x%x; check the file name",
		    name, off);
		return RC_ERR_ARG;
	}
	if (off % SECTOR != 0) {
		*cause = xfmt("%s would start at 0x%x, which is not a multiple of 4096: writing there "
		    "would also erase the bytes before it in sector 0x%x; use a sector-aligned offset",
		    name, off, off & ~(SECTOR - 1));
		return RC_ERR_ARG;
	}
	if (off >= flash_size || len > flash_size - off) {
		*cause = xfmt("%s (%zu bytes at 0x%x) runs past the end of the %u KB flash "
		    "(last byte would be 0x%llx, flash ends at 0x%x); check the offset, or whether the "
		    "image was built for a bigger flash", name, len, off, flash_size / 1024,
		    (unsigned long long)off + len - 1, flash_size - 1);
		return RC_ERR_ARG;
	}
	return RC_OK;
}

int
flasher_plan_check_boot(uint32_t off, const uint8_t *data, size_t len, const char *name,
    char **cause)
{
	*cause = NULL;
	if (name == NULL)
		name = "the data";
	if (off != 0 || len == 0 || data[0] == 0xE9)
		return RC_OK;
	if (len >= 2 && data[0] == 0x1F && data[1] == 0x8B)
		*cause = xfmt("%s is gzip-compressed (Tasmota publishes .bin.gz files for updates over "
		    "the air); the chip needs the plain image: unpack it (gunzip -k %s) and write the "
		    ".bin", name, name);
	else if (data[0] == 0xEA)
		*cause = xfmt("%s is an OTA image (magic 0xEA, a user1/user2 .bin): it belongs behind "
		    "the boot loader, at 0x1000 (or 0x81000 for user2), not at 0x0, where the chip "
		    "would not boot", name);
	else
		*cause = xfmt("%s does not start with an ESP8266 boot image (byte 0x%02X at 0x0, "
		    "expected 0xE9): written at 0x0 the chip would not boot. `espdesk image-info %s` "
		    "says what it is", name, data[0], name);
	return RC_ERR_ARG;
}
