/*
 * rom_cmds.c: const tables of the ROM loader / stub opcodes and error codes (protocol.md §3.3,
 * §4.0). Descriptions are the words esptool v4.6.2 uses in "Failed to <description>" (a number,
 * where esptool prints one, is appended by rom_proto_failure_str()); timeouts
 * are esptool's defaults in milliseconds (size-scaled ones give the minimum, protocol.md §4).
 */
#include "config.h"

#include "rom/rom_proto.h"

#include <stddef.h>

#define R ROM_CMD_ROM
#define S ROM_CMD_STUB

const struct rom_cmd_info rom_cmds[] = {
	{ ROM_OP_FLASH_BEGIN, R | S, "FLASH_BEGIN", "enter Flash download mode", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_FLASH_DATA, R | S, "FLASH_DATA", "write to target Flash after seq", 3000, ROM_FAIL_ARG_DEC },
	{ ROM_OP_FLASH_END, R | S, "FLASH_END", "leave Flash mode", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_MEM_BEGIN, R | S, "MEM_BEGIN", "enter RAM download mode", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_MEM_END, R | S, "MEM_END", "leave RAM download mode", 200, ROM_FAIL_ARG_NONE },
	{ ROM_OP_MEM_DATA, R | S, "MEM_DATA", "write to target RAM", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_SYNC, R | S, "SYNC", NULL, 100, ROM_FAIL_ARG_NONE },
	{ ROM_OP_WRITE_REG, R | S, "WRITE_REG", "write target memory", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_READ_REG, R | S, "READ_REG", "read register address", 3000, ROM_FAIL_ARG_HEX },
	{ ROM_OP_SPI_SET_PARAMS, S, "SPI_SET_PARAMS", "set SPI params", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_SPI_ATTACH, S, "SPI_ATTACH", "configure SPI flash pins", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_READ_FLASH_SLOW, 0, "READ_FLASH_SLOW", NULL, 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_CHANGE_BAUDRATE, S, "CHANGE_BAUDRATE", NULL, 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_FLASH_DEFL_BEGIN, S, "FLASH_DEFL_BEGIN", "enter compressed flash mode", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_FLASH_DEFL_DATA, S, "FLASH_DEFL_DATA", "write compressed data to flash after seq", 3000,
	    ROM_FAIL_ARG_DEC },
	{ ROM_OP_FLASH_DEFL_END, S, "FLASH_DEFL_END", "leave compressed flash mode", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_SPI_FLASH_MD5, S, "SPI_FLASH_MD5", "calculate md5sum", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_GET_SECURITY_INFO, 0, "GET_SECURITY_INFO", "get security info", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_ERASE_FLASH, S, "ERASE_FLASH", "erase flash", 120000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_ERASE_REGION, S, "ERASE_REGION", "erase region", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_READ_FLASH, S, "READ_FLASH", "read flash", 3000, ROM_FAIL_ARG_NONE },
	{ ROM_OP_RUN_USER_CODE, S, "RUN_USER_CODE", NULL, 3000, ROM_FAIL_ARG_NONE },
};
const size_t rom_cmds_count = sizeof rom_cmds / sizeof rom_cmds[0];

#undef R
#undef S

const struct rom_cmd_info *
rom_cmds_find(uint8_t op)
{
	for (size_t i = 0; i < rom_cmds_count; i++)
		if (rom_cmds[i].op == op)
			return &rom_cmds[i];
	return NULL;
}

const char *
rom_cmds_name(uint8_t op)
{
	const struct rom_cmd_info *c = rom_cmds_find(op);

	return c != NULL ? c->name : "UNKNOWN";
}

struct code_name {
	uint8_t code;
	const char *name;
};

static const struct code_name rom_errs[] = {
	{ ROM_ERR_UNDEFINED, "undefined error" },
	{ ROM_ERR_INVALID_PARAM, "input parameter invalid" },
	{ ROM_ERR_MALLOC, "malloc failed" },
	{ ROM_ERR_SEND, "failed to send message" },
	{ ROM_ERR_RECV, "failed to receive message" },
	{ ROM_ERR_INVALID_MSG, "invalid message" },
	{ ROM_ERR_OP_FAILED, "operation failed" },
	{ ROM_ERR_CHECKSUM, "checksum error" },
	{ ROM_ERR_FLASH_WRITE, "flash write error" },
	{ ROM_ERR_FLASH_READ, "flash read error" },
	{ ROM_ERR_FLASH_READ_LEN, "flash read length error" },
	{ ROM_ERR_DEFLATE, "deflate failed" },
	{ ROM_ERR_DEFLATE_ADLER, "deflate Adler32 error" },
	{ ROM_ERR_DEFLATE_PARAM, "deflate parameter error" },
	{ ROM_ERR_RAM_SIZE, "invalid RAM binary size" },
	{ ROM_ERR_RAM_ADDR, "invalid RAM binary address" },
	{ ROM_ERR_PARAM, "invalid parameter" },
	{ ROM_ERR_FORMAT, "invalid format" },
	{ ROM_ERR_DESC_LONG, "description too long" },
	{ ROM_ERR_DESC_ENCODING, "bad encoding description" },
	{ ROM_ERR_STORAGE, "insufficient storage" },
};

static const struct code_name stub_errs[] = {
	{ ROM_STUB_OK, "success" },
	{ ROM_STUB_BAD_DATA_LEN, "bad data length" },
	{ ROM_STUB_BAD_DATA_CHECKSUM, "bad data checksum" },
	{ ROM_STUB_BAD_BLOCKSIZE, "bad block size" },
	{ ROM_STUB_INVALID_COMMAND, "invalid command" },
	{ ROM_STUB_FAILED_SPI_OP, "failed SPI operation" },
	{ ROM_STUB_FAILED_SPI_UNLOCK, "failed SPI unlock" },
	{ ROM_STUB_NOT_IN_FLASH_MODE, "not in flash mode" },
	{ ROM_STUB_INFLATE_ERROR, "inflate error" },
	{ ROM_STUB_NOT_ENOUGH_DATA, "not enough data" },
	{ ROM_STUB_TOO_MUCH_DATA, "too much data" },
	{ ROM_STUB_CMD_NOT_IMPLEMENTED, "command not implemented" },
};

static const char *
lookup(const struct code_name *t, size_t n, uint8_t code, const char *dflt)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return dflt;
}

const char *
rom_cmds_rom_err_str(uint8_t code)
{
	return lookup(rom_errs, sizeof rom_errs / sizeof rom_errs[0], code, "unknown ROM error");
}

const char *
rom_cmds_stub_err_str(uint8_t code)
{
	return lookup(stub_errs, sizeof stub_errs / sizeof stub_errs[0], code, "unknown stub error");
}

/* esptool v4.6.2's table (FatalError.WithResult), keyed by the two status bytes as a u16. */
static const struct {
	uint16_t result;
	const char *text;
} esptool_results[] = {
	{ 0x0101, "Out of memory" },
	{ 0x0102, "Invalid argument" },
	{ 0x0103, "Invalid state" },
	{ 0x0104, "Invalid size" },
	{ 0x0105, "Requested resource not found" },
	{ 0x0106, "Operation or feature not supported" },
	{ 0x0107, "Operation timed out" },
	{ 0x0108, "Received response was invalid" },
	{ 0x0109, "CRC or checksum was invalid" },
	{ 0x010A, "Version was invalid" },
	{ 0x010B, "MAC address was invalid" },
	{ 0xC000, "Bad data length" },
	{ 0xC100, "Bad data checksum" },
	{ 0xC200, "Bad blocksize" },
	{ 0xC300, "Invalid command" },
	{ 0xC400, "Failed SPI operation" },
	{ 0xC500, "Failed SPI unlock" },
	{ 0xC600, "Not in flash mode" },
	{ 0xC700, "Inflate error" },
	{ 0xC800, "Not enough data" },
	{ 0xC900, "Too much data" },
	{ 0xFF00, "Command not implemented" },
};

const char *
rom_cmds_esptool_result_str(uint8_t status0, uint8_t status1)
{
	uint16_t r = (uint16_t)(status0 << 8 | status1);

	for (size_t i = 0; i < sizeof esptool_results / sizeof esptool_results[0]; i++)
		if (esptool_results[i].result == r)
			return esptool_results[i].text;
	return NULL;
}
