#include "config.h"

#include "sim/sim_flash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

/*
 * Timings: typical values from the Winbond W25Q32FV datasheet (rev. J, §9.6 "AC Electrical
 * Characteristics"): page program tPP 0.7 ms (max 3 ms), sector erase tSE 45 ms (max 400 ms),
 * 64 KB block erase tBE2 150 ms (max 2000 ms), chip erase tCE 10 s for the 4 MB part (max 50 s).
 * Chip erase is scaled by size from the 4 MB figure (the W25Q80/16/128 sheets give 2.5-40 s typ).
 */
#define T_PAGE_US 700u
#define T_SECTOR_US 45000u
#define T_BLOCK_US 150000u
#define T_CHIP_4MB_US 10000000u

struct sim_flash {
	uint8_t *mem;
	uint32_t size;
	int mapped;     /* mem is an mmap of the file */
	enum sim_flash_fault pl;
};

uint32_t sim_flash_time_page_us(void) { return T_PAGE_US; }
uint32_t sim_flash_time_sector_us(void) { return T_SECTOR_US; }
uint32_t sim_flash_time_block_us(void) { return T_BLOCK_US; }

uint32_t
sim_flash_time_chip_us(uint32_t size)
{
	return (uint32_t)((uint64_t)T_CHIP_4MB_US * size / 0x400000u);
}

int
sim_flash_open(const char *path, uint32_t size, struct sim_flash **out, char **cause)
{
	struct sim_flash *f;
	struct stat st;
	int fd, created = 0;

	*out = NULL;
	if (size == 0 || size % SIM_FLASH_BLOCK != 0) {
		*cause = xfmt("flash size %u is not a multiple of 64 KB: use 1MB, 2MB, 4MB or 16MB", size);
		return RC_ERR_ARG;
	}
	f = xcalloc(1, sizeof *f);
	f->size = size;
	if (path == NULL) {
		f->mem = xmalloc(size);
		memset(f->mem, 0xFF, size);
		*out = f;
		return RC_OK;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		*cause = xfmt("%s: cannot open flash file: %s; check the path and its permissions",
		    path, strerror(errno));
		free(f);
		return RC_ERR_IO;
	}
	if (fstat(fd, &st) < 0)
		goto io;
	if (st.st_size == 0) {
		created = 1;
		if (ftruncate(fd, size) < 0)
			goto io;
	} else if ((uint64_t)st.st_size != size) {
		*cause = xfmt("%s: flash file holds %lld bytes but the chip has %u; pass the matching "
		    "--flash-size or another --flash file", path, (long long)st.st_size, size);
		close(fd);
		free(f);
		return RC_ERR_ARG;
	}
	f->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (f->mem == MAP_FAILED)
		goto io;
	close(fd);
	f->mapped = 1;
	if (created)
		memset(f->mem, 0xFF, size);
	*out = f;
	return RC_OK;
io:
	*cause = xfmt("%s: cannot size or map the flash file: %s", path, strerror(errno));
	close(fd);
	free(f);
	return RC_ERR_IO;
}

void
sim_flash_close(struct sim_flash *f)
{
	if (f == NULL)
		return;
	if (f->mapped) {
		msync(f->mem, f->size, MS_SYNC);
		munmap(f->mem, f->size);
	} else
		free(f->mem);
	free(f);
}

uint32_t sim_flash_size(const struct sim_flash *f) { return f->size; }
const uint8_t *sim_flash_data(const struct sim_flash *f) { return f->mem; }

void
sim_flash_arm_power_loss(struct sim_flash *f, enum sim_flash_fault which)
{
	f->pl = which;
}

uint32_t
sim_flash_read(const struct sim_flash *f, uint32_t addr, void *dst, uint32_t len)
{
	uint8_t *d = dst;

	for (uint32_t i = 0; i < len; i++)
		d[i] = f->mem[(addr + i) % f->size];
	return 0;
}

int
sim_flash_program(struct sim_flash *f, uint32_t addr, const void *src, uint32_t len,
    uint32_t *busy_us)
{
	const uint8_t *s = src;
	uint32_t n = len, pages;
	int rc = RC_OK;

	if (f->pl == SIM_FLASH_PL_WRITE && len > 0) {
		n = len / 2;
		f->pl = SIM_FLASH_PL_NONE;
		rc = RC_ERR_GONE;
	}
	for (uint32_t i = 0; i < n; i++)
		f->mem[(addr + i) % f->size] &= s[i];
	pages = len ? (addr + len - 1) / SIM_FLASH_PAGE - addr / SIM_FLASH_PAGE + 1 : 0;
	if (busy_us != NULL)
		*busy_us = pages * T_PAGE_US;
	return rc;
}

/* Sets [start, start+len) to 0xFF, or only its first half after an armed power loss. */
static int
erase_range(struct sim_flash *f, uint32_t start, uint32_t len)
{
	int rc = RC_OK;

	start %= f->size;
	if (f->pl == SIM_FLASH_PL_ERASE) {
		len /= 2;
		f->pl = SIM_FLASH_PL_NONE;
		rc = RC_ERR_GONE;
	}
	memset(f->mem + start, 0xFF, len);
	return rc;
}

int
sim_flash_erase_sector(struct sim_flash *f, uint32_t addr, uint32_t *busy_us)
{
	if (busy_us != NULL)
		*busy_us = T_SECTOR_US;
	return erase_range(f, addr & ~(SIM_FLASH_SECTOR - 1), SIM_FLASH_SECTOR);
}

int
sim_flash_erase_block(struct sim_flash *f, uint32_t addr, uint32_t *busy_us)
{
	if (busy_us != NULL)
		*busy_us = T_BLOCK_US;
	return erase_range(f, addr & ~(SIM_FLASH_BLOCK - 1), SIM_FLASH_BLOCK);
}

int
sim_flash_erase_chip(struct sim_flash *f, uint32_t *busy_us)
{
	if (busy_us != NULL)
		*busy_us = sim_flash_time_chip_us(f->size);
	return erase_range(f, 0, f->size);
}

int
sim_flash_rom_erase_span(uint32_t addr, uint32_t len, uint32_t rom_chip_size,
    uint32_t *first_sector, uint32_t *nsectors)
{
	uint32_t s, n, h, head;

	if (addr % SIM_FLASH_SECTOR != 0 || (uint64_t)addr + len > rom_chip_size)
		return RC_ERR_ARG;
	s = addr / SIM_FLASH_SECTOR;
	n = (uint32_t)(((uint64_t)len + SIM_FLASH_SECTOR - 1) / SIM_FLASH_SECTOR);
	h = 16 - s % 16;
	head = n < h ? n : h;
	if (first_sector != NULL)
		*first_sector = s;
	if (nsectors != NULL)
		*nsectors = head + n;
	return RC_OK;
}

int
sim_flash_rom_erase_area(struct sim_flash *f, uint32_t addr, uint32_t len,
    uint32_t rom_chip_size, uint32_t *busy_us)
{
	uint32_t s, n, h, head, sec, left, t = 0, dt;
	int rc;

	if ((rc = sim_flash_rom_erase_span(addr, len, rom_chip_size, NULL, NULL)) != RC_OK) {
		if (busy_us != NULL)
			*busy_us = 0;
		return rc;
	}
	s = addr / SIM_FLASH_SECTOR;
	n = (uint32_t)(((uint64_t)len + SIM_FLASH_SECTOR - 1) / SIM_FLASH_SECTOR);
	h = 16 - s % 16;
	head = n < h ? n : h;
	sec = s;
	/* The head: single sectors up to the next 64 KB boundary. */
	for (uint32_t i = 0; i < head; i++, sec++) {
		if ((rc = sim_flash_erase_sector(f, sec * SIM_FLASH_SECTOR, &dt)) != RC_OK)
			goto out;
		t += dt;
	}
	/* The bug: the ROM carries on with the full count N instead of N - head. */
	for (left = n; left > 16; left -= 16, sec += 16) {
		if ((rc = sim_flash_erase_block(f, sec * SIM_FLASH_SECTOR, &dt)) != RC_OK)
			goto out;
		t += dt;
	}
	for (; left > 0; left--, sec++) {
		if ((rc = sim_flash_erase_sector(f, sec * SIM_FLASH_SECTOR, &dt)) != RC_OK)
			goto out;
		t += dt;
	}
out:
	if (busy_us != NULL)
		*busy_us = t;
	return rc;
}
