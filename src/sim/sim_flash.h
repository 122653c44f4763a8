/*
 * sim_flash.h: the simulated SPI NOR flash of espdesk-sim.
 *
 * Principles of operation. The flash contents live in a file (--flash FILE) mapped MAP_SHARED, so
 * every program or erase reaches the page cache at once and a killed simulator loses nothing the
 * chip would have kept; without a file the contents live in anonymous memory. Like real NOR flash,
 * a program can only clear bits (new = old AND data) and only an erase sets them back to 0xFF.
 * Every operation returns how long the real part would be busy, from the datasheet timings in
 * sim_flash.c, so the caller's timing model can delay the reply. Addresses beyond the chip wrap
 * around, as a real SPI NOR part ignores the address bits it does not decode.
 *
 * The ROM's FLASH_BEGIN erase routine (SPIEraseArea, protocol.md §7.1) is modelled here with its
 * bug: sim_flash_rom_erase_span() says which sectors it erases for (addr, len), and
 * sim_flash_rom_erase_area() does it.
 *
 * Faults: sim_flash_arm_power_loss() makes the next erase or program stop half way (the sector is
 * left partly erased or partly programmed) and report RC_ERR_GONE: the power failed.
 *
 * Errors: enum rc; functions with `char **cause` set a heap string on failure (caller frees).
 */
#ifndef ESPDESK_SIM_FLASH_H
#define ESPDESK_SIM_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#define SIM_FLASH_SECTOR 0x1000u
#define SIM_FLASH_BLOCK 0x10000u
#define SIM_FLASH_PAGE 0x100u

struct sim_flash;

enum sim_flash_fault { SIM_FLASH_PL_NONE, SIM_FLASH_PL_ERASE, SIM_FLASH_PL_WRITE };

/*
 * Opens (or creates, 0xFF-filled) the flash file at path with size bytes; path NULL keeps the
 * contents in memory. An existing file of another size is refused (RC_ERR_ARG) rather than
 * truncated. *out is NULL on entry and set on success; free with sim_flash_close().
 */
int sim_flash_open(const char *path, uint32_t size, struct sim_flash **out, char **cause);
/* Syncs and unmaps. NULL is a no-op. */
void sim_flash_close(struct sim_flash *f);

uint32_t sim_flash_size(const struct sim_flash *f);
/* The whole contents (borrowed; valid until sim_flash_close()). */
const uint8_t *sim_flash_data(const struct sim_flash *f);

/* Copies len bytes at addr (wrapping) into dst. Returns the busy time in microseconds (reads are
 * treated as free: 0). */
uint32_t sim_flash_read(const struct sim_flash *f, uint32_t addr, void *dst, uint32_t len);
/*
 * Programs len bytes at addr: each byte becomes old AND new. *busy_us (may be NULL) gets the
 * program time (per 256-byte page touched). Returns RC_OK or RC_ERR_GONE after an armed power
 * loss (half the bytes written).
 */
int sim_flash_program(struct sim_flash *f, uint32_t addr, const void *src, uint32_t len,
    uint32_t *busy_us);
/* Erases the 4 KB sector holding addr / the 64 KB block / the whole chip. Same results. */
int sim_flash_erase_sector(struct sim_flash *f, uint32_t addr, uint32_t *busy_us);
int sim_flash_erase_block(struct sim_flash *f, uint32_t addr, uint32_t *busy_us);
int sim_flash_erase_chip(struct sim_flash *f, uint32_t *busy_us);

/*
 * The ROM's SPIEraseArea(addr, len) as reverse-engineered (protocol.md §7.1): fails (RC_ERR_ARG)
 * when addr is not 4096-aligned or addr + len exceeds rom_chip_size (the ROM's flashchip
 * chip_size); otherwise erases head single sectors from s = addr/4096 (head = min(N, 16 - s%16),
 * N = ceil(len/4096)), then, with the count wrongly still N, 64 KB blocks while more than 16
 * sectors remain and single sectors for the rest. *first_sector and *nsectors (may be NULL) receive
 * the span: head + N sectors from s.
 */
int sim_flash_rom_erase_span(uint32_t addr, uint32_t len, uint32_t rom_chip_size,
    uint32_t *first_sector, uint32_t *nsectors);
int sim_flash_rom_erase_area(struct sim_flash *f, uint32_t addr, uint32_t len,
    uint32_t rom_chip_size, uint32_t *busy_us);

/* Arms a one-shot power loss for the next erase (SIM_FLASH_PL_ERASE) or program. */
void sim_flash_arm_power_loss(struct sim_flash *f, enum sim_flash_fault which);

/* Datasheet timings in microseconds (see sim_flash.c). */
uint32_t sim_flash_time_page_us(void);
uint32_t sim_flash_time_sector_us(void);
uint32_t sim_flash_time_block_us(void);
uint32_t sim_flash_time_chip_us(uint32_t size);

#endif
