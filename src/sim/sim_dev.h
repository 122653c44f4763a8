/*
 * sim_dev.h: the simulated ESP8266/ESP8285 board: power, reset, strapping, the boot ROM's plan,
 * the UART download loader, the native flasher stub, the application, and the UART timing.
 *
 * Principles of operation. The device is a pure event machine driven by the caller's clock (all
 * times in microseconds, from any monotonic origin): the caller reports host bytes with
 * sim_dev_host_rx(), pins and power with the sim_dev_set_*() calls, and calls sim_dev_run()
 * whenever sim_dev_next_us() says something is due; sim_dev_run() appends to `out` the bytes
 * that reached the host by then. No I/O happens here, so tests drive it with a fake clock.
 *
 * Modes: off -> (power on, EN release, RESET) a hardware reset latches the straps and calls
 * sim_boot_plan() (sim_boot.h); the plan's text is queued at its baud and, when it has played,
 * the device enters the download loader (sim_loader.h), halts, resets again (software/watchdog
 * reset: latched straps and the last hardware rst cause are kept, protocol.md §11.3,
 * bootlog.md §2), or runs the application's loop. MEM_END(0, entry) in the loader starts our
 * stub (src/stub) natively over a HAL made of this device's flash, registers and UART; its
 * FLASH_END(0) is a software reset back into the ROM.
 *
 * Timing (speed real): every byte takes 10 bit times at the sender's baud, flash operations take
 * their datasheet times (sim_flash.c) before the reply, and with usb_latency_ms the bytes reach
 * the host in bursts (FTDI latency timer: a burst leaves when 62 bytes have gathered or the
 * timer expires). Speed fast drops all of these delays except the application's own pacing.
 * Bytes sent at one baud and read at another are garbled by the UART bit model (sim_uart.h).
 *
 * The stub's receive ring (speed real). On the chip the stub's UART interrupt puts each byte
 * into a ring of SIM_STUB_RX_RING bytes and drops it when the ring is full; the main loop hands
 * the ring's bytes to stub_feed() in slices of at most 256 and gives a slice's space back only
 * when stub_feed() returns, i.e. after the flash work of a FLASH_(DEFL_)DATA block it completed
 * (src/stub/stub_hal_lx106.c). The device does the same in simulated time: each host byte
 * arrives 10 bit times after the one before it; a byte that arrives while the ring holds
 * SIM_STUB_RX_RING - 1 bytes not yet given back is dropped (counted in sim_dev_rx_dropped());
 * a slice is fed when the stub's CPU is free, at the later of that time and the arrival of its
 * first byte, and stays held until the end of the busy time its stub_feed() added. So a host
 * that keeps more than the ring in flight loses bytes here as on the chip. With speed fast
 * (no time) bytes reach the stub as they come and nothing is dropped. The ROM loader's own
 * receive FIFO is not modelled: it gets each command whole.
 *
 * Errors: sim_dev_new() returns enum rc and a cause; everything else cannot fail.
 */
#ifndef ESPDESK_SIM_DEV_H
#define ESPDESK_SIM_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sim/sim_boot.h"
#include "sim/sim_chip.h"
#include "sim/sim_fault.h"

/* The stub's UART receive ring on the chip: RX_RING in src/stub/stub_hal_lx106.c (keep equal). */
#define SIM_STUB_RX_RING 0x6000u

enum sim_mode {
	SIM_MODE_OFF,       /* no power */
	SIM_MODE_RESET,     /* EN held low */
	SIM_MODE_BOOT,      /* the boot ROM / 2nd stage is printing its plan */
	SIM_MODE_DOWNLOAD,  /* UART download loader (ROM) */
	SIM_MODE_STUB,      /* our flasher stub runs */
	SIM_MODE_APP,       /* the application runs */
	SIM_MODE_HALTED,    /* stuck: waiting for host, fatal boot error */
};

struct sim_dev_config {
	struct sim_identity id;
	const char *flash_path;     /* NULL: flash in memory */
	int fast;                   /* --speed fast */
	int download;               /* start powered with GPIO0 held low */
	int powered;                /* start powered (default 1) */
	uint32_t usb_latency_ms;    /* 0: bytes reach the host as they arrive */
	enum sim_scenario scenario;
	struct sim_fault fault;     /* parsed --faults (copied) */
};

struct sim_dev;

/* Creates the device (opening the flash file) and, if cfg->powered, powers it on at now_us.
 * Free with sim_dev_free(). */
int sim_dev_new(const struct sim_dev_config *cfg, int64_t now_us, struct sim_dev **out,
    char **cause);
void sim_dev_free(struct sim_dev *d);

/* Host side. host_baud is the baud the host's UART is set to (both directions). */
void sim_dev_host_rx(struct sim_dev *d, const uint8_t *data, size_t len, uint32_t host_baud,
    int64_t now_us);
/* Plays everything due by now_us; appends what reaches the host to out. */
void sim_dev_run(struct sim_dev *d, int64_t now_us, uint32_t host_baud, struct buf *out);
/* When sim_dev_run() next has work, or -1 for nothing pending. */
int64_t sim_dev_next_us(const struct sim_dev *d);

/* Board controls. Levels: 0 = low, 1 = high. */
void sim_dev_power(struct sim_dev *d, int on, int64_t now_us);
void sim_dev_set_en(struct sim_dev *d, int level, int64_t now_us);   /* low holds in reset */
void sim_dev_reset(struct sim_dev *d, int64_t now_us);               /* pulse EN */
void sim_dev_set_button(struct sim_dev *d, int pressed);             /* GPIO0 button */
void sim_dev_set_gpio0_pull(struct sim_dev *d, int low);             /* auto-reset transistor */
void sim_dev_set_strap(struct sim_dev *d, int gpio, int level);      /* gpio 2 or 15 */
/* The host's modem lines through the NodeMCU two-transistor auto-reset circuit (protocol.md
 * §11.1): DTR drives GPIO0, RTS drives EN, both active low, and with both asserted (or both
 * released) neither is pulled. 1 = asserted. */
void sim_dev_set_lines(struct sim_dev *d, int dtr, int rts, int64_t now_us);
void sim_dev_set_scenario(struct sim_dev *d, enum sim_scenario s);
/* A break on the host's TX line (RFC 2217 / tcsendbreak): the device's UART sees 0x00. */
void sim_dev_host_break(struct sim_dev *d, uint32_t host_baud, int64_t now_us);

enum sim_mode sim_dev_mode(const struct sim_dev *d);
const char *sim_dev_mode_name(enum sim_mode m);
/* One line of state for the control channel's `status`: powered, mode, baud, straps, ...,
 * rx_dropped. */
void sim_dev_status(const struct sim_dev *d, char *dst, size_t len);
/* Host bytes the stub's receive ring dropped since the device was created (speed real). */
uint64_t sim_dev_rx_dropped(const struct sim_dev *d);
/* True once, right after the fault list's cut-after limit was reached: the device has lost power
 * and the caller must pull the cable (close the pty or the RFC 2217 link). */
int sim_dev_cable_cut(struct sim_dev *d);
/* The chip (identity, registers) and flash contents, borrowed. */
const struct sim_chip *sim_dev_chip(const struct sim_dev *d);
const uint8_t *sim_dev_flash(const struct sim_dev *d);

#endif
