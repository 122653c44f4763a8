/*
 * ROM/stub packets against protocol.md §3, §4: every expected byte string below is copied from
 * the reference's wire examples and captures, never from our own output.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "rom/rom_proto.h"
#include "rom/slip.h"
#include "tap.h"

static void
test_checksum(void)
{
	static const uint8_t d[] = { 0x01, 0x02, 0x04 };

	/* §3.4: start with 0xEF and XOR every payload byte. */
	T_EQ_HEX(rom_proto_checksum(NULL, 0), 0xEF);
	T_EQ_HEX(rom_proto_checksum(d, 3), 0xEF ^ 0x01 ^ 0x02 ^ 0x04);
	T_EQ_HEX(rom_proto_checksum("\xEF", 1), 0x00);
}

static void
test_build_read_reg_wire(void)
{
	/* §3.1: READ_REG 0x40001000 is c0 00 0a 04 00 00 00 00 00 00 10 00 40 c0 on the wire. */
	static const uint8_t wire[] = { 0xc0, 0x00, 0x0a, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x10, 0x00, 0x40, 0xc0 };
	uint32_t addr = ROM_MAGIC_REG;
	uint8_t pkt[32], enc[SLIP_ENCODED_MAX(32)];
	size_t n = rom_proto_words_cmd_build(pkt, sizeof pkt, ROM_OP_READ_REG, &addr, 1);

	T_EQ_INT(n, 12);
	T_EQ_INT(slip_encode(enc, pkt, n), sizeof wire);
	T_EQ_MEM(enc, wire, sizeof wire);
	/* The same through the generic builder. */
	n = rom_proto_cmd_build(pkt, sizeof pkt, ROM_OP_READ_REG, "\x00\x10\x00\x40", 4, 0);
	T_EQ_MEM(pkt, wire + 1, 12);
	/* Too small a destination: nothing built. */
	T_EQ_INT(rom_proto_cmd_build(pkt, 11, ROM_OP_READ_REG, "\x00\x10\x00\x40", 4, 0), 0);
}

static void
sync_payload(uint8_t *p)
{
	p[0] = 0x07; p[1] = 0x07; p[2] = 0x12; p[3] = 0x20;
	memset(p + 4, 0x55, 32);
}

static void
test_build_sync_wire(void)
{
	/* §4.1: esptool sends 46 bytes: c0 00 08 24 00 00 00 00 00 07 07 12 20 (55 x 32) c0. */
	uint8_t wire[46], data[36], pkt[64], enc[SLIP_ENCODED_MAX(64)];
	size_t n;

	wire[0] = 0xc0; wire[1] = 0x00; wire[2] = 0x08; wire[3] = 0x24; wire[4] = 0x00;
	memset(wire + 5, 0, 4);
	wire[9] = 0x07; wire[10] = 0x07; wire[11] = 0x12; wire[12] = 0x20;
	memset(wire + 13, 0x55, 32);
	wire[45] = 0xc0;
	sync_payload(data);
	n = rom_proto_cmd_build(pkt, sizeof pkt, ROM_OP_SYNC, data, sizeof data, 0);
	T_EQ_INT(n, 44);
	T_EQ_INT(slip_encode(enc, pkt, n), 46);
	T_EQ_MEM(enc, wire, 46);
}

static void
test_sync_reply(void)
{
	/* §4.1 / §15.2: each ROM SYNC reply is 01 08 02 00 07 07 12 20 00 00. */
	static const uint8_t reply[] = { 0x01, 0x08, 0x02, 0x00, 0x07, 0x07, 0x12, 0x20, 0x00, 0x00 };
	uint8_t out[16];
	struct rom_proto_resp r;

	T_EQ_INT(rom_proto_resp_build_rom(out, sizeof out, ROM_OP_SYNC, ROM_SYNC_VALUE, NULL, 0, 0, 0),
	    sizeof reply);
	T_EQ_MEM(out, reply, sizeof reply);
	T_EQ_INT(rom_proto_resp_parse(reply, sizeof reply, &r, NULL), RC_OK);
	T_EQ_HEX(r.op, ROM_OP_SYNC);
	T_EQ_HEX(r.value, 0x20120707);
	T_EQ_INT(r.data_len, 0);
	T_FALSE(rom_proto_resp_failed(&r));
}

static void
test_read_reg_captures(void)
{
	/* §3.3: real ESP8266 ROM captures [ISS #620, #397]. */
	static const uint8_t magic[] = { 0x01, 0x0a, 0x02, 0x00, 0x01, 0xc1, 0xf0, 0xff, 0x00, 0x00 };
	static const uint8_t clkdiv[] = { 0x01, 0x0a, 0x02, 0x00, 0xc4, 0x01, 0x00, 0x00, 0x00, 0x00 };
	struct rom_proto_resp r;
	uint8_t out[16];

	T_EQ_INT(rom_proto_resp_parse(magic, sizeof magic, &r, NULL), RC_OK);
	T_EQ_HEX(r.op, ROM_OP_READ_REG);
	T_EQ_INT(r.size, 2);
	T_EQ_HEX(r.value, 0xFFF0C101);
	T_EQ_HEX(r.value, ROM_MAGIC_ESP8266);
	T_EQ_INT(r.data_len, 0);
	T_EQ_INT(r.status[0], 0);
	T_EQ_INT(r.status[1], 0);
	T_FALSE(rom_proto_resp_failed(&r));
	T_EQ_INT(rom_proto_resp_parse(clkdiv, sizeof clkdiv, &r, NULL), RC_OK);
	T_EQ_HEX(r.value, 0x1C4);
	/* And the device side builds the same bytes. */
	T_EQ_INT(rom_proto_resp_build_rom(out, sizeof out, ROM_OP_READ_REG, 0xFFF0C101, NULL, 0, 0, 0),
	    10);
	T_EQ_MEM(out, magic, sizeof magic);
}

static void
test_flash_begin_zero(void)
{
	/* §4.3: FLASH_BEGIN(0, 0) carries 00000000 00000000 00040000 00000000. */
	static const uint8_t data[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0 };
	const uint32_t w[4] = { 0, 0, ROM_FLASH_BLOCK, 0 };
	uint8_t pkt[32];
	struct rom_proto_cmd c;

	T_EQ_INT(rom_proto_words_cmd_build(pkt, sizeof pkt, ROM_OP_FLASH_BEGIN, w, 4), 24);
	T_EQ_MEM(pkt, "\x00\x02\x10\x00\x00\x00\x00\x00", 8);
	T_EQ_MEM(pkt + 8, data, 16);
	T_EQ_INT(rom_proto_cmd_parse(pkt, 24, &c, NULL), RC_OK);
	T_EQ_HEX(c.op, ROM_OP_FLASH_BEGIN);
	T_EQ_INT(c.size, 16);
	T_EQ_HEX(rom_proto_cmd_word(&c, 2), 0x400);
	T_EQ_HEX(rom_proto_cmd_word(&c, 4), 0); /* past the end */
}

static void
test_rom_write_example(void)
{
	/* §5.4: FLASH_BEGIN 00200000 09000000 00040000 00300200 = 0x2000, 9, 0x400, 0x23000. */
	static const uint8_t data[] = { 0x00, 0x20, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
		0x00, 0x04, 0x00, 0x00, 0x00, 0x30, 0x02, 0x00 };
	const uint32_t w[4] = { 0x2000, 9, 0x400, 0x23000 };
	uint8_t pkt[32];

	T_EQ_INT(rom_proto_words_cmd_build(pkt, sizeof pkt, ROM_OP_FLASH_BEGIN, w, 4), 24);
	T_EQ_MEM(pkt + 8, data, 16);
}

static void
test_unknown_opcode_reply(void)
{
	/* §4.6: simulator advice for an unknown opcode: 01 <op> 02 00 00000000 01 05. */
	static const uint8_t reply[] = { 0x01, 0x14, 0x02, 0x00, 0, 0, 0, 0, 0x01, 0x05 };
	uint8_t out[16];
	struct rom_proto_resp r;
	char *msg;

	T_EQ_INT(rom_proto_resp_build_rom(out, sizeof out, ROM_OP_GET_SECURITY_INFO, 0, NULL, 0, 1,
	    ROM_ERR_INVALID_MSG), 10);
	T_EQ_MEM(out, reply, sizeof reply);
	T_EQ_INT(rom_proto_resp_parse(reply, sizeof reply, &r, NULL), RC_OK);
	T_TRUE(rom_proto_resp_failed(&r));
	T_EQ_INT(r.status[1], 0x05);
	/* esptool's quirky text for 01 05, and ours with the ROM's real meaning. */
	T_EQ_STR(rom_cmds_esptool_result_str(0x01, 0x05), "Requested resource not found");
	T_EQ_STR(rom_cmds_esptool_result_str(0x01, 0x07), "Operation timed out");
	msg = rom_proto_failure_str(&r, 0, 0);
	T_CONTAINS(msg, "Failed to get security info");
	T_CONTAINS(msg, "result was 0105");
	T_CONTAINS(msg, "invalid message");
	free(msg);
}

static void
test_data_cmd(void)
{
	/* §3.4: 16-byte header (len, seq, 0, 0), checksum over the data only. */
	uint8_t blk[0x400], pkt[0x500];
	struct rom_proto_cmd c;
	struct rom_proto_data d;
	size_t n;

	for (size_t i = 0; i < sizeof blk; i++)
		blk[i] = (uint8_t)(i * 7 + 3);
	n = rom_proto_data_cmd_build(pkt, sizeof pkt, ROM_OP_FLASH_DATA, 5, blk, sizeof blk);
	T_EQ_INT(n, 8 + 16 + 0x400);
	T_EQ_HEX(pkt[0], 0x00);
	T_EQ_HEX(pkt[1], 0x03);
	T_EQ_HEX(rd_le16(pkt + 2), 0x410);
	T_EQ_HEX(rd_le32(pkt + 4), rom_proto_checksum(blk, sizeof blk));
	T_EQ_HEX(rd_le32(pkt + 8), 0x400);
	T_EQ_HEX(rd_le32(pkt + 12), 5);
	T_EQ_MEM(pkt + 16, "\0\0\0\0\0\0\0\0", 8);
	T_EQ_INT(rom_proto_cmd_parse(pkt, n, &c, NULL), RC_OK);
	T_EQ_INT(rom_proto_data_parse(&c, &d), ROM_DATA_OK);
	T_EQ_INT(d.seq, 5);
	T_EQ_INT(d.len, 0x400);
	T_EQ_MEM(d.payload, blk, sizeof blk);
	/* One flipped payload bit is a checksum error. */
	pkt[100] ^= 0x10;
	T_EQ_INT(rom_proto_data_parse(&c, &d), ROM_DATA_CHECKSUM);
	pkt[100] ^= 0x10;
	/* A length word that disagrees with the size. */
	wr_le32(pkt + 8, 0x3FF);
	T_EQ_INT(rom_proto_data_parse(&c, &d), ROM_DATA_LEN);
	/* Fewer than 16 data bytes. */
	T_EQ_INT(rom_proto_cmd_parse((const uint8_t *)"\x00\x07\x04\x00\0\0\0\0\1\2\3\4", 12, &c, NULL),
	    RC_OK);
	T_EQ_INT(rom_proto_data_parse(&c, &d), ROM_DATA_SHORT);
}

static void
test_stub_status_order(void)
{
	/* §3.3: stub status is [error, status]; §4.5: unknown opcode -> FF 00. */
	static const uint8_t bad[] = { 0x01, 0x99, 0x02, 0x00, 0, 0, 0, 0, 0xFF, 0x00 };
	static const uint8_t md5[] = { 0x01, 0x13, 0x12, 0x00, 0, 0, 0, 0 };
	uint8_t out[32], digest[16];
	struct rom_proto_resp r;
	char *msg;

	T_EQ_INT(rom_proto_resp_build_stub(out, sizeof out, 0x99, 0, NULL, 0,
	    ROM_STUB_CMD_NOT_IMPLEMENTED, 0), 10);
	T_EQ_MEM(out, bad, sizeof bad);
	/* §4.5: SPI_FLASH_MD5 answers size 18, 16 raw digest bytes then the status. */
	for (int i = 0; i < 16; i++)
		digest[i] = (uint8_t)(0xA0 + i);
	T_EQ_INT(rom_proto_resp_build_stub(out, sizeof out, ROM_OP_SPI_FLASH_MD5, 0, digest, 16, 0, 0),
	    26);
	T_EQ_MEM(out, md5, 8);
	T_EQ_MEM(out + 8, digest, 16);
	T_EQ_INT(rom_proto_resp_parse(out, 26, &r, NULL), RC_OK);
	T_EQ_INT(r.data_len, 16);
	T_EQ_MEM(r.data, digest, 16);
	T_FALSE(rom_proto_resp_failed(&r));
	/* A stub failure: C1 00, esptool's text. */
	T_EQ_INT(rom_proto_resp_build_stub(out, sizeof out, ROM_OP_FLASH_DEFL_DATA, 0, NULL, 0,
	    ROM_STUB_BAD_DATA_CHECKSUM, 0), 10);
	T_EQ_HEX(out[8], 0xC1);
	T_EQ_HEX(out[9], 0x00);
	T_EQ_INT(rom_proto_resp_parse(out, 10, &r, NULL), RC_OK);
	T_TRUE(rom_proto_resp_failed(&r));
	msg = rom_proto_failure_str(&r, 1, 7);
	T_EQ_STR(msg, "Failed to write compressed data to flash after seq 7 (result was C100: "
	    "Bad data checksum)");
	free(msg);
}

static void
test_parse_errors(void)
{
	struct rom_proto_resp r;
	struct rom_proto_cmd c;
	char *cause = NULL;

	/* Too short for header + status. */
	T_EQ_INT(rom_proto_resp_parse((const uint8_t *)"\x01\x08\x02\x00\0\0\0\0\0", 9, &r, &cause),
	    RC_ERR_PROTO);
	T_CONTAINS(cause, "shorter");
	free(cause);
	/* Wrong direction: a command where a response was expected. */
	T_EQ_INT(rom_proto_resp_parse((const uint8_t *)"\x00\x08\x02\x00\0\0\0\0\0\0", 10, &r, &cause),
	    RC_ERR_PROTO);
	T_CONTAINS(cause, "direction byte 0x00");
	free(cause);
	/* Size field disagrees with the frame. */
	T_EQ_INT(rom_proto_resp_parse((const uint8_t *)"\x01\x08\x03\x00\0\0\0\0\0\0", 10, &r, &cause),
	    RC_ERR_PROTO);
	T_CONTAINS(cause, "SYNC");
	free(cause);
	T_EQ_INT(rom_proto_cmd_parse((const uint8_t *)"\x00\x0a\x04\x00\0\0\0\0\0\0", 10, &c, &cause),
	    RC_ERR_PROTO);
	T_CONTAINS(cause, "READ_REG");
	free(cause);
	T_EQ_INT(rom_proto_cmd_parse((const uint8_t *)"\x01\x0a", 2, &c, &cause), RC_ERR_PROTO);
	T_TRUE(cause != NULL);
	free(cause);
	cause = (char *)1;
	T_EQ_INT(rom_proto_cmd_parse((const uint8_t *)"\x00\xd0\x00\x00\0\0\0\0", 8, &c, &cause), RC_OK);
	T_TRUE(cause == NULL);
}

static void
test_tables(void)
{
	/* §4.0 names and where each opcode lives. */
	T_EQ_STR(rom_cmds_name(0x02), "FLASH_BEGIN");
	T_EQ_STR(rom_cmds_name(0xD2), "READ_FLASH");
	T_EQ_STR(rom_cmds_name(0x42), "UNKNOWN");
	T_TRUE(rom_cmds_find(ROM_OP_SYNC)->where & ROM_CMD_ROM);
	T_FALSE(rom_cmds_find(ROM_OP_ERASE_FLASH)->where & ROM_CMD_ROM);
	T_TRUE(rom_cmds_find(ROM_OP_ERASE_FLASH)->where & ROM_CMD_STUB);
	T_EQ_INT(rom_cmds_find(ROM_OP_ERASE_FLASH)->timeout_ms, 120000);
	T_EQ_STR(rom_cmds_find(ROM_OP_FLASH_BEGIN)->fail_desc, "enter Flash download mode");
	/* §3.3 code tables. */
	T_EQ_STR(rom_cmds_rom_err_str(0x07), "checksum error");
	T_EQ_STR(rom_cmds_rom_err_str(0x05), "invalid message");
	T_EQ_STR(rom_cmds_stub_err_str(0xC7), "inflate error");
	T_EQ_STR(rom_cmds_stub_err_str(0xFF), "command not implemented");
	T_EQ_STR(rom_cmds_stub_err_str(0x42), "unknown stub error");
	T_EQ_STR(rom_cmds_esptool_result_str(0xFF, 0x00), "Command not implemented");
	T_TRUE(rom_cmds_esptool_result_str(0x12, 0x34) == NULL);
	/* The table is ordered and has no duplicate. */
	for (size_t i = 1; i < rom_cmds_count; i++)
		T_TRUE(rom_cmds[i - 1].op < rom_cmds[i].op);
}

static void
test_read_reg_failure_text(void)
{
	static const uint8_t fail[] = { 0x01, 0x0a, 0x02, 0x00, 0, 0, 0, 0, 0x01, 0x07 };
	struct rom_proto_resp r;
	char *msg;

	T_EQ_INT(rom_proto_resp_parse(fail, sizeof fail, &r, NULL), RC_OK);
	msg = rom_proto_failure_str(&r, 0, 0x3ff00050);
	T_EQ_STR(msg, "Failed to read register address 3ff00050 (result was 0107: ROM error 0x07, "
	    "checksum error)");
	free(msg);
}

int
main(void)
{
	T_RUN(test_checksum);
	T_RUN(test_build_read_reg_wire);
	T_RUN(test_build_sync_wire);
	T_RUN(test_sync_reply);
	T_RUN(test_read_reg_captures);
	T_RUN(test_flash_begin_zero);
	T_RUN(test_rom_write_example);
	T_RUN(test_unknown_opcode_reply);
	T_RUN(test_data_cmd);
	T_RUN(test_stub_status_order);
	T_RUN(test_parse_errors);
	T_RUN(test_tables);
	T_RUN(test_read_reg_failure_text);
	return t_done();
}
