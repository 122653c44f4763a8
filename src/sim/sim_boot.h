/*
 * sim_boot.h: what the simulated chip does between a reset and the moment it either waits in the
 * UART download loader or runs (or crashes in) an application.
 *
 * Principles of operation. The simulator core (sim.c: ports, timing, ROM loader protocol, faults)
 * and the boot model (sim_boot.c and friends: boot ROM banner, image loader, 2nd-stage
 * bootloaders, the application's log, crash scenarios) meet only here. On every power-on, pin
 * reset or software/watchdog reset the core fills a struct sim_boot_env and calls
 * sim_boot_plan(). The boot model reads the straps and the flash and returns a plan: a list of
 * timed output steps (text the chip prints, at the baud it prints it) and what happens after the
 * last step (enter the download loader, halt, reset again with a cause, or run the application's
 * idle loop). The core plays the plan with its UART timing model; the bytes reach the host
 * garbled exactly as a real UART garbles them when the host listens at another baud.
 *
 * The boot model is pure: no I/O, no clock, no globals; plans are deterministic for a given env,
 * so tests check every boot path's exact text against ../shared/reference/bootlog.md.
 */
#ifndef ESPDESK_SIM_BOOT_H
#define ESPDESK_SIM_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* The ROM's `rst cause:N` values (bootlog.md §2). */
enum sim_rst_cause {
	SIM_RST_POWERON = 1,   /* power applied */
	SIM_RST_EXTERNAL = 2,  /* EN/RST pin, also software reset in some SDKs */
	SIM_RST_WDT = 4,       /* hardware watchdog (also the SDK's software restart on old SDKs) */
};

/* Failure scenarios an application can be switched into (control channel / --scenario). */
enum sim_scenario {
	SIM_SCN_NONE,           /* the application runs and logs normally */
	SIM_SCN_EXCEPTION,      /* Exception (28) with a stack dump, then a reset loop */
	SIM_SCN_SOFT_WDT,       /* Soft WDT reset loop */
	SIM_SCN_HW_WDT,         /* hardware `wdt reset` loop */
	SIM_SCN_BROWNOUT,       /* supply dips: resets mid-boot with no crash text */
};

struct sim_boot_env {
	/* The flash as the chip sees it (borrowed, flash_size bytes). */
	const uint8_t *flash;
	uint32_t flash_size;      /* the chip's real size, from its JEDEC id */
	int esp8285;              /* ESP8285: embedded flash wired for DOUT only */
	uint32_t xtal_hz;         /* 26000000 or 40000000 */
	enum sim_rst_cause rst_cause;
	/* Strap levels latched at this reset: 0 = low, 1 = high. */
	int gpio0, gpio2, gpio15;
	enum sim_scenario scenario;
	uint32_t boot_count;      /* boots since power-on, 1 for the first */
};

/* What happens after the plan's steps have played. */
enum sim_boot_next {
	SIM_NEXT_DOWNLOAD,   /* UART download loader: wait for SYNC */
	SIM_NEXT_HALT,       /* stuck (waiting for host, fatal error): print nothing more */
	SIM_NEXT_RESET,      /* reset with next_rst_cause, keeping the latched straps */
	SIM_NEXT_APP_LOOP,   /* the application runs: repeat loop[] forever */
};

/* A step with len 0 is a pure delay (e.g. the silent wait before a hardware watchdog reset). */
struct sim_step {
	uint32_t delay_us;   /* time before the first byte of this step leaves the chip */
	uint32_t baud;       /* the chip's UART baud for this step (74880, 115200, ...) */
	char *text;          /* owned by the plan; may contain any bytes */
	size_t len;
};

struct sim_boot_plan {
	struct sim_step *steps;
	size_t nsteps;
	enum sim_boot_next next;
	enum sim_rst_cause next_rst_cause; /* for SIM_NEXT_RESET */
	struct sim_step *loop;             /* for SIM_NEXT_APP_LOOP, played repeatedly */
	size_t nloop;                      /* may be 0: the application runs silently forever */
	uint32_t app_baud;                 /* the application's baud, 0 if none ran */
};

/* Fills *plan for env. Never fails: a broken flash is a boot path too. Free with
 * sim_boot_plan_free(). */
void sim_boot_plan(const struct sim_boot_env *env, struct sim_boot_plan *plan);
void sim_boot_plan_free(struct sim_boot_plan *plan);

/* The ROM banner's baud for a crystal: 74880 at 26 MHz, 115200 at 40 MHz. */
uint32_t sim_boot_rom_baud(uint32_t xtal_hz);

#endif
