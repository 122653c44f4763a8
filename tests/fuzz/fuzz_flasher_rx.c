/* libFuzzer target: the flasher's receive path (SLIP frames out of any byte stream, in any
 * chunking, each parsed as a ROM/stub response) must survive anything the port delivers. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "flasher/flasher_int.h"
#include "fuzz/fuzz.h"
#include "rom/rom_proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flasher_rx rx;
	size_t off = 0, total = 0;
	size_t chunk = size ? (size_t)data[0] % 23 + 1 : 1;

	flasher_rx_init(&rx);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		const uint8_t *d;
		size_t len;
		int bad;

		flasher_rx_feed(&rx, data + off, n);
		off += n;
		while (flasher_rx_next(&rx, &d, &len, &bad)) {
			struct rom_proto_resp r;

			for (size_t i = 0; i < len; i++)
				total += d[i];
			if (!bad && rom_proto_resp_parse(d, len, &r, NULL) == 0) {
				for (size_t i = 0; i < r.data_len; i++)
					total += r.data[i];
				total += (size_t)rom_proto_resp_failed(&r);
			}
		}
		if (data[off - 1] == 0x55)
			flasher_rx_reset(&rx);
	}
	flasher_rx_free(&rx);
	return total == (size_t)-1;
}
