/*
 * jedec.h: SPI flash JEDEC ids: who made the chip and how big it says it is.
 *
 * The one table of manufacturer bytes, capacity codes and known parts (devices.md §5,
 * protocol.md §9.4), for the profile matcher, the flasher and the UI alike.
 *
 * An id here is always in JEDEC byte order, the order the chip sends its RDID answer:
 * 0xMMTTCC = manufacturer, memory type, capacity (Winbond W25Q32 = 0xEF4016). esptool prints
 * the same bytes as "Manufacturer: ef" and "Device: 4016". The ESP8266's SPI_W0 register, the
 * SDK's spi_flash_get_id() and Arduino's ESP.getFlashChipId() hold them little-endian
 * (0x1640EF); convert those with jedec_from_le(). All functions are pure and thread-safe.
 */
#ifndef ESPDESK_JEDEC_H
#define ESPDESK_JEDEC_H

#include <stddef.h>
#include <stdint.h>

#define JEDEC_MFR(id) ((uint8_t)(((id) >> 16) & 0xff))
#define JEDEC_TYPE(id) ((uint8_t)(((id) >> 8) & 0xff))
#define JEDEC_CAP(id) ((uint8_t)((id) & 0xff))

/* Converts the little-endian RDID word (SPI_W0, spi_flash_get_id()) to JEDEC order. */
uint32_t jedec_from_le(uint32_t word);
/* True when the id is what a flash that did not answer reads as (0x000000 or 0xFFFFFF). */
int jedec_is_blank(uint32_t id);
/* Vendor of a manufacturer byte ("Winbond"), or NULL when the references name none. */
const char *jedec_vendor_name(uint8_t mfr);
/*
 * The size the capacity code announces, in bytes, or 0 when the code is not in esptool's
 * tables (protocol.md §9.4, including the Adesto rule for manufacturer 0x1F). A vendor need
 * not follow the convention (espressif/esptool#218): treat the answer as a claim.
 */
uint32_t jedec_size(uint32_t id);
/* Part name of a complete id seen on ESP8266 boards ("W25Q32"), or NULL. */
const char *jedec_part_name(uint32_t id);
/* Writes "0xEF4016 Winbond W25Q32" (id, vendor, part when known) into buf; returns buf. */
char *jedec_name(uint32_t id, char *buf, size_t bufsize);
/*
 * Writes a one-line description into buf: "0xEF4016 Winbond W25Q32, 4 MB", "0x514014
 * (vendor unknown), 1 MB". Always NUL-terminates (bufsize > 0); returns buf.
 */
char *jedec_describe(uint32_t id, char *buf, size_t bufsize);
/* Formats a size as people write it: "512 KB", "1 MB", "3000 bytes". Returns buf. */
char *jedec_size_str(uint32_t size, char *buf, size_t bufsize);

#endif
