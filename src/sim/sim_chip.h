/*
 * sim_chip.h: the identity and the register file of the simulated ESP8266/ESP8285, as READ_REG and
 * WRITE_REG see them (protocol.md §4.2, §8, §9).
 *
 * Principles of operation. The identity (model, MAC, crystal, JEDEC id) is turned into the words
 * a real chip holds: the magic ROM word at 0x40001000, the four eFuse words at 0x3FF00050..5C
 * encoded so that esptool's read_mac/chip_id/ESP8285 decoding (protocol.md §8.3-8.4) gives the
 * identity back, UART_CLKDIV as the ROM's autobaud leaves it (§8.5), and the SPI0 user-command
 * registers (§9): writing bit 18 of SPI_CMD runs the command in SPI_USR2 against the flash at
 * once (RDID 0x9F, RDSR 0x05/0x35/0x15, SFDP 0x5A, WREN/WRDI, WRSR 0x01/0x31/0x11) and clears the
 * bit. Any other address behaves as plain memory: what was written reads back (unwritten words
 * read 0), which is what read_mem/write_mem/dump_mem tests need.
 */
#ifndef ESPDESK_SIM_CHIP_H
#define ESPDESK_SIM_CHIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#define SIM_REG_MAGIC 0x40001000u
#define SIM_MAGIC_ESP8266 0xFFF0C101u
#define SIM_REG_EFUSE0 0x3FF00050u
#define SIM_REG_UART_CLKDIV 0x60000014u
#define SIM_REG_SPI_CMD 0x60000200u
#define SIM_REG_SPI_ADDR 0x60000204u
#define SIM_REG_SPI_USR 0x6000021Cu
#define SIM_REG_SPI_USR1 0x60000220u
#define SIM_REG_SPI_USR2 0x60000224u
#define SIM_REG_SPI_W0 0x60000240u
#define SIM_REG_FLASHCHIP 0x3FFFC714u  /* the ROM's flashchip struct (§7.5) */

struct sim_identity {
	int esp8285;
	uint8_t mac[6];
	uint32_t xtal_mhz;     /* 26 or 40 */
	uint32_t flash_id;     /* JEDEC id as esptool prints it: 0xEF4016 = Winbond, type 0x40, 4 MB */
	uint32_t flash_size;   /* bytes */
};

struct sim_chip_mem;  /* private */

struct sim_chip {
	struct sim_identity id;
	uint32_t efuse[4];
	uint32_t uart_baud;     /* the baud the ROM's autobaud measured (for UART_CLKDIV) */
	uint32_t spi_status;    /* the flash's status registers 1..3 (bits 0..23) */
	int spi_wel;
	uint32_t flashchip[6];  /* deviceId, chip_size, block, sector, page, status_mask */
	struct sim_chip_mem *mem;
};

/* Fills the default identity: ESP8266EX, MAC 18:fe:34:a1:b2:c3, 26 MHz, W25Q32 (0xEF4016, 4 MB). */
void sim_chip_identity_default(struct sim_identity *id);
/*
 * Checks id and derives the registers. RC_ERR_ARG with a cause when the MAC cannot be encoded
 * (its OUI has to be 18:fe:34, ac:d0:74 or any OUI held in eFuse word 3: every OUI can) or the
 * JEDEC capacity byte disagrees with flash_size. Free with sim_chip_free().
 */
int sim_chip_init(struct sim_chip *c, const struct sim_identity *id, char **cause);
void sim_chip_free(struct sim_chip *c);

/* The ROM's power-on state of the registers that a reset clears (SPI, flashchip). */
void sim_chip_reset(struct sim_chip *c);

/* The chip id esptool derives from the eFuses (protocol.md §8.4). */
uint32_t sim_chip_id(const struct sim_chip *c);
/* UART_CLKDIV after autobaud at baud. */
uint32_t sim_chip_clkdiv(uint32_t xtal_mhz, uint32_t baud);

/* A 32-bit read. */
uint32_t sim_chip_read(struct sim_chip *c, uint32_t addr);
/* A masked write (value & mask | old & ~mask), with the side effects of SPI_CMD bit 18. */
void sim_chip_write(struct sim_chip *c, uint32_t addr, uint32_t value, uint32_t mask);

#endif
