/*
 * The ROM loader against the wire examples of protocol.md: SYNC (§4.1), READ_REG (§3.1, §3.3),
 * unknown opcodes (§4.6), FLASH_BEGIN/DATA/END (§4.3, §5.4, §7), MEM_* (§4.4), SPI_SET_PARAMS.
 * Packets are built here by hand from the reference's tables.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sim/sim_loader.h"
#include "tap.h"

struct rig {
	struct sim_chip chip;
	struct sim_flash *flash;
	struct sim_loader l;
	struct buf out;
	uint64_t busy;
	int ev, nev;
	uint32_t ev_value;
};

static void
rig_send(void *arg, uint32_t busy_us, const uint8_t *wire, size_t len)
{
	struct rig *r = arg;

	r->busy += busy_us;
	buf_add(&r->out, wire, len);
}

static void
rig_event(void *arg, enum sim_loader_event ev, uint32_t value)
{
	struct rig *r = arg;

	r->ev = (int)ev;
	r->ev_value = value;
	r->nev++;
}

static const struct sim_loader_ops rig_ops = { rig_send, rig_event };

static void
rig_init(struct rig *r)
{
	struct sim_identity id;
	char *cause = NULL;

	memset(r, 0, sizeof *r);
	sim_chip_identity_default(&id);
	if (sim_chip_init(&r->chip, &id, &cause) != RC_OK ||
	    sim_flash_open(NULL, id.flash_size, &r->flash, &cause) != RC_OK)
		abort();
	sim_loader_init(&r->l, &r->chip, r->flash, &rig_ops, r);
	buf_init(&r->out);
}

static void
rig_free(struct rig *r)
{
	sim_loader_free(&r->l);
	sim_flash_close(r->flash);
	sim_chip_free(&r->chip);
	buf_free(&r->out);
}

/* Sends a command (header per §3.1) as esptool does: C0, escaped packet, C0. */
static void
cmd(struct rig *r, uint8_t op, const void *data, size_t len, uint32_t checksum)
{
	uint8_t *pkt = malloc(8 + len), *wire = malloc(2 * (8 + len) + 2);
	size_t n = 0;

	pkt[0] = 0;
	pkt[1] = op;
	pkt[2] = (uint8_t)len;
	pkt[3] = (uint8_t)(len >> 8);
	for (int i = 0; i < 4; i++)
		pkt[4 + i] = (uint8_t)(checksum >> (8 * i));
	if (len > 0)
		memcpy(pkt + 8, data, len);
	wire[n++] = 0xC0;
	for (size_t i = 0; i < 8 + len; i++) {
		if (pkt[i] == 0xC0) {
			wire[n++] = 0xDB;
			wire[n++] = 0xDC;
		} else if (pkt[i] == 0xDB) {
			wire[n++] = 0xDB;
			wire[n++] = 0xDD;
		} else
			wire[n++] = pkt[i];
	}
	wire[n++] = 0xC0;
	buf_reset(&r->out);
	sim_loader_feed(&r->l, wire, n);
	free(pkt);
	free(wire);
}

static void
le32s(uint8_t *p, const uint32_t *w, int n)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 4; k++)
			p[4 * i + k] = (uint8_t)(w[i] >> (8 * k));
}

static void
test_sync(void)
{
	struct rig r;
	uint8_t wire[46] = { 0xc0, 0x00, 0x08, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x07, 0x07, 0x12, 0x20 };
	static const uint8_t one[] = { 0xc0, 0x01, 0x08, 0x02, 0x00, 0x07, 0x07, 0x12, 0x20, 0x00,
	    0x00, 0xc0 };

	rig_init(&r);
	memset(wire + 13, 0x55, 32);
	wire[45] = 0xc0;
	/* §4.1: esptool's 46 wire bytes; extra C0s before it are tolerated. */
	sim_loader_feed(&r.l, (const uint8_t *)"\xc0\xc0", 2);
	sim_loader_feed(&r.l, wire, sizeof wire);
	T_EQ_INT(buf_len(&r.out), 8 * sizeof one);
	for (int i = 0; i < 8 && buf_len(&r.out) == 8 * sizeof one; i++)
		T_EQ_MEM(buf_head(&r.out) + i * sizeof one, one, sizeof one);
	T_EQ_INT(r.busy, 0);
	rig_free(&r);
}

static void
test_read_reg(void)
{
	struct rig r;
	static const uint8_t wire[] = { 0xc0, 0x00, 0x0a, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x10, 0x00, 0x40, 0xc0 };
	/* ISS #620: READ_REG 0x40001000 -> 01 0a 02 00 01 c1 f0 ff 00 00 */
	static const uint8_t want[] = { 0xc0, 0x01, 0x0a, 0x02, 0x00, 0x01, 0xc1, 0xf0, 0xff, 0x00,
	    0x00, 0xc0 };

	rig_init(&r);
	sim_loader_feed(&r.l, wire, sizeof wire);
	T_EQ_INT(buf_len(&r.out), sizeof want);
	T_EQ_MEM(buf_head(&r.out), want, sizeof want);
	rig_free(&r);
}

static void
test_unknown_opcode(void)
{
	struct rig r;
	/* §4.6 advice: 01 <op> 02 00 00000000 01 05 */
	static const uint8_t want[] = { 0xc0, 0x01, 0x14, 0x02, 0x00, 0, 0, 0, 0, 0x01, 0x05, 0xc0 };
	static const uint8_t want_d0[] = { 0xc0, 0x01, 0xd0, 0x02, 0x00, 0, 0, 0, 0, 0x01, 0x05,
	    0xc0 };

	rig_init(&r);
	cmd(&r, 0x14, NULL, 0, 0);
	T_EQ_INT(buf_len(&r.out), sizeof want);
	T_EQ_MEM(buf_head(&r.out), want, sizeof want);
	cmd(&r, 0xD0, NULL, 0, 0); /* ERASE_FLASH is stub-only */
	T_EQ_MEM(buf_head(&r.out), want_d0, sizeof want_d0);
	rig_free(&r);
}

static int
status_ok(struct rig *r, uint8_t op)
{
	const uint8_t *p = buf_head(&r->out);

	return buf_len(&r->out) == 12 && p[1] == 0x01 && p[2] == op && p[9] == 0 && p[10] == 0;
}

static void
test_flash_write(void)
{
	struct rig r;
	uint8_t p[16 + 0x400], begin[16];
	const uint8_t *m;
	uint32_t w[4];

	rig_init(&r);
	m = sim_flash_data(r.flash);
	/* Pre-program the first three sectors with zeros so the erase shows. */
	memset(p, 0, sizeof p);
	for (uint32_t a = 0; a < 0x3000; a += 0x400)
		sim_flash_program(r.flash, a, p, 0x400, NULL);
	/* §4.3: FLASH_BEGIN(0,0) attaches, erases nothing. */
	w[0] = 0; w[1] = 0; w[2] = 0x400; w[3] = 0;
	le32s(begin, w, 4);
	cmd(&r, 0x02, begin, 16, 0);
	T_TRUE(status_ok(&r, 0x02));
	T_EQ_HEX(m[0], 0x00);
	/* §5.4: FLASH_BEGIN 00100000 01000000 00040000 00000000 -> the ROM erases 0x0-0x1FFF. */
	w[0] = 0x1000; w[1] = 1; w[2] = 0x400; w[3] = 0;
	le32s(begin, w, 4);
	cmd(&r, 0x02, begin, 16, 0);
	T_TRUE(status_ok(&r, 0x02));
	T_EQ_HEX(m[0x1FFF], 0xFF);
	T_EQ_HEX(m[0x2000], 0x00);
	T_TRUE(r.busy >= 2 * 45000); /* two sector erases before the reply */
	/* FLASH_DATA seq 0: 128 bytes of image padded with 0xFF to 0x400 (§4.3). */
	memset(p, 0, 16);
	p[0] = 0x00; p[1] = 0x04;    /* length 0x400 */
	for (int i = 0; i < 0x400; i++)
		p[16 + i] = i < 128 ? (uint8_t)(0xE9 + i) : 0xFF;
	p[16 + 5] = 0xC0;            /* a byte that needs SLIP escaping */
	p[16 + 6] = 0xDB;
	cmd(&r, 0x03, p, sizeof p, sim_loader_checksum(p + 16, 0x400));
	T_TRUE(status_ok(&r, 0x03));
	T_EQ_MEM(m, p + 16, 0x400);
	/* A bad checksum: status 01 07 and nothing written. */
	p[4] = 1; /* seq 1 -> 0x400 */
	cmd(&r, 0x03, p, sizeof p, sim_loader_checksum(p + 16, 0x400) ^ 0x5A);
	T_EQ_INT(buf_len(&r.out), 12);
	T_EQ_HEX(buf_head(&r.out)[9], 0x01);
	T_EQ_HEX(buf_head(&r.out)[10], 0x07);
	T_EQ_HEX(m[0x400], 0xFF);
	/* A length field that disagrees with the packet: 01 05. */
	p[0] = 0x01;
	cmd(&r, 0x03, p, sizeof p, sim_loader_checksum(p + 16, 0x400));
	T_EQ_HEX(buf_head(&r.out)[10], 0x05);
	rig_free(&r);
}

static void
test_and_write_through_loader(void)
{
	struct rig r;
	uint8_t p[16 + 4] = { 4, 0, 0, 0 }, begin[16];
	uint32_t w[4] = { 0, 0, 4, 0x10000 };
	const uint8_t *m;

	rig_init(&r);
	m = sim_flash_data(r.flash);
	le32s(begin, w, 4);
	cmd(&r, 0x02, begin, 16, 0);
	memcpy(p + 16, "\xf0\x0f\xff\x00", 4);
	cmd(&r, 0x03, p, sizeof p, sim_loader_checksum(p + 16, 4));
	memcpy(p + 16, "\x3c\x3c\x55\xff", 4);
	cmd(&r, 0x03, p, sizeof p, sim_loader_checksum(p + 16, 4));
	T_EQ_MEM(m + 0x10000, "\x30\x0c\x55\x00", 4);
	rig_free(&r);
}

static void
test_flash_end(void)
{
	struct rig r;
	uint8_t flag[4] = { 1, 0, 0, 0 };

	rig_init(&r);
	cmd(&r, 0x04, flag, 4, 0);
	T_TRUE(status_ok(&r, 0x04));
	T_EQ_INT(r.nev, 1);
	T_EQ_INT(r.ev, SIM_LOADER_EV_RUN_USER);
	rig_free(&r);
	rig_init(&r);
	flag[0] = 0;
	cmd(&r, 0x04, flag, 4, 0);
	T_EQ_INT(r.ev, SIM_LOADER_EV_REBOOT);
	/* Out of the loader: further commands get no answer. */
	cmd(&r, 0x0A, "\x00\x10\x00\x40", 4, 0);
	T_EQ_INT(buf_len(&r.out), 0);
	rig_free(&r);
}

static void
test_mem_upload(void)
{
	struct rig r;
	uint8_t begin[16], data[16 + 8], end[8];
	uint32_t w[4] = { 8, 1, 0x1800, 0x4010D000 }, e[2] = { 0, 0x4010D004 };

	rig_init(&r);
	le32s(begin, w, 4);
	cmd(&r, 0x05, begin, 16, 0);
	T_TRUE(status_ok(&r, 0x05));
	memset(data, 0, sizeof data);
	data[0] = 8;
	memcpy(data + 16, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	cmd(&r, 0x07, data, sizeof data, sim_loader_checksum(data + 16, 8));
	T_TRUE(status_ok(&r, 0x07));
	T_EQ_HEX(sim_chip_read(&r.chip, 0x4010D004), 0x08070605);
	le32s(end, e, 2);
	cmd(&r, 0x06, end, 8, 0);
	T_TRUE(status_ok(&r, 0x06));
	T_EQ_INT(r.ev, SIM_LOADER_EV_RUN);
	T_EQ_HEX(r.ev_value, 0x4010D004);
	rig_free(&r);
}

static void
test_spi_set_params_and_bounds(void)
{
	struct rig r;
	uint8_t p[24], begin[16];
	uint32_t w[6] = { 0, 0x100000, 0x10000, 0x1000, 0x100, 0xFFFF };
	uint32_t b[4] = { 0x1000, 1, 0x400, 0x100000 };

	rig_init(&r);
	/* §4.0 note: the simulator answers 0x0B with success. */
	le32s(p, w, 6);
	cmd(&r, 0x0B, p, sizeof p, 0);
	T_TRUE(status_ok(&r, 0x0B));
	T_EQ_HEX(sim_chip_read(&r.chip, 0x3FFFC718), 0x100000);
	/* Now the ROM believes in 1 MB: an erase at 1 MB fails (§7.1 step 1). */
	le32s(begin, b, 4);
	cmd(&r, 0x02, begin, 16, 0);
	T_EQ_INT(buf_len(&r.out), 12);
	T_EQ_HEX(buf_head(&r.out)[9], 0x01);
	/* Unaligned start: SPIEraseArea refuses it. */
	b[3] = 0x1;
	le32s(begin, b, 4);
	cmd(&r, 0x02, begin, 16, 0);
	T_EQ_HEX(buf_head(&r.out)[9], 0x01);
	rig_free(&r);
}

int
main(void)
{
	T_RUN(test_sync);
	T_RUN(test_read_reg);
	T_RUN(test_unknown_opcode);
	T_RUN(test_flash_write);
	T_RUN(test_and_write_through_loader);
	T_RUN(test_flash_end);
	T_RUN(test_mem_upload);
	T_RUN(test_spi_set_params_and_bounds);
	return t_done();
}
