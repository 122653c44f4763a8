/* flasher_chip.c: decoding what the chip reports: eFuses (§8), crystal, JEDEC id (§9.4, via
 * profile/jedec.h). */
#include "config.h"

#include "flasher/flasher.h"

#include <stdio.h>
#include <string.h>

#include "profile/jedec.h"

/*
 * The flasher holds the RDID answer as the chip's SPI_W0 word (little-endian, manufacturer in
 * bits 7..0); the one JEDEC table lives in src/profile/jedec.c and works in JEDEC byte order.
 */
uint32_t
flasher_chip_jedec_size(uint32_t jedec)
{
	return jedec_size(jedec_from_le(jedec & 0xFFFFFF));
}

const char *
flasher_chip_jedec_vendor(uint32_t jedec)
{
	return jedec_vendor_name(JEDEC_MFR(jedec_from_le(jedec & 0xFFFFFF)));
}

int
flasher_chip_jedec_dead(uint32_t jedec)
{
	return jedec_is_blank(jedec);
}

int
flasher_chip_decode(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3,
    struct flasher_info *info)
{
	int r0_4 = (w0 >> 4) & 1, r3_25 = (w3 >> 25) & 1, r3_26 = (w3 >> 26) & 1;
	int r3_27 = (w3 >> 27) & 1;
	uint32_t oui;

	info->esp8285 = ((w0 >> 4) & 1) || ((w2 >> 16) & 1);
	if (info->esp8285) {
		int mb = 0;
		char t = (w0 >> 5) & 1 ? 'H' : 'N';

		if (r0_4 && !r3_25)
			mb = !r3_27 && !r3_26 ? 1 : !r3_27 && r3_26 ? 2 : 0;
		else if (!r0_4 && r3_25)
			mb = !r3_27 && !r3_26 ? 2 : !r3_27 && r3_26 ? 4 : 0;
		if (mb == 1 || mb == 2)
			snprintf(info->chip, sizeof info->chip, "ESP8285%c%s", t, mb == 1 ? "08" : "16");
		else
			snprintf(info->chip, sizeof info->chip, "ESP8285");
	} else
		snprintf(info->chip, sizeof info->chip, "ESP8266EX");
	info->chip_id = (w0 >> 24) | ((w1 & 0xFFFFFF) << 8);
	if (w3 != 0)
		oui = w3 & 0xFFFFFF;
	else if (((w1 >> 16) & 0xFF) == 0)
		oui = 0x18FE34;
	else if (((w1 >> 16) & 0xFF) == 1)
		oui = 0xACD074;
	else
		return RC_ERR_PROTO;
	info->mac[0] = (uint8_t)(oui >> 16);
	info->mac[1] = (uint8_t)(oui >> 8);
	info->mac[2] = (uint8_t)oui;
	info->mac[3] = (uint8_t)(w1 >> 8);
	info->mac[4] = (uint8_t)w1;
	info->mac[5] = (uint8_t)(w0 >> 24);
	return RC_OK;
}

int
flasher_chip_xtal(uint32_t clkdiv, int baud)
{
	double est = (double)baud * (clkdiv & 0xFFFFF) / 1e6 / 2;

	return est > 33 ? 40 : 26;
}
