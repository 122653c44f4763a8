/* flasher_rx.c: the receive side's push parser: port bytes in, whole SLIP frames out. */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

static void
rx_push(struct flasher_rx *rx, const uint8_t *data, size_t len, int bad)
{
	uint8_t hdr[4];

	wr_le32(hdr, (uint32_t)len | (bad ? 0x80000000u : 0));
	buf_add(&rx->q, hdr, 4);
	if (len > 0)
		buf_add(&rx->q, data, len);
}

static void
rx_event(void *arg, enum slip_event ev, const uint8_t *data, size_t len)
{
	struct flasher_rx *rx = arg;

	switch (ev) {
	case SLIP_EV_FRAME:
		rx_push(rx, data, len, 0);
		break;
	case SLIP_EV_NOISE:
		rx->noise += len;
		log_hex("flasher: noise", data, len);
		break;
	case SLIP_EV_BAD_ESCAPE:
	case SLIP_EV_OVERSIZE:
		rx->bad++;
		rx_push(rx, data, len, 1);
		break;
	}
}

void
flasher_rx_init(struct flasher_rx *rx)
{
	memset(rx, 0, sizeof *rx);
	slip_decoder_init(&rx->dec, FLASHER_RX_MAX_FRAME);
	buf_init(&rx->q);
}

void
flasher_rx_free(struct flasher_rx *rx)
{
	slip_decoder_free(&rx->dec);
	buf_free(&rx->q);
	free(rx->cur);
	rx->cur = NULL;
}

void
flasher_rx_reset(struct flasher_rx *rx)
{
	slip_decoder_reset(&rx->dec);
	buf_reset(&rx->q);
}

void
flasher_rx_feed(struct flasher_rx *rx, const void *data, size_t len)
{
	slip_decoder_feed(&rx->dec, data, len, rx_event, rx);
}

int
flasher_rx_next(struct flasher_rx *rx, const uint8_t **data, size_t *len, int *bad)
{
	uint32_t w;
	size_t n;

	if (buf_len(&rx->q) < 4)
		return 0;
	w = rd_le32(buf_head(&rx->q));
	n = w & 0x7FFFFFFFu;
	buf_drain(&rx->q, 4);
	if (n + 1 > rx->cur_cap) {
		rx->cur = xreallocarray(rx->cur, 1, n + 1);
		rx->cur_cap = n + 1;
	}
	if (n > 0) {
		memcpy(rx->cur, buf_head(&rx->q), n);
		buf_drain(&rx->q, n);
	}
	*data = rx->cur;
	*len = n;
	*bad = (w >> 31) != 0;
	return 1;
}
