/*
 * stub_hal.h: the hardware interface under the flasher stub (src/stub/stub.c).
 *
 * The stub logic is written once, as freestanding C, and runs in two places: natively inside
 * espdesk-sim (src/sim/ fills this table with its flash model, UART timing model and libmd), and
 * on the ESP8266 itself (src/stub/stub_hal_lx106.c fills it with ROM calls, see
 * ../shared/reference/stub.md). Nothing in this header needs a C library.
 *
 * Rules for every hook:
 * - ctx is the table's ctx field, passed back unchanged.
 * - Flash hooks return 0 on success and non-zero on failure; the stub reports a failure as stub
 *   error 0xC4 (failed SPI operation) or 0xC5 (unlock). Addresses are byte addresses from the
 *   start of flash. flash_write is a page program: it can only clear bits (the flash's AND), and
 *   the stub only calls it with addr and len multiples of 4 (it pads an unaligned head or tail
 *   with 0xFF, which leaves those bytes unchanged).
 *   flash_read may be called with any addr and len.
 * - Hooks marked optional may be NULL; the stub then behaves as documented at the hook.
 * - Hooks are called from stub_feed() / stub_poll() only, never re-entrantly. A hook must not
 *   call back into the stub.
 */
#ifndef ESPDESK_STUB_HAL_H
#define ESPDESK_STUB_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of opaque MD5 context the stub reserves; the ROM's context is 88 bytes, libmd's 88. */
#define STUB_MD5_CTX_SIZE 128

struct stub_md5 {
	union {
		uint8_t bytes[STUB_MD5_CTX_SIZE];
		uint64_t align_;
	} u;
};

struct stub_hal {
	void *ctx;

	/* Flash (SPI NOR, 4 KB sectors, 64 KB blocks). */
	int (*flash_read)(void *ctx, uint32_t addr, void *dst, uint32_t len);
	int (*flash_write)(void *ctx, uint32_t addr, const void *src, uint32_t len);
	int (*flash_erase_sector)(void *ctx, uint32_t sector);   /* sector = addr / 4096 */
	int (*flash_erase_block)(void *ctx, uint32_t block);     /* block = addr / 65536 */
	int (*flash_erase_chip)(void *ctx);
	/* Optional: clear write protection (ROM SPIUnlock) before writing or erasing. */
	int (*flash_unlock)(void *ctx);
	/* Optional: SPI_SET_PARAMS, p = id, total_size, block_size, sector_size, page_size,
	 * status_mask (ROM SPIParamCfg). NULL: the command still succeeds. */
	int (*flash_set_params)(void *ctx, const uint32_t p[6]);
	/* Optional: SPI_ATTACH (ROM spi_flash_attach). NULL: the command still succeeds. */
	int (*flash_attach)(void *ctx);

	/* UART0: queue len bytes for transmission (the stub's only output). Must take them all. */
	void (*uart_tx)(void *ctx, const uint8_t *data, size_t len);
	/*
	 * CHANGE_BAUDRATE, called after the reply has been queued with uart_tx. The HAL lets the
	 * reply leave at old_baud (on the chip: wait for the TX FIFO to drain, ~10 ms), then
	 * switches to new_baud (chip: divider = CLKDIV * old_baud / new_baud, stub.md "Changing the
	 * baud rate"). old_baud is the one the host sent, or the stub's last known baud if the
	 * host sent 0 (0 if never known).
	 */
	void (*uart_set_baud)(void *ctx, uint32_t new_baud, uint32_t old_baud);

	/* 32-bit register / memory access for READ_REG and WRITE_REG. */
	uint32_t (*reg_read)(void *ctx, uint32_t addr);
	void (*reg_write)(void *ctx, uint32_t addr, uint32_t value);
	/* Optional: busy-wait (WRITE_REG's delay_us). NULL: no delay. */
	void (*delay_us)(void *ctx, uint32_t us);

	/* Optional: MEM_DATA stores len bytes at a RAM address. NULL: MEM_DATA fails with 0xC4. */
	int (*mem_write)(void *ctx, uint32_t addr, const void *src, uint32_t len);

	/* MD5 over an opaque context (chip: ROM MD5Init/MD5Update/MD5Final; sim: libmd). */
	void (*md5_init)(void *ctx, struct stub_md5 *m);
	void (*md5_update)(void *ctx, struct stub_md5 *m, const void *data, uint32_t len);
	void (*md5_final)(void *ctx, struct stub_md5 *m, uint8_t digest[16]);

	/*
	 * Leaving the stub. On the chip none of these returns; in the simulator they return and
	 * the stub refuses further input (stub_state() tells which exit was taken).
	 * run_user_code: RUN_USER_CODE (no reply is sent), boot the application from flash.
	 * reset_to_rom: FLASH_END(0) / FLASH_DEFL_END(0) after the reply, a software reset, which
	 *   comes back up in the UART download loader (protocol.md §4.3).
	 * mem_jump: MEM_END with a non-zero entry, after the reply: jump to entry. Optional; NULL
	 *   means MEM_END only replies. If it returns, the stub goes on handling commands.
	 */
	void (*run_user_code)(void *ctx);
	void (*reset_to_rom)(void *ctx);
	void (*mem_jump)(void *ctx, uint32_t entry);
};

#endif
