/*
 * stub.h: the flasher stub, as a push state machine over struct stub_hal (stub_hal.h).
 *
 * Principles of operation. The stub speaks the protocol that esptool's ESP8266 stub speaks
 * (../shared/reference/protocol.md §3.3, §4.5, §5.9, §15.8), so every host that uploads a stub
 * gets the same behaviour from ours:
 *
 *   stub_init()  sends the greeting frame "OHAI".
 *   stub_feed()  takes received UART bytes in chunks of any size, SLIP-decodes them into one
 *                frame buffer and handles each complete command at once: reply first (header
 *                echo, value, data, status [error, status]), then the work that esptool's stub
 *                does after replying (FLASH_DATA / FLASH_DEFL_DATA writes, baud change, exits).
 *   stub_poll()  sends the next READ_FLASH data frame if the host's acknowledgements allow one.
 *                READ_FLASH is the only streaming command: after its reply the stub may have at
 *                most max_in_flight packets un-acknowledged; each 4-byte frame from the host is
 *                the cumulative count of bytes received; after the last acknowledgement the stub
 *                sends a 16-byte MD5 frame of everything it read.
 *
 * In the simulator, call stub_feed() with bytes as they arrive and stub_poll() while it returns
 * non-zero (or whenever the simulated TX queue has room). On the chip a small main loop moves
 * UART bytes into stub_feed() and calls stub_poll() between them.
 *
 * Departures from esptool's stub, all in cases esptool never produces (see stub.c for each):
 * a non-4-byte frame during a READ_FLASH stream ends the stream and is handled as a command;
 * READ_FLASH with packet_size 0 or above 4096 or max_in_flight 0 is refused with 0xC2;
 * FLASH_DATA during a compressed session (and the reverse) is refused with 0xC6.
 *
 * Memory: struct stub holds every buffer (frame, 32 KB inflate window, scratch): about 50 KB,
 * sized for the ESP8266's DRAM. No allocation, no C library. The caller owns the struct and the
 * HAL table, which must outlive it.
 */
#ifndef ESPDESK_STUB_H
#define ESPDESK_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "stub/stub_hal.h"
#include "stub/stub_inflate.h"

#define STUB_MAX_WRITE_BLOCK 0x4000u   /* largest FLASH_(DEFL_)DATA payload (esptool's stub) */
#define STUB_FRAME_MAX (8u + 16u + STUB_MAX_WRITE_BLOCK) /* header + data header + block */
#define STUB_SECTOR 0x1000u
#define STUB_PAGE 0x100u
#define STUB_BLOCK 0x10000u
#define STUB_READ_PACKET_MAX 0x1000u   /* largest READ_FLASH packet */
#define STUB_SCRATCH 1024u             /* flash read buffer for MD5 and READ_FLASH */

/* What the stub is doing. */
enum stub_state {
	STUB_RUNNING = 0,     /* handling commands */
	STUB_READING,         /* streaming READ_FLASH */
	STUB_EXIT_USER,       /* RUN_USER_CODE was handled; input is ignored */
	STUB_EXIT_ROM,        /* FLASH_END(0) / FLASH_DEFL_END(0) reset to the ROM; input ignored */
};

struct stub {
	const struct stub_hal *hal;
	uint8_t state;

	/* SLIP receive: the frame being decoded. */
	uint8_t rx_state;
	uint32_t rx_len;        /* bytes of the frame so far (STUB_FRAME_MAX + 1: oversize) */
	/* 4-byte aligned (it follows a u32), so a FLASH_DATA payload at +24 is word aligned. */
	uint8_t frame[STUB_FRAME_MAX];

	uint32_t baud;          /* last known UART baud (0 until a CHANGE_BAUDRATE) */

	/* Flash write session (FLASH_BEGIN / FLASH_DEFL_BEGIN). */
	uint8_t in_flash_mode, compressed, last_error;
	uint8_t overflow;             /* inflate produced more than the session's size */
	uint32_t next_write;          /* flash address of the next byte */
	uint32_t remaining;           /* uncompressed bytes still expected */
	uint32_t remaining_compressed;
	uint32_t next_erase_sector, remaining_erase_sectors;
	/* Inflated bytes of a partial flash page, held until the rest of the page arrives (or the
	 * session's data ends), so that each page is programmed once. */
	uint32_t pg_len;
	uint8_t pg[STUB_PAGE];

	/* RAM upload (MEM_BEGIN). */
	uint8_t in_mem_mode;
	uint32_t mem_addr, mem_remaining;

	/* READ_FLASH stream. */
	uint32_t rd_addr, rd_len, rd_packet, rd_max_in_flight, rd_sent, rd_acked;

	struct stub_md5 md5;
	uint8_t scratch[STUB_SCRATCH];
	struct stub_inflate inflate;
};

/* Binds s to hal (which must outlive s), resets every state and sends the "OHAI" frame. */
void stub_init(struct stub *s, const struct stub_hal *hal);
/* Consumes len received bytes and handles every command they complete (see above). */
void stub_feed(struct stub *s, const uint8_t *data, size_t len);
/* Sends at most one pending READ_FLASH frame (or the final MD5 frame). Returns 1 if it sent. */
int stub_poll(struct stub *s);
/* The stub's enum stub_state. */
int stub_state(const struct stub *s);

#endif
