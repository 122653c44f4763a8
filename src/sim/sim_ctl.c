#include "config.h"

#include "sim/sim_ctl.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define CTL_HELP "commands: power on|off|cycle, gpio0 down|up, reset, strap gpio2|gpio15 " \
	"low|high, scenario none|exception|soft-wdt|hw-wdt|brownout, unplug, plug, status, help"

static const char *const scenarios[] = {
	[SIM_SCN_NONE] = "none", [SIM_SCN_EXCEPTION] = "exception", [SIM_SCN_SOFT_WDT] = "soft-wdt",
	[SIM_SCN_HW_WDT] = "hw-wdt", [SIM_SCN_BROWNOUT] = "brownout",
};

char *
sim_ctl_exec(struct sim_dev *d, const char *line, int64_t now_us, const struct sim_ctl_ops *ops,
    void *arg)
{
	char *copy = xstrdup(line), *save = NULL, *w[4] = { NULL, NULL, NULL, NULL }, *reply = NULL;
	char st[512];
	int n = 0;

	for (char *t = strtok_r(copy, " \t\r\n", &save); t != NULL; t = strtok_r(NULL, " \t\r\n", &save))
		if (n < 4)
			w[n++] = t;
		else
			n++;
	if (n == 0 || w[0][0] == '#')
		goto out;
#define IS(i, s) (w[i] != NULL && strcmp(w[i], (s)) == 0)
	if (IS(0, "power") && n == 2 && (IS(1, "on") || IS(1, "off") || IS(1, "cycle"))) {
		if (IS(1, "off") || IS(1, "cycle"))
			sim_dev_power(d, 0, now_us);
		if (IS(1, "on") || IS(1, "cycle"))
			sim_dev_power(d, 1, now_us);
		reply = xfmt("ok power %s", w[1]);
	} else if (IS(0, "gpio0") && n == 2 && (IS(1, "down") || IS(1, "up"))) {
		sim_dev_set_button(d, IS(1, "down"));
		reply = xfmt("ok gpio0 %s", w[1]);
	} else if (IS(0, "reset") && n == 1) {
		sim_dev_reset(d, now_us);
		reply = xstrdup("ok reset");
	} else if (IS(0, "strap") && n == 3 && (IS(1, "gpio2") || IS(1, "gpio15")) &&
	    (IS(2, "low") || IS(2, "high"))) {
		sim_dev_set_strap(d, IS(1, "gpio2") ? 2 : 15, IS(2, "high"));
		reply = xfmt("ok strap %s %s (sampled at the next hardware reset)", w[1], w[2]);
	} else if (IS(0, "scenario") && n == 2) {
		for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++)
			if (IS(1, scenarios[i])) {
				sim_dev_set_scenario(d, (enum sim_scenario)i);
				reply = xfmt("ok scenario %s", w[1]);
			}
		if (reply == NULL)
			reply = xfmt("error unknown scenario '%s': use none, exception, soft-wdt, "
			    "hw-wdt or brownout", w[1]);
	} else if (IS(0, "unplug") && n == 1) {
		if (ops != NULL && ops->unplug != NULL)
			ops->unplug(arg);
		reply = xstrdup("ok unplugged");
	} else if (IS(0, "plug") && n == 1) {
		char *err = NULL;

		if (ops != NULL && ops->plug != NULL && ops->plug(arg, &err) != 0) {
			reply = xfmt("error plug: %s", err ? err : "failed");
			free(err);
		} else
			reply = xstrdup("ok plugged");
	} else if (IS(0, "status") && n == 1) {
		sim_dev_status(d, st, sizeof st);
		reply = xfmt("ok %s%s%s", st, ops != NULL && ops->status != NULL ? " " : "",
		    ops != NULL && ops->status != NULL ? ops->status(arg) : "");
	} else if (IS(0, "help")) {
		reply = xstrdup("ok " CTL_HELP);
	} else
		reply = xfmt("error cannot parse '%s'; %s", line, CTL_HELP);
#undef IS
out:
	free(copy);
	/* The line is echoed in errors: keep the reply one printable line. */
	for (char *c = reply; c != NULL && *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7F)
			*c = '?';
	return reply;
}
