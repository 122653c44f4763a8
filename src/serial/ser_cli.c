/*
 * ser_cli.c: `espdesk list-ports`: which serial ports this machine has, with the USB identity
 * and bridge chip of each, so that a person can find the one the ESP is on.
 */
#include "config.h"

#include "serial/ser_cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "core/esc.h"

#define NO_PORTS_HINT "no serial ports found; is the adapter plugged in? (`dmesg | tail` shows " \
	"what the kernel saw when it was)"

/* A device string made safe for a terminal ("-" when unknown). Returns buf. */
static const char *
field(char *buf, size_t size, const char *s)
{
	if (s == NULL || *s == '\0')
		return "-";
	esc_bytes(buf, size, s, strlen(s), ESC_KEEP_UTF8);
	return buf;
}

static void
json_str(FILE *f, const char *key, const char *s, int first)
{
	char tmp[512];

	fprintf(f, "%s\"%s\":", first ? "" : ",", key);
	if (s == NULL) {
		fputs("null", f);
		return;
	}
	/* esc_bytes leaves only printable text (and valid UTF-8); JSON needs " and \ escaped. */
	esc_bytes(tmp, sizeof tmp, s, strlen(s), ESC_KEEP_UTF8);
	fputc('"', f);
	for (const char *p = tmp; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static int
print_json(FILE *f, const struct ser_info *l, size_t n)
{
	char vid[8], pid[8];

	for (size_t i = 0; i < n; i++) {
		int usb = l[i].usb_vid >= 0;

		snprintf(vid, sizeof vid, "%04x", usb ? l[i].usb_vid & 0xffff : 0);
		snprintf(pid, sizeof pid, "%04x", usb ? l[i].usb_pid & 0xffff : 0);
		fputc('{', f);
		json_str(f, "port", l[i].path, 1);
		json_str(f, "vid", usb ? vid : NULL, 0);
		json_str(f, "pid", usb ? pid : NULL, 0);
		json_str(f, "bridge", l[i].bridge, 0);
		json_str(f, "manufacturer", l[i].manufacturer, 0);
		json_str(f, "product", l[i].product, 0);
		json_str(f, "serial", l[i].serial, 0);
		json_str(f, "description", l[i].description, 0);
		fputs("}\n", f);
	}
	return ferror(f) ? -1 : 0;
}

static void
put_cell(FILE *f, const char *s, int width, int last)
{
	if (last)
		fprintf(f, "%s\n", s);
	else
		fprintf(f, "%-*s  ", width, s);
}

enum { C_PORT, C_ID, C_BRIDGE, C_MANUF, C_PRODUCT, C_SERIAL, C_N };

static int
print_table(FILE *f, const struct ser_info *l, size_t n)
{
	static const char *const head[C_N] = { "PORT", "VID:PID", "BRIDGE", "MANUFACTURER", "PRODUCT", "SERIAL" };
	char cell[C_N][128];
	int w[C_N];

	if (n == 0) {
		fprintf(f, "%s\n", NO_PORTS_HINT);
		return ferror(f) ? -1 : 0;
	}
	for (int c = 0; c < C_N; c++)
		w[c] = (int)strlen(head[c]);
	/* Two passes: widths first, then the rows. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (int c = 0; c < C_N; c++)
				put_cell(f, head[c], w[c], c + 1 == C_N);
		}
		for (size_t i = 0; i < n; i++) {
			char tmp[128];

			snprintf(cell[C_PORT], sizeof cell[0], "%s", field(tmp, sizeof tmp, l[i].path));
			if (l[i].usb_vid >= 0)
				snprintf(cell[C_ID], sizeof cell[0], "%04x:%04x", l[i].usb_vid & 0xffff,
				    l[i].usb_pid & 0xffff);
			else
				strcpy(cell[C_ID], "-");
			snprintf(cell[C_BRIDGE], sizeof cell[0], "%s", l[i].bridge ? l[i].bridge : "-");
			snprintf(cell[C_MANUF], sizeof cell[0], "%s", field(tmp, sizeof tmp, l[i].manufacturer));
			/* Ports that are not USB have only libserialport's description. */
			snprintf(cell[C_PRODUCT], sizeof cell[0], "%s", field(tmp, sizeof tmp,
			    l[i].product ? l[i].product : l[i].description));
			snprintf(cell[C_SERIAL], sizeof cell[0], "%s", field(tmp, sizeof tmp, l[i].serial));
			for (int c = 0; c < C_N; c++) {
				if (pass == 0) {
					if ((int)strlen(cell[c]) > w[c])
						w[c] = (int)strlen(cell[c]);
				} else
					put_cell(f, cell[c], w[c], c + 1 == C_N);
			}
		}
	}
	return ferror(f) ? -1 : 0;
}

int
ser_cli_print(FILE *f, const struct ser_info *list, size_t n, int json)
{
	return json ? print_json(f, list, n) : print_table(f, list, n);
}

static int
list_ports_run(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct ser_info *list;
	char *cause = NULL;
	size_t n;
	int c, r;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		r = cli_common_opt(&cli_cmd_list_ports, c, optarg);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r == 0)
			return cli_usage_error(&cli_cmd_list_ports, "unknown option");
	}
	if (optind < argc)
		return cli_usage_error(&cli_cmd_list_ports, "unexpected argument '%s'", argv[optind]);
	if (ser_list(&list, &n, &cause) != RC_OK) {
		fprintf(stderr, "espdesk list-ports: %s\n", cause);
		free(cause);
		return CLI_EXIT_FAIL;
	}
	if (cli_common.json && n == 0)
		fprintf(stderr, "espdesk list-ports: %s\n", NO_PORTS_HINT);
	r = ser_cli_print(stdout, list, n, cli_common.json);
	ser_list_free(list, n);
	if (r != 0 || fflush(stdout) != 0) {
		perror("espdesk list-ports: writing the list");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_list_ports = {
	.name = "list-ports",
	.synopsis = "[--json]",
	.summary = "list the serial ports with their USB identity and bridge chip",
	.help = "Shows every serial port libserialport finds: USB adapters first, with VID:PID,\n"
	    "manufacturer, product, serial number and the bridge chip (FTDI, CH340, CP210x, PL2303).\n"
	    "Pseudo-terminals (espdesk-sim) are not listed; give their path to -p directly.\n",
	.run = list_ports_run,
};
