/*
 * ui_demo.h: `espdesk --demo`. Starts espdesk-sim (next to the running espdesk, else on PATH)
 * as a Sonoff Basic R2 (ESP8285, 1 MB, no auto-reset) on a fresh flash file holding the demo
 * firmware (`espdesk-sim make-firmware --demo`), in a private temporary directory, and acts on
 * the simulated board through its control socket: the GPIO0 button, power, and the failure
 * scenarios. ui_demo_stop() stops the simulator and removes the directory.
 * ESPDESK_DEMO_FLASH=4MB makes the board an ESP8266EX with a 4 MB W25Q32 instead (a bigger
 * board to restore a 1 MB dump to; the tests use it).
 *
 * Ownership: struct ui_demo is the caller's. Errors: RC_ERR_IO / RC_ERR_ARG with a cause
 * (caller frees) naming what failed and what to do.
 */
#ifndef ESPDESK_UI_DEMO_H
#define ESPDESK_UI_DEMO_H

#include <sys/types.h>

struct ui_demo {
	pid_t pid;
	char dir[256];
	char port[300];    /* the pty's stable link */
	char ctl[300];     /* the control socket */
	char flash[300];   /* the simulated flash file */
	char sim[1024];    /* the espdesk-sim binary */
	int gpio0_down;
	int big;           /* ESP8266EX, 4 MB (ESPDESK_DEMO_FLASH=4MB) instead of the ESP8285 */
};

/* The failure scenarios the demo keys trigger. */
enum ui_demo_fault {
	UI_DEMO_HEALTHY,       /* the demo firmware again, normal application */
	UI_DEMO_EXCEPTION,     /* exception loop */
	UI_DEMO_WDT,           /* watchdog loop */
	UI_DEMO_FLASH_MODE,    /* QIO image on an ESP8285 (DOUT only): csum err */
	UI_DEMO_RF_DATA,       /* esp_init_data erased: rf_cal[0] != 0x05 */
};

int ui_demo_start(struct ui_demo *d, char **cause);
void ui_demo_stop(struct ui_demo *d);
/* Sends one control command; *reply (may be NULL) gets the reply line (caller frees). */
int ui_demo_ctl(struct ui_demo *d, const char *cmd, char **reply, char **cause);
/* Presses or releases the GPIO0 button (takes effect at the next power-on). */
int ui_demo_gpio0(struct ui_demo *d, int down, char **cause);
int ui_demo_power_cycle(struct ui_demo *d, char **cause);
/* Puts the scenario in place (rewriting the flash where it needs another image) and
 * power-cycles the board. */
int ui_demo_fault(struct ui_demo *d, enum ui_demo_fault f, char **cause);
const char *ui_demo_fault_name(enum ui_demo_fault f);

#endif
