/*
 * ser_list.c: the serial ports on this machine, and the names of the USB-serial bridge chips
 * that ESP8266 boards and adapters carry, so a person can tell "the CH340 one" from the rest.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "serial/ser_int.h"

static const struct {
	uint16_t vid, pid;
	const char *name;
} ser_bridges[] = {
	{ 0x0403, 0x6001, "FTDI FT232R" },
	{ 0x0403, 0x6010, "FTDI FT2232" },
	{ 0x0403, 0x6011, "FTDI FT4232H" },
	{ 0x0403, 0x6014, "FTDI FT232H" },
	{ 0x0403, 0x6015, "FTDI FT231X" },
	{ 0x1a86, 0x7523, "CH340/CH341" },
	{ 0x1a86, 0x5523, "CH340/CH341" },
	{ 0x1a86, 0x7522, "CH340K" },
	{ 0x1a86, 0x55d3, "CH343" },
	{ 0x1a86, 0x55d4, "CH9102" },
	{ 0x10c4, 0xea60, "CP210x" },
	{ 0x10c4, 0xea70, "CP2105" },
	{ 0x10c4, 0xea71, "CP2108" },
	{ 0x067b, 0x2303, "PL2303" },
	{ 0x067b, 0x23a3, "PL2303GC" },
	{ 0x303a, 0x1001, "Espressif USB-Serial/JTAG" },
};

const char *
ser_bridge_name(int vid, int pid)
{
	for (size_t i = 0; i < ARRAY_SIZE(ser_bridges); i++) {
		if (ser_bridges[i].vid == vid && ser_bridges[i].pid == pid)
			return ser_bridges[i].name;
	}
	return NULL;
}

static int
ser_info_cmp(const void *a, const void *b)
{
	const struct ser_info *x = a, *y = b;

	/* USB adapters first (that is where the ESP is), then by name. */
	if ((x->usb_vid >= 0) != (y->usb_vid >= 0))
		return x->usb_vid >= 0 ? -1 : 1;
	return strcmp(x->path, y->path);
}

int
ser_list(struct ser_info **out, size_t *n, char **cause)
{
	int rc;

	*cause = NULL;
	rc = ser_sp_enumerate(out, n, cause);
	if (rc == RC_OK && *n > 1)
		qsort(*out, *n, sizeof **out, ser_info_cmp);
	return rc;
}

void
ser_list_free(struct ser_info *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(list[i].path);
		free(list[i].description);
		free(list[i].manufacturer);
		free(list[i].product);
		free(list[i].serial);
	}
	free(list);
}

char *
ser_list_names(void)
{
	struct ser_info *list;
	char *cause = NULL, *s;
	size_t n, len = 0;

	if (ser_list(&list, &n, &cause) != RC_OK) {
		s = xfmt("the ports could not be listed (%s)", cause);
		free(cause);
		return s;
	}
	if (n == 0)
		return xstrdup("no serial ports found; is the adapter plugged in? (`dmesg | tail`)");
	for (size_t i = 0; i < n; i++)
		len += strlen(list[i].path) + 2;
	s = xmalloc(len + 32);
	strcpy(s, "ports here: ");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, list[i].path);
	}
	ser_list_free(list, n);
	return s;
}
