/*
 * sim_loader.h: the ESP8266 ROM's UART download loader, as a push state machine.
 *
 * Principles of operation. The core feeds every byte the loader's UART receives to
 * sim_loader_feed(). The loader decodes SLIP (src/rom/slip.h), runs each command against the chip's
 * registers (sim_chip.h) and the flash (sim_flash.h) the way the ROM does (protocol.md §3, §4,
 * §7, §15) and hands each reply to ops->send() as wire bytes (exactly one 0xC0 before and after
 * each frame), with the time the chip was busy before the reply left (flash erase and program
 * times, WRITE_REG delays). What it cannot do itself (run uploaded code, leave the loader) it
 * reports through ops->event() after the reply has been sent.
 *
 * ROM specifics modelled: 8 replies to SYNC with value 0x20120707; 2 status bytes [status, error];
 * FLASH_BEGIN erases with the ROM's buggy SPIEraseArea before replying; FLASH_DATA checks the
 * 0xEF-seeded XOR checksum (error 0x07) and programs with AND; SPI_SET_PARAMS updates the ROM's
 * flashchip struct; unknown opcodes get `01 05` (protocol.md §4.6 advice). Where the reference
 * leaves the ROM's answer open (erase failures, data outside a FLASH_BEGIN) the choice is marked
 * in sim_loader.c.
 */
#ifndef ESPDESK_SIM_LOADER_H
#define ESPDESK_SIM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "rom/slip.h"
#include "sim/sim_chip.h"
#include "sim/sim_flash.h"

enum sim_loader_event {
	SIM_LOADER_EV_RUN,        /* MEM_END with flag 0: jump to value (the entry point) */
	SIM_LOADER_EV_REBOOT,     /* FLASH_END(0): software reset (straps stay latched) */
	SIM_LOADER_EV_RUN_USER,   /* FLASH_END(1): run the user code in flash */
	SIM_LOADER_EV_POWER_LOST, /* an armed power-loss fault struck during an erase or write */
};

struct sim_loader_ops {
	/* Wire bytes of one reply; busy_us = time the chip works before the first byte leaves. */
	void (*send)(void *arg, uint32_t busy_us, const uint8_t *wire, size_t len);
	void (*event)(void *arg, enum sim_loader_event ev, uint32_t value);
};

struct sim_loader {
	struct slip_decoder dec;
	struct sim_chip *chip;        /* borrowed */
	struct sim_flash *flash;      /* borrowed */
	const struct sim_loader_ops *ops;
	void *arg;
	/* FLASH_BEGIN session */
	int flash_on;
	uint32_t fl_offset, fl_blocks, fl_block_size;
	/* MEM_BEGIN session */
	int mem_on;
	uint32_t mem_addr, mem_size, mem_blocks, mem_block_size;
	uint64_t frames, bad_frames;
	int stopped;                  /* an event took the chip out of the loader */
};

/* chip and flash are borrowed and must outlive l. Free with sim_loader_free(). */
void sim_loader_init(struct sim_loader *l, struct sim_chip *chip, struct sim_flash *flash,
    const struct sim_loader_ops *ops, void *arg);
void sim_loader_free(struct sim_loader *l);
/* Back to the state right after reset: no partial frame, no sessions. */
void sim_loader_reset(struct sim_loader *l);
/* Feeds bytes received by the UART. Stops consuming after an event (l->stopped). */
void sim_loader_feed(struct sim_loader *l, const uint8_t *data, size_t len);

/* The 0xEF-seeded XOR checksum of protocol.md §3.4. */
uint8_t sim_loader_checksum(const uint8_t *data, size_t len);

#endif
