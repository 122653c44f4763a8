/* flasher_ident.c: who is on the other end: magic register, eFuses, crystal (§8), JEDEC (§9). */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "serial/ser.h"

#define REG_UART_CLKDIV 0x60000014u
#define SPI_CMD 0x60000200u
#define SPI_USR 0x6000021Cu
#define SPI_USR1 0x60000220u
#define SPI_USR2 0x60000224u
#define SPI_W0 0x60000240u
#define SPI_CMD_USR (1u << 18)

static int
fail(struct flasher *f, int rc, char *dev_cause, const char *what, char **cause)
{
	if (rc == RC_ERR_DEVICE && dev_cause != NULL)
		*cause = xfmt("%s: %s while %s", f->o.port, dev_cause, what);
	else
		*cause = flasher_io_cause(f, rc, what);
	free(dev_cause);
	return rc;
}

int
flasher_ident_chip(struct flasher *f, char **cause)
{
	static const uint32_t efuse[4] = { 0x3FF00050u, 0x3FF00054u, 0x3FF00058u, 0x3FF0005Cu };
	uint32_t magic, w[4], clkdiv;
	char *c = NULL;
	int rc;

	*cause = NULL;
	flasher_emit(f, FLASHER_PH_IDENT, 0, 0, 0, NULL);
	if ((rc = flasher_io_read_reg(f, ROM_MAGIC_REG, &magic, &c)) < 0)
		return fail(f, rc, c, "reading the chip's magic register", cause);
	if (magic != ROM_MAGIC_ESP8266) {
		*cause = xfmt("%s: this chip is not an ESP8266 or ESP8285 (magic register 0x%08x, "
		    "expected 0x%08x); espdesk flashes only those", f->o.port, magic, ROM_MAGIC_ESP8266);
		return RC_ERR_PROTO;
	}
	/* esptool's order: 5C, 58, 54, 50 (§5.2). */
	for (int i = 3; i >= 0; i--)
		if ((rc = flasher_io_read_reg(f, efuse[i], &w[i], &c)) < 0)
			return fail(f, rc, c, "reading the eFuses", cause);
	if (flasher_chip_decode(w[0], w[1], w[2], w[3], &f->info) < 0) {
		*cause = xfmt("%s: the eFuses name an unknown MAC OUI (words %08x %08x %08x %08x); "
		    "the chip may be a clone", f->o.port, w[0], w[1], w[2], w[3]);
		return RC_ERR_PROTO;
	}
	if ((rc = flasher_io_read_reg(f, REG_UART_CLKDIV, &clkdiv, &c)) < 0)
		return fail(f, rc, c, "reading the crystal divider", cause);
	f->info.xtal_mhz = flasher_chip_xtal(clkdiv, ser_get_baud(f->ser));
	return RC_OK;
}

/* RDID through the SPI user-command registers, exactly as esptool does it (§9.2). */
int
flasher_ident_flash(struct flasher *f, char **cause)
{
	uint32_t usr, usr2, cmd = SPI_CMD_USR, id = 0;
	char *c = NULL;
	int rc, i;

	*cause = NULL;
	if ((rc = flasher_io_read_reg(f, SPI_USR, &usr, &c)) < 0 ||
	    (rc = flasher_io_read_reg(f, SPI_USR2, &usr2, &c)) < 0 ||
	    (rc = flasher_io_write_reg(f, SPI_USR1, 23u << 8, &c)) < 0 ||
	    (rc = flasher_io_write_reg(f, SPI_USR, 0x90000000u, &c)) < 0 ||
	    (rc = flasher_io_write_reg(f, SPI_USR2, 0x7000009Fu, &c)) < 0 ||
	    (rc = flasher_io_write_reg(f, SPI_W0, 0, &c)) < 0 ||
	    (rc = flasher_io_write_reg(f, SPI_CMD, SPI_CMD_USR, &c)) < 0)
		return fail(f, rc, c, "asking the flash for its JEDEC id", cause);
	for (i = 0; i < 10 && (cmd & SPI_CMD_USR); i++)
		if ((rc = flasher_io_read_reg(f, SPI_CMD, &cmd, &c)) < 0)
			return fail(f, rc, c, "waiting for the SPI command", cause);
	if (cmd & SPI_CMD_USR) {
		*cause = xfmt("%s: the SPI command did not complete in time: the flash chip is not "
		    "answering; check its 3.3 V supply and wiring", f->o.port);
		return RC_ERR_DEVICE;
	}
	if ((rc = flasher_io_read_reg(f, SPI_W0, &id, &c)) < 0 ||
	    (rc = flasher_io_write_reg(f, SPI_USR, usr, &c)) < 0 ||
	    (rc = flasher_io_write_reg(f, SPI_USR2, usr2, &c)) < 0)
		return fail(f, rc, c, "reading the JEDEC id", cause);
	f->info.jedec = id & 0xFFFFFF;
	f->info.flash_size = flasher_chip_jedec_size(id);
	f->info.vendor = flasher_chip_jedec_vendor(id);
	return RC_OK;
}
