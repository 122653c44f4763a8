/* The one file in src/image that includes zlib.h: the v2 image CRC is zlib's CRC-32. */
#include "config.h"

#include "image/image.h"

#include <zlib.h>

uint32_t
image_v2_crc(const uint8_t *p, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	/* crc32() takes a uInt length; feed large inputs in pieces. */
	while (len > 0) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;

		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	/* §12.6: if bit 31 is set, the complement; otherwise plus one. */
	return (c & 0x80000000u) ? (uint32_t)(c ^ 0xFFFFFFFFu) : (uint32_t)(c + 1);
}
