/* flasher_deflate.c: the only file in src/flasher that includes zlib: level-9 compression of
 * the data FLASH_DEFL_DATA carries (a zlib stream, as esptool's zlib.compress(data, 9)). */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <zlib.h>

#include "core/xmalloc.h"

int
flasher_deflate(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	uLongf n = compressBound((uLong)len);
	uint8_t *buf = xmalloc(n ? n : 1);

	*out = NULL;
	*outlen = 0;
	if (compress2(buf, &n, in, (uLong)len, 9) != Z_OK) {
		free(buf);
		return RC_ERR_IO;
	}
	*out = buf;
	*outlen = n;
	return RC_OK;
}
