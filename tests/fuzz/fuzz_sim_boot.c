/*
 * libFuzzer target: the simulated chip's boot model must plan a boot for any flash contents,
 * straps, crystal, chip and scenario, and never crash or read outside the flash.
 *
 * Input: byte 0 = straps and options (bit 0 GPIO0, bit 1 GPIO2, bit 2 GPIO15, bit 3 ESP8285,
 * bit 4 40 MHz crystal, bits 5-7 scenario), byte 1 = reset cause (low 2 bits: 1, 2, 4) and
 * flash size (bits 4-5: 64 KB, 256 KB, 512 KB, 1 MB), then records `offset (3 bytes LE),
 * length (2 bytes LE), data` written into an erased flash (offsets wrap at its size). The same
 * bytes also go through the app-script parser directly.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "sim/sim_app.h"
#include "sim/sim_boot.h"

static size_t
touch(const struct sim_step *s, size_t n)
{
	size_t t = 0;

	/* Read every byte so ASan sees an overrun; check the invariants the core relies on. */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < s[i].len; k++)
			t += (uint8_t)s[i].text[k];
		if (s[i].text[s[i].len] != '\0' || s[i].baud == 0)
			abort();
	}
	return t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sizes[4] = { 64 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024 };
	static const enum sim_rst_cause causes[4] = { SIM_RST_POWERON, SIM_RST_EXTERNAL, SIM_RST_WDT,
		SIM_RST_EXTERNAL };
	struct sim_boot_env env;
	struct sim_boot_plan plan;
	struct sim_app app;
	struct sim_app_parser p;
	static uint8_t *big;
	uint8_t *flash;
	size_t at = 2, total = 0;

	if (size < 2)
		return 0;
	memset(&env, 0, sizeof env);
	env.gpio0 = data[0] & 1;
	env.gpio2 = (data[0] >> 1) & 1;
	env.gpio15 = (data[0] >> 2) & 1;
	env.esp8285 = (data[0] >> 3) & 1;
	env.xtal_hz = data[0] & 0x10 ? 40000000 : 26000000;
	env.scenario = (enum sim_scenario)((data[0] >> 5) % 5);
	env.rst_cause = causes[data[1] & 3];
	env.flash_size = sizes[(data[1] >> 4) & 3];
	env.boot_count = 1;
	/* One buffer for every run: allocating 1 MB per input made the replay slow under ASan. */
	if (big == NULL && (big = malloc(1024 * 1024)) == NULL)
		return 0;
	flash = big;
	memset(flash, 0xFF, env.flash_size);
	while (at + 5 <= size) {
		uint32_t off = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 | (uint32_t)data[at + 2] << 16;
		size_t len = (size_t)data[at + 3] | (size_t)data[at + 4] << 8;

		at += 5;
		if (len > size - at)
			len = size - at;
		for (size_t i = 0; i < len; i++)
			flash[(off + i) % env.flash_size] = data[at + i];
		at += len;
	}
	env.flash = flash;
	sim_boot_plan(&env, &plan);
	if (plan.next == SIM_NEXT_APP_LOOP || plan.nsteps > 0)
		total += touch(plan.steps, plan.nsteps) + touch(plan.loop, plan.nloop);
	sim_boot_plan_free(&plan);

	sim_app_init(&app);
	sim_app_parser_init(&p, &app);
	sim_app_parser_feed(&p, data, size);
	sim_app_parser_finish(&p);
	total += app.nstart + app.nloop;
	sim_app_free(&app);
	return total == (size_t)-1;
}
