/*
 * stub.c: the flasher stub's command handling, freestanding (see stub.h for the design).
 *
 * The behaviour follows protocol.md's account of esptool's ESP8266 stub: reply [error, status]
 * first, then do the slow part (write a block, change the baud, leave); a FLASH_DATA block's
 * write error is therefore reported in the reply to the next block; the flash is erased lazily,
 * just ahead of each write, in 64 KB blocks where aligned and 4 KB sectors elsewhere. Two
 * things esptool's stub does not do, invisible on the wire: a compressed block's output is
 * programmed in whole 256-byte pages as soon as the block is decoded (a partial page waits for
 * the next block), and a page piece that is all 0xFF is not programmed (it was just erased).
 *
 * The opcodes and error codes are the ones in rom/rom_proto.h. The stub cannot include that
 * header's module (it is freestanding and links nothing), so it names them again below;
 * tests/test_stub.c checks that both lists agree.
 *
 * No config.h here (unlike the house rule): this file is also cross-compiled for the chip, where
 * the host's configure results do not apply. Likewise it has its own few-line SLIP codec
 * instead of rom/slip.c, which allocates with xmalloc and queues into a struct buf.
 */
#include "stub/stub.h"

enum {
	OP_FLASH_BEGIN = 0x02, OP_FLASH_DATA = 0x03, OP_FLASH_END = 0x04,
	OP_MEM_BEGIN = 0x05, OP_MEM_END = 0x06, OP_MEM_DATA = 0x07,
	OP_SYNC = 0x08, OP_WRITE_REG = 0x09, OP_READ_REG = 0x0A,
	OP_SPI_SET_PARAMS = 0x0B, OP_SPI_ATTACH = 0x0D, OP_CHANGE_BAUDRATE = 0x0F,
	OP_FLASH_DEFL_BEGIN = 0x10, OP_FLASH_DEFL_DATA = 0x11, OP_FLASH_DEFL_END = 0x12,
	OP_SPI_FLASH_MD5 = 0x13, OP_ERASE_FLASH = 0xD0, OP_ERASE_REGION = 0xD1,
	OP_READ_FLASH = 0xD2, OP_RUN_USER_CODE = 0xD3,
};

enum {
	E_OK = 0x00, E_BAD_DATA_LEN = 0xC0, E_BAD_DATA_CHECKSUM = 0xC1, E_BAD_BLOCKSIZE = 0xC2,
	E_INVALID_COMMAND = 0xC3, E_FAILED_SPI_OP = 0xC4, E_FAILED_SPI_UNLOCK = 0xC5,
	E_NOT_IN_FLASH_MODE = 0xC6, E_INFLATE_ERROR = 0xC7, E_NOT_ENOUGH_DATA = 0xC8,
	E_TOO_MUCH_DATA = 0xC9, E_CMD_NOT_IMPLEMENTED = 0xFF,
};

enum { RX_OUTSIDE, RX_INSIDE, RX_ESCAPED, RX_BAD };

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SECTORS_PER_BLOCK (STUB_BLOCK / STUB_SECTOR)

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* ---- SLIP output ---- */

static void
tx_delim(struct stub *s)
{
	static const uint8_t end = SLIP_END;

	s->hal->uart_tx(s->hal->ctx, &end, 1);
}

/* Sends data escaped, without delimiters, through a small stack buffer. */
static void
tx_escaped(struct stub *s, const uint8_t *data, uint32_t len)
{
	uint8_t buf[128];
	uint32_t n = 0;

	for (uint32_t i = 0; i < len; i++) {
		if (n + 2 > sizeof buf) {
			s->hal->uart_tx(s->hal->ctx, buf, n);
			n = 0;
		}
		if (data[i] == SLIP_END) {
			buf[n++] = SLIP_ESC;
			buf[n++] = 0xDC;
		} else if (data[i] == SLIP_ESC) {
			buf[n++] = SLIP_ESC;
			buf[n++] = 0xDD;
		} else
			buf[n++] = data[i];
	}
	if (n > 0)
		s->hal->uart_tx(s->hal->ctx, buf, n);
}

static void
send_frame(struct stub *s, const uint8_t *data, uint32_t len)
{
	tx_delim(s);
	tx_escaped(s, data, len);
	tx_delim(s);
}

/* One whole response: header, optional data, status bytes [error, 0]. */
static void
reply(struct stub *s, uint8_t op, uint32_t value, const uint8_t *data, uint32_t len, uint8_t error)
{
	uint8_t hdr[8], st[2];

	hdr[0] = 0x01;
	hdr[1] = op;
	hdr[2] = (uint8_t)(len + 2);
	hdr[3] = (uint8_t)((len + 2) >> 8);
	wr32(hdr + 4, value);
	st[0] = error;
	st[1] = 0;
	tx_delim(s);
	tx_escaped(s, hdr, 8);
	if (len > 0)
		tx_escaped(s, data, len);
	tx_escaped(s, st, 2);
	tx_delim(s);
}

/* ---- flash writing ---- */

/* Programs len bytes at any address: the HAL only sees 4-byte aligned words; pad bytes are 0xFF,
 * which a program operation leaves unchanged. */
static int
program(struct stub *s, uint32_t addr, const uint8_t *data, uint32_t len)
{
	const struct stub_hal *h = s->hal;
	union {
		uint8_t b[4];
		uint32_t align_; /* the chip's SPIWrite wants a word-aligned source */
	} u;
	uint8_t *w = u.b;
	uint32_t head = addr & 3u, n, i;

	if (head != 0 && len > 0) {
		n = 4 - head < len ? 4 - head : len;
		for (i = 0; i < 4; i++)
			w[i] = 0xFF;
		for (i = 0; i < n; i++)
			w[head + i] = data[i];
		if (h->flash_write(h->ctx, addr - head, w, 4) != 0)
			return -1;
		addr += n;
		data += n;
		len -= n;
	}
	n = len & ~3u;
	if (n > 0 && h->flash_write(h->ctx, addr, data, n) != 0)
		return -1;
	addr += n;
	data += n;
	len -= n;
	if (len > 0) {
		for (i = 0; i < 4; i++)
			w[i] = i < len ? data[i] : 0xFF;
		if (h->flash_write(h->ctx, addr, w, 4) != 0)
			return -1;
	}
	return 0;
}

static uint32_t
page_piece(uint32_t addr, uint32_t len)
{
	uint32_t n = STUB_PAGE - addr % STUB_PAGE;

	return n < len ? n : len;
}

static int
all_ff(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return 0;
	return 1;
}

/* Programs data, leaving out the pieces of a page that are all 0xFF: every sector of a session
 * is erased just before it is written, so they read 0xFF already, and each one left out saves a
 * page program cycle. Neighbouring pieces that are not blank go in one call. */
static int
program_data(struct stub *s, uint32_t addr, const uint8_t *data, uint32_t len)
{
	while (len > 0) {
		uint32_t n = page_piece(addr, len), m;

		if (all_ff(data, n)) {
			addr += n;
			data += n;
			len -= n;
			continue;
		}
		while (n < len && !all_ff(data + n, m = page_piece(addr + n, len - n)))
			n += m;
		if (program(s, addr, data, n) != 0)
			return -1;
		addr += n;
		data += n;
		len -= n;
	}
	return 0;
}

/* Writes the next len bytes of the session, erasing just far enough ahead first. */
static void
flash_data(struct stub *s, const uint8_t *data, uint32_t len)
{
	const struct stub_hal *h = s->hal;
	uint8_t res = E_OK;
	uint32_t last_sector;

	if (len > s->remaining)
		len = s->remaining; /* the last block carries padding past the end */
	if (len == 0)
		return;
	last_sector = (s->next_write + len) / STUB_SECTOR;
	while (res == E_OK && s->remaining_erase_sectors > 0 && s->next_erase_sector <= last_sector) {
		if (s->next_erase_sector % SECTORS_PER_BLOCK == 0 &&
		    s->remaining_erase_sectors >= SECTORS_PER_BLOCK) {
			if (h->flash_erase_block(h->ctx, s->next_erase_sector / SECTORS_PER_BLOCK) != 0)
				res = E_FAILED_SPI_OP;
			s->next_erase_sector += SECTORS_PER_BLOCK;
			s->remaining_erase_sectors -= SECTORS_PER_BLOCK;
		} else {
			if (h->flash_erase_sector(h->ctx, s->next_erase_sector) != 0)
				res = E_FAILED_SPI_OP;
			s->next_erase_sector++;
			s->remaining_erase_sectors--;
		}
	}
	if (res == E_OK && program_data(s, s->next_write, data, len) != 0)
		res = E_FAILED_SPI_OP;
	s->next_write += len;
	s->remaining -= len;
	if (s->last_error == E_OK && res != E_OK)
		s->last_error = res;
}

/* Passes inflated bytes on in whole flash pages; a partial last page waits in s->pg for the
 * rest of it, or for the end of the session's data. */
static void
paged_data(struct stub *s, const uint8_t *data, uint32_t len)
{
	while (len > 0) {
		uint32_t at = s->next_write + s->pg_len, n;

		if (s->pg_len == 0 && at % STUB_PAGE == 0 && len >= STUB_PAGE) {
			n = len & ~(STUB_PAGE - 1);
			flash_data(s, data, n);
		} else {
			n = page_piece(at, len);
			for (uint32_t i = 0; i < n; i++)
				s->pg[s->pg_len + i] = data[i];
			s->pg_len += n;
			if ((at + n) % STUB_PAGE == 0) {
				flash_data(s, s->pg, s->pg_len);
				s->pg_len = 0;
			}
		}
		data += n;
		len -= n;
	}
	if (s->pg_len > 0 && s->pg_len >= s->remaining) {
		flash_data(s, s->pg, s->pg_len);
		s->pg_len = 0;
	}
}

static int
inflate_out(void *arg, const uint8_t *data, uint32_t len)
{
	struct stub *s = arg;
	uint32_t room = s->remaining - s->pg_len;

	if (len > room) {
		paged_data(s, data, room);
		s->overflow = 1;
		return 1;
	}
	paged_data(s, data, len);
	return 0;
}

static void
flash_deflated_data(struct stub *s, const uint8_t *data, uint32_t len)
{
	size_t used = 0;
	int rc = stub_inflate_feed(&s->inflate, data, len, &used, inflate_out, s);

	/* Program what this block decoded now, not when the 32 KB window fills: the flash then
	 * works in step with the blocks, which keeps it busy while the next ones arrive. */
	if (rc == STUB_INFLATE_MORE && stub_inflate_flush(&s->inflate, inflate_out, s) != 0)
		rc = STUB_INFLATE_ERR_OUTPUT;
	if (rc == STUB_INFLATE_DONE && s->pg_len > 0) {
		flash_data(s, s->pg, s->pg_len);
		s->pg_len = 0;
	}

	s->remaining_compressed -= used < s->remaining_compressed ? (uint32_t)used :
	    s->remaining_compressed;
	/* As esptool's stub: the error shows in the reply to the next command. */
	if (s->last_error != E_OK)
		return;
	if (rc == STUB_INFLATE_ERR_OUTPUT && s->overflow)
		s->last_error = E_TOO_MUCH_DATA;
	else if (rc < 0)
		s->last_error = E_INFLATE_ERROR;
	else if (rc == STUB_INFLATE_DONE && s->remaining > 0)
		s->last_error = E_NOT_ENOUGH_DATA;
}

static uint8_t
flash_begin(struct stub *s, uint32_t total, uint32_t offset, int compressed, uint32_t zsize)
{
	const struct stub_hal *h = s->hal;
	uint32_t head = offset % STUB_SECTOR;

	s->in_flash_mode = 1;
	s->compressed = (uint8_t)compressed;
	s->next_write = offset;
	s->remaining = total;
	s->remaining_compressed = zsize;
	s->next_erase_sector = offset / STUB_SECTOR;
	/* ceil((head + total) / 4096) without overflowing 32 bits. */
	s->remaining_erase_sectors = total / STUB_SECTOR +
	    (head + total % STUB_SECTOR + STUB_SECTOR - 1) / STUB_SECTOR;
	s->last_error = E_OK;
	s->overflow = 0;
	s->pg_len = 0;
	if (compressed)
		stub_inflate_init(&s->inflate);
	if (h->flash_unlock != 0 && h->flash_unlock(h->ctx) != 0)
		return E_FAILED_SPI_UNLOCK;
	return E_OK;
}

static uint8_t
flash_end(struct stub *s)
{
	if (!s->in_flash_mode)
		return E_NOT_IN_FLASH_MODE;
	if (s->remaining > 0)
		return E_NOT_ENOUGH_DATA;
	s->in_flash_mode = 0;
	return s->last_error;
}

/* ERASE_REGION: sectors up to a 64 KB boundary, whole blocks, then the remaining sectors. */
static uint8_t
erase_region(struct stub *s, uint32_t addr, uint32_t len)
{
	const struct stub_hal *h = s->hal;

	if (addr % STUB_SECTOR != 0 || len % STUB_SECTOR != 0)
		return E_BAD_DATA_LEN;
	if (h->flash_unlock != 0 && h->flash_unlock(h->ctx) != 0)
		return E_FAILED_SPI_UNLOCK;
	while (len > 0 && addr % STUB_BLOCK != 0) {
		if (h->flash_erase_sector(h->ctx, addr / STUB_SECTOR) != 0)
			return E_FAILED_SPI_OP;
		addr += STUB_SECTOR;
		len -= STUB_SECTOR;
	}
	while (len >= STUB_BLOCK) {
		if (h->flash_erase_block(h->ctx, addr / STUB_BLOCK) != 0)
			return E_FAILED_SPI_OP;
		addr += STUB_BLOCK;
		len -= STUB_BLOCK;
	}
	while (len > 0) {
		if (h->flash_erase_sector(h->ctx, addr / STUB_SECTOR) != 0)
			return E_FAILED_SPI_OP;
		addr += STUB_SECTOR;
		len -= STUB_SECTOR;
	}
	return E_OK;
}

/* MD5 of len flash bytes at addr, read through the scratch buffer. */
static uint8_t
flash_md5(struct stub *s, uint32_t addr, uint32_t len, uint8_t digest[16])
{
	const struct stub_hal *h = s->hal;
	uint8_t res = E_OK;

	h->md5_init(h->ctx, &s->md5);
	while (len > 0) {
		uint32_t n = len < STUB_SCRATCH ? len : STUB_SCRATCH;

		if (h->flash_read(h->ctx, addr, s->scratch, n) != 0) {
			res = E_FAILED_SPI_OP;
			break;
		}
		h->md5_update(h->ctx, &s->md5, s->scratch, n);
		addr += n;
		len -= n;
	}
	h->md5_final(h->ctx, &s->md5, digest);
	return res;
}

/* ---- commands ---- */

static uint8_t
check_data(const uint8_t *frame, uint32_t size)
{
	const uint8_t *d = frame + 8;
	uint8_t c = 0xEF;

	if (size < 16 || rd32(d) != size - 16)
		return E_BAD_DATA_LEN;
	for (uint32_t i = 16; i < size; i++)
		c ^= d[i];
	return rd32(frame + 4) == c ? E_OK : E_BAD_DATA_CHECKSUM;
}

static void
handle(struct stub *s, const uint8_t *frame, uint32_t len)
{
	const struct stub_hal *h = s->hal;
	const uint8_t *d = frame + 8;
	uint8_t op, err = E_CMD_NOT_IMPLEMENTED, digest[16];
	uint32_t size, value = 0, i, w[6];

	if (len < 8 || frame[0] != 0x00)
		return; /* not a command: noise or a stray ACK */
	op = frame[1];
	size = (uint32_t)frame[2] | ((uint32_t)frame[3] << 8);
	if (len > STUB_FRAME_MAX || size != len - 8) {
		/* Longer than the biggest block, or a size field that disagrees with the frame. */
		reply(s, op, 0, 0, 0, E_BAD_DATA_LEN);
		return;
	}
	for (i = 0; i < 6; i++)
		w[i] = size >= 4 * i + 4 ? rd32(d + 4 * i) : 0;

	switch (op) {
	case OP_SYNC:
		err = size == 36 ? E_OK : E_BAD_DATA_LEN;
		/* Eight replies, value 0: esptool reads value 0 as "stub already running". */
		for (i = 0; err == E_OK && i < 7; i++)
			reply(s, op, 0, 0, 0, E_OK);
		break;
	case OP_READ_REG:
		err = size == 4 ? E_OK : E_BAD_DATA_LEN;
		if (err == E_OK)
			value = h->reg_read(h->ctx, w[0]);
		break;
	case OP_WRITE_REG:
		/* Any number of (addr, value, mask, delay_us) records. */
		if (size % 16 != 0) {
			err = E_BAD_DATA_LEN;
			break;
		}
		for (i = 0; i < size; i += 16) {
			uint32_t a = rd32(d + i), v = rd32(d + i + 4), m = rd32(d + i + 8);
			uint32_t us = rd32(d + i + 12);

			h->reg_write(h->ctx, a, (h->reg_read(h->ctx, a) & ~m) | (v & m));
			if (us != 0 && h->delay_us != 0)
				h->delay_us(h->ctx, us);
		}
		err = E_OK;
		break;
	case OP_MEM_BEGIN:
		err = size == 16 ? E_OK : E_BAD_DATA_LEN;
		if (err == E_OK) {
			s->in_mem_mode = 1;
			s->mem_remaining = w[0];
			s->mem_addr = w[3];
		}
		break;
	case OP_MEM_DATA:
		if (!s->in_mem_mode) {
			err = E_NOT_IN_FLASH_MODE;
			break;
		}
		if ((err = check_data(frame, size)) != E_OK)
			break;
		if (w[0] > s->mem_remaining)
			err = E_TOO_MUCH_DATA;
		else if (h->mem_write == 0 || h->mem_write(h->ctx, s->mem_addr, d + 16, w[0]) != 0)
			err = E_FAILED_SPI_OP;
		else {
			s->mem_addr += w[0];
			s->mem_remaining -= w[0];
		}
		break;
	case OP_MEM_END:
		if (size != 8)
			err = E_BAD_DATA_LEN;
		else if (!s->in_mem_mode)
			err = E_NOT_IN_FLASH_MODE;
		else if (s->mem_remaining > 0)
			err = E_NOT_ENOUGH_DATA;
		else {
			err = E_OK;
			s->in_mem_mode = 0;
		}
		break;
	case OP_FLASH_BEGIN:
	case OP_FLASH_DEFL_BEGIN:
		/* erase_size/uncompressed size, num_blocks, block_size, offset. */
		if (size == 16 && w[2] > STUB_MAX_WRITE_BLOCK)
			err = E_BAD_BLOCKSIZE;
		else if (size != 16)
			err = E_BAD_DATA_LEN;
		else
			err = flash_begin(s, w[0], w[3], op == OP_FLASH_DEFL_BEGIN, w[1] * w[2]);
		break;
	case OP_FLASH_DATA:
	case OP_FLASH_DEFL_DATA:
		/* Acknowledged at once; the block is written after the reply. */
		if (!s->in_flash_mode || s->compressed != (op == OP_FLASH_DEFL_DATA)) {
			err = E_NOT_IN_FLASH_MODE;
			break;
		}
		err = s->last_error;
		i = check_data(frame, size);
		if (i != E_OK)
			err = (uint8_t)i;
		break;
	case OP_FLASH_END:
	case OP_FLASH_DEFL_END:
		err = size >= 4 ? flash_end(s) : E_BAD_DATA_LEN;
		break;
	case OP_SPI_SET_PARAMS:
		/* id, total_size, block_size, sector_size, page_size, status_mask. */
		if (size != 24)
			err = E_BAD_DATA_LEN;
		else if (h->flash_set_params != 0 && h->flash_set_params(h->ctx, w) != 0)
			err = E_FAILED_SPI_OP;
		else
			err = E_OK;
		break;
	case OP_SPI_ATTACH:
		/* One word (the ESP32 ROM form has two); its value is ignored on the ESP8266. */
		if (size != 4 && size != 8)
			err = E_BAD_DATA_LEN;
		else if (h->flash_attach != 0 && h->flash_attach(h->ctx) != 0)
			err = E_FAILED_SPI_OP;
		else
			err = E_OK;
		break;
	case OP_SPI_FLASH_MD5:
		/* addr, size, 0, 0 -> 16 raw digest bytes before the status. The reply always
		 * carries 16 bytes (zeros after a bad length) so its size is always 18. */
		for (i = 0; i < 16; i++)
			digest[i] = 0;
		err = size == 16 ? flash_md5(s, w[0], w[1], digest) : E_BAD_DATA_LEN;
		reply(s, op, 0, digest, 16, err);
		return;
	case OP_CHANGE_BAUDRATE:
		err = size == 8 ? E_OK : E_BAD_DATA_LEN;
		break;
	case OP_ERASE_FLASH:
		if (size != 0)
			err = E_BAD_DATA_LEN;
		else if (h->flash_unlock != 0 && h->flash_unlock(h->ctx) != 0)
			err = E_FAILED_SPI_UNLOCK;
		else
			err = h->flash_erase_chip(h->ctx) == 0 ? E_OK : E_FAILED_SPI_OP;
		break;
	case OP_ERASE_REGION:
		err = size == 8 ? erase_region(s, w[0], w[1]) : E_BAD_DATA_LEN;
		break;
	case OP_READ_FLASH:
		/* offset, length, packet_size, max_in_flight. */
		if (size != 16)
			err = E_BAD_DATA_LEN;
		else if (w[2] == 0 || w[2] > STUB_READ_PACKET_MAX || w[3] == 0)
			err = E_BAD_BLOCKSIZE;
		else
			err = E_OK;
		break;
	case OP_RUN_USER_CODE:
		/* No reply: the ROM's flash boot takes over. */
		s->state = STUB_EXIT_USER;
		h->run_user_code(h->ctx);
		return;
	default:
		break;
	}

	reply(s, op, value, 0, 0, err);
	if (err != E_OK)
		return;

	/* What esptool's stub does after the reply has gone out. */
	switch (op) {
	case OP_FLASH_DATA:
		flash_data(s, d + 16, size - 16);
		break;
	case OP_FLASH_DEFL_DATA:
		flash_deflated_data(s, d + 16, size - 16);
		break;
	case OP_CHANGE_BAUDRATE:
		h->uart_set_baud(h->ctx, w[0], w[1] != 0 ? w[1] : s->baud);
		s->baud = w[0];
		break;
	case OP_FLASH_END:
	case OP_FLASH_DEFL_END:
		if (w[0] == 0) {
			s->state = STUB_EXIT_ROM;
			h->reset_to_rom(h->ctx);
		}
		break;
	case OP_MEM_END:
		/* esptool sends flag 0 with the entry to jump, flag 1 with entry 0 to stay. */
		if (w[1] != 0 && h->mem_jump != 0)
			h->mem_jump(h->ctx, w[1]);
		break;
	case OP_READ_FLASH:
		s->rd_addr = w[0];
		s->rd_len = w[1];
		s->rd_packet = w[2];
		s->rd_max_in_flight = w[3];
		s->rd_sent = s->rd_acked = 0;
		h->md5_init(h->ctx, &s->md5);
		s->state = STUB_READING;
		break;
	default:
		break;
	}
}

/* A complete frame arrived. During a READ_FLASH stream 4-byte frames are acknowledgements. */
static void
frame_done(struct stub *s)
{
	uint32_t len = s->rx_len;

	if (s->state == STUB_READING) {
		if (len == 4) {
			s->rd_acked = rd32(s->frame);
			return;
		}
		/* Anything else ends the stream (the host gave up); it is read as a command. */
		s->state = STUB_RUNNING;
	}
	handle(s, s->frame, len);
}

void
stub_init(struct stub *s, const struct stub_hal *hal)
{
	uint8_t *p = (uint8_t *)s;

	/* Everything but the big buffers, whose contents never matter before they are written. */
	for (uint32_t i = 0; i < (uint32_t)((uint8_t *)&s->frame - p); i++)
		p[i] = 0;
	for (p = (uint8_t *)&s->baud; p < (uint8_t *)&s->md5; p++)
		*p = 0;
	s->hal = hal;
	s->state = STUB_RUNNING;
	s->rx_state = RX_OUTSIDE;
	send_frame(s, (const uint8_t *)"OHAI", 4);
}

void
stub_feed(struct stub *s, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];

		if (s->state == STUB_EXIT_USER || s->state == STUB_EXIT_ROM)
			return;
		if (c == SLIP_END) {
			/* Every 0xC0 ends a frame and starts the next: extra 0xC0s give empty
			 * frames, which are ignored, and bytes between frames a short one. */
			if (s->rx_state != RX_OUTSIDE && s->rx_state != RX_BAD && s->rx_len > 0)
				frame_done(s);
			s->rx_state = RX_INSIDE;
			s->rx_len = 0;
			continue;
		}
		switch (s->rx_state) {
		case RX_OUTSIDE:
		case RX_BAD:
			continue;
		case RX_ESCAPED:
			if (c == 0xDC)
				c = SLIP_END;
			else if (c == 0xDD)
				c = SLIP_ESC;
			else {
				s->rx_state = RX_BAD; /* drop the frame; wait for the next 0xC0 */
				continue;
			}
			s->rx_state = RX_INSIDE;
			break;
		default:
			if (c == SLIP_ESC) {
				s->rx_state = RX_ESCAPED;
				continue;
			}
		}
		if (s->rx_len < STUB_FRAME_MAX)
			s->frame[s->rx_len] = c;
		if (s->rx_len <= STUB_FRAME_MAX)
			s->rx_len++;
	}
}

int
stub_poll(struct stub *s)
{
	const struct stub_hal *h = s->hal;
	uint32_t n, off, in_flight;

	if (s->state != STUB_READING)
		return 0;
	in_flight = s->rd_sent > s->rd_acked ? s->rd_sent - s->rd_acked : 0;
	/* At most max_in_flight packets un-acknowledged (bounded so the product fits 32 bits;
	 * no division, which the chip has no instruction for). */
	if (s->rd_acked < s->rd_len && s->rd_sent < s->rd_len &&
	    in_flight < s->rd_packet * (s->rd_max_in_flight < 0x10000 ? s->rd_max_in_flight :
	    0x10000)) {
		n = s->rd_len - s->rd_sent < s->rd_packet ? s->rd_len - s->rd_sent : s->rd_packet;
		tx_delim(s);
		for (off = 0; off < n;) {
			uint32_t k = n - off < STUB_SCRATCH ? n - off : STUB_SCRATCH;

			if (h->flash_read(h->ctx, s->rd_addr + s->rd_sent + off, s->scratch, k) != 0) {
				/* Close the short frame: the host reports corrupt data. */
				tx_delim(s);
				s->state = STUB_RUNNING;
				return 1;
			}
			h->md5_update(h->ctx, &s->md5, s->scratch, k);
			tx_escaped(s, s->scratch, k);
			off += k;
		}
		tx_delim(s);
		s->rd_sent += n;
		return 1;
	}
	if (s->rd_acked >= s->rd_len || (s->rd_sent >= s->rd_len && s->rd_acked >= s->rd_sent)) {
		uint8_t digest[16];

		h->md5_final(h->ctx, &s->md5, digest);
		send_frame(s, digest, 16);
		s->state = STUB_RUNNING;
		return 1;
	}
	return 0;
}

int
stub_state(const struct stub *s)
{
	return s->state;
}
