/*
 * rom_proto.h: ESP8266 ROM loader and flasher-stub packets (protocol.md §3, §4).
 *
 * Principles of operation. Everything here is a pure function over caller-owned byte buffers:
 * nothing allocates (except the optional `cause` strings), nothing does I/O, nothing keeps
 * state. SLIP framing is separate (rom/slip.h): these functions see unescaped packets.
 *
 *   host -> device  command   00 op size16 checksum32 data[size]
 *   device -> host  response  01 op size16 value32 data[size]; the last 2 data bytes are status
 *
 * The ESP8266 ROM's two status bytes are [status, error] (status 1 = failure, error = ROM code);
 * every stub's are [error, status] (error = stub code 0xC0..0xC9 / 0xFF). A host tells failure
 * from success the same way for both, as esptool does: the first status byte is non-zero
 * (protocol.md §3.3). *_DATA commands carry a 16-byte data header (length, seq, 0, 0) and an
 * 8-bit checksum of the payload after it, seeded with 0xEF (§3.4).
 *
 * Who uses what: the flasher builds commands and parses responses (host side); the simulator
 * parses commands and builds responses for its ROM loader (device side). The stub (src/stub/)
 * does not link this file: it is freestanding and keeps its own copy of the few constants it
 * needs; tests/test_stub.c checks that both agree.
 *
 * Errors: builders return the packet length, or 0 when the destination is too small or the
 * payload does not fit the 16-bit size field. Parsers return RC_OK or RC_ERR_PROTO and, when
 * cause is not NULL, set *cause to a message the caller frees with free().
 */
#ifndef ESPDESK_ROM_PROTO_H
#define ESPDESK_ROM_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes (protocol.md §4.0). */
enum rom_op {
	ROM_OP_FLASH_BEGIN = 0x02,
	ROM_OP_FLASH_DATA = 0x03,
	ROM_OP_FLASH_END = 0x04,
	ROM_OP_MEM_BEGIN = 0x05,
	ROM_OP_MEM_END = 0x06,
	ROM_OP_MEM_DATA = 0x07,
	ROM_OP_SYNC = 0x08,
	ROM_OP_WRITE_REG = 0x09,
	ROM_OP_READ_REG = 0x0A,
	ROM_OP_SPI_SET_PARAMS = 0x0B,
	ROM_OP_SPI_ATTACH = 0x0D,
	ROM_OP_READ_FLASH_SLOW = 0x0E,
	ROM_OP_CHANGE_BAUDRATE = 0x0F,
	ROM_OP_FLASH_DEFL_BEGIN = 0x10,
	ROM_OP_FLASH_DEFL_DATA = 0x11,
	ROM_OP_FLASH_DEFL_END = 0x12,
	ROM_OP_SPI_FLASH_MD5 = 0x13,
	ROM_OP_GET_SECURITY_INFO = 0x14,
	ROM_OP_ERASE_FLASH = 0xD0,
	ROM_OP_ERASE_REGION = 0xD1,
	ROM_OP_READ_FLASH = 0xD2,
	ROM_OP_RUN_USER_CODE = 0xD3,
};

#define ROM_DIR_CMD 0x00
#define ROM_DIR_RESP 0x01
#define ROM_HDR_LEN 8             /* command and response header */
#define ROM_DATA_HDR_LEN 16       /* the *_DATA payload header: len, seq, 0, 0 */
#define ROM_STATUS_LEN 2          /* ESP8266 ROM and every stub */
#define ROM_CHECKSUM_SEED 0xEF
#define ROM_SYNC_VALUE 0x20120707u /* value of every ROM SYNC reply; a stub answers 0 */
#define ROM_SYNC_DATA_LEN 36      /* 07 07 12 20 + 32 x 55 */
#define ROM_SYNC_REPLIES 8
#define ROM_MAGIC_REG 0x40001000u
#define ROM_MAGIC_ESP8266 0xFFF0C101u
#define ROM_FLASH_BLOCK 0x400     /* FLASH_DATA block size for the ROM */
#define ROM_STUB_FLASH_BLOCK 0x4000 /* stub MAX_WRITE_BLOCK */
#define ROM_RAM_BLOCK 0x1800      /* MEM_DATA block size */
#define ROM_PKT_MAX (ROM_HDR_LEN + 0xFFFF)

/* ROM error codes, the second status byte when the first is 1 (protocol.md §3.3). */
enum rom_err {
	ROM_ERR_UNDEFINED = 0x00,
	ROM_ERR_INVALID_PARAM = 0x01,
	ROM_ERR_MALLOC = 0x02,
	ROM_ERR_SEND = 0x03,
	ROM_ERR_RECV = 0x04,
	ROM_ERR_INVALID_MSG = 0x05,     /* also the reply to an unknown opcode (§4.6, advice (a)) */
	ROM_ERR_OP_FAILED = 0x06,
	ROM_ERR_CHECKSUM = 0x07,
	ROM_ERR_FLASH_WRITE = 0x08,
	ROM_ERR_FLASH_READ = 0x09,
	ROM_ERR_FLASH_READ_LEN = 0x0A,
	ROM_ERR_DEFLATE = 0x0B,
	ROM_ERR_DEFLATE_ADLER = 0x0C,
	ROM_ERR_DEFLATE_PARAM = 0x0D,
	ROM_ERR_RAM_SIZE = 0x0E,
	ROM_ERR_RAM_ADDR = 0x0F,
	ROM_ERR_PARAM = 0x64,
	ROM_ERR_FORMAT = 0x65,
	ROM_ERR_DESC_LONG = 0x66,
	ROM_ERR_DESC_ENCODING = 0x67,
	ROM_ERR_STORAGE = 0x69,
};

/* Stub error codes, the first status byte of a stub reply (protocol.md §3.3). */
enum rom_stub_err {
	ROM_STUB_OK = 0x00,
	ROM_STUB_BAD_DATA_LEN = 0xC0,
	ROM_STUB_BAD_DATA_CHECKSUM = 0xC1,
	ROM_STUB_BAD_BLOCKSIZE = 0xC2,
	ROM_STUB_INVALID_COMMAND = 0xC3,
	ROM_STUB_FAILED_SPI_OP = 0xC4,
	ROM_STUB_FAILED_SPI_UNLOCK = 0xC5,
	ROM_STUB_NOT_IN_FLASH_MODE = 0xC6,
	ROM_STUB_INFLATE_ERROR = 0xC7,
	ROM_STUB_NOT_ENOUGH_DATA = 0xC8,
	ROM_STUB_TOO_MUCH_DATA = 0xC9,
	ROM_STUB_CMD_NOT_IMPLEMENTED = 0xFF,
};

/* Where an opcode is implemented (protocol.md §4.0). */
#define ROM_CMD_ROM 0x1   /* the ESP8266 ROM loader */
#define ROM_CMD_STUB 0x2  /* the ESP8266 flasher stub */

/* One row of the command table (rom_cmds.c). */
struct rom_cmd_info {
	uint8_t op;
	unsigned where;        /* ROM_CMD_* bits */
	const char *name;      /* "FLASH_BEGIN" */
	const char *fail_desc; /* esptool's "Failed to <fail_desc>"; NULL where esptool has none */
	uint32_t timeout_ms;   /* esptool's default timeout; size-scaled commands give the minimum */
	uint8_t fail_arg;      /* ROM_FAIL_ARG_*: the number esptool appends to fail_desc */
};
#define ROM_FAIL_ARG_NONE 0
#define ROM_FAIL_ARG_DEC 1  /* " 3" (FLASH_DATA seq) */
#define ROM_FAIL_ARG_HEX 2  /* " 3ff00050" (READ_REG address, %08x) */

/* The table, ordered by opcode; rom_cmds_count entries. */
extern const struct rom_cmd_info rom_cmds[];
extern const size_t rom_cmds_count;
/* The row for op, or NULL for an opcode not in protocol.md §4.0. */
const struct rom_cmd_info *rom_cmds_find(uint8_t op);
/* "FLASH_BEGIN", or "UNKNOWN" for an unlisted opcode. Never NULL. */
const char *rom_cmds_name(uint8_t op);
/* Name of a ROM error code ("checksum error"), or "unknown ROM error". Never NULL. */
const char *rom_cmds_rom_err_str(uint8_t code);
/* Name of a stub error code ("bad data checksum"), or "unknown stub error". Never NULL. */
const char *rom_cmds_stub_err_str(uint8_t code);
/*
 * esptool's text for a failure result: the two status bytes read as a big-endian u16 and looked
 * up in esptool's table (0xC000..0xC900 and 0xFF00 for the stub; 0x0101..0x010B, where 01 07
 * prints as "Operation timed out" and 01 05 as "Requested resource not found" although the
 * ESP8266 ROM means checksum error / invalid message). NULL if esptool has no text for it.
 */
const char *rom_cmds_esptool_result_str(uint8_t status0, uint8_t status1);

/* 0xEF-seeded XOR of len bytes (the *_DATA checksum and the image checksum). */
uint8_t rom_proto_checksum(const void *data, size_t len);

/*
 * Host side. Builds a command packet (unescaped) in dst: header (dir 0x00, op, size = len,
 * checksum) followed by a copy of data. Returns ROM_HDR_LEN + len, or 0 if it does not fit cap
 * or len > 0xFFFF. data may be NULL when len is 0.
 */
size_t rom_proto_cmd_build(uint8_t *dst, size_t cap, uint8_t op, const void *data, size_t len,
    uint32_t checksum);
/*
 * Host side. Builds a *_DATA command (MEM_DATA, FLASH_DATA, FLASH_DEFL_DATA): header, the
 * 16-byte data header (len, seq, 0, 0), then data; the checksum covers data only. Returns the
 * packet length (ROM_HDR_LEN + 16 + len) or 0 as rom_proto_cmd_build().
 */
size_t rom_proto_data_cmd_build(uint8_t *dst, size_t cap, uint8_t op, uint32_t seq,
    const void *data, size_t len);
/* Host side. Builds a command whose payload is n little-endian u32 words. */
size_t rom_proto_words_cmd_build(uint8_t *dst, size_t cap, uint8_t op, const uint32_t *words,
    size_t n);

/* A parsed command (device side). data points into the caller's packet. */
struct rom_proto_cmd {
	uint8_t op;
	uint16_t size;        /* the header's size field; equals the data length */
	uint32_t checksum;    /* the header's checksum field as sent */
	const uint8_t *data;
};

/*
 * Device side. Parses an unescaped command packet of len bytes. Fails (RC_ERR_PROTO) if it is
 * shorter than 8 bytes, the direction byte is not 0x00 or the size field is not len - 8.
 */
int rom_proto_cmd_parse(const uint8_t *pkt, size_t len, struct rom_proto_cmd *cmd, char **cause);

/* Little-endian u32 word i of a command's data (0 if the data is too short for it). */
uint32_t rom_proto_cmd_word(const struct rom_proto_cmd *cmd, size_t i);

/* Result of checking a *_DATA command's data header and checksum. */
enum rom_proto_data_check {
	ROM_DATA_OK = 0,
	ROM_DATA_SHORT,     /* fewer than 16 data bytes */
	ROM_DATA_LEN,       /* the header's length word is not size - 16 */
	ROM_DATA_CHECKSUM,  /* the 0xEF-seeded XOR of the payload differs from the checksum field */
};

/* A *_DATA command's payload after its 16-byte header. */
struct rom_proto_data {
	uint32_t len;         /* the data header's length word */
	uint32_t seq;
	const uint8_t *payload; /* len bytes, valid when the check is ROM_DATA_OK or ROM_DATA_CHECKSUM */
};

/* Device side. Splits and checks a *_DATA command. Fills *d whenever 16 header bytes exist. */
enum rom_proto_data_check rom_proto_data_parse(const struct rom_proto_cmd *cmd,
    struct rom_proto_data *d);

/*
 * Device side, ESP8266 ROM. Builds a response: header (dir 0x01, op, size = len + 2, value), data,
 * then the ROM's status bytes [status, error]. Success is status 0, error 0; failure is status 1
 * and a ROM error code. Returns the packet length or 0 if it does not fit.
 */
size_t rom_proto_resp_build_rom(uint8_t *dst, size_t cap, uint8_t op, uint32_t value,
    const void *data, size_t len, uint8_t status, uint8_t error);
/* Device side, stub. As above with the stub's status bytes [error, status]. */
size_t rom_proto_resp_build_stub(uint8_t *dst, size_t cap, uint8_t op, uint32_t value,
    const void *data, size_t len, uint8_t error, uint8_t status);

/* A parsed response (host side). data points into the caller's packet. */
struct rom_proto_resp {
	uint8_t op;
	uint16_t size;        /* the header's size field (data + status bytes) */
	uint32_t value;
	const uint8_t *data;  /* the bytes before the status bytes */
	size_t data_len;
	uint8_t status[2];    /* the last two bytes, in wire order */
};

/*
 * Host side. Parses an unescaped response of len bytes. Fails (RC_ERR_PROTO) if it is shorter
 * than 10 bytes, the direction byte is not 0x01, or the size field is not len - 8 or is below 2.
 * A parsed response may still report a failure: see rom_proto_resp_failed().
 */
int rom_proto_resp_parse(const uint8_t *pkt, size_t len, struct rom_proto_resp *r, char **cause);
/* True if the device reported a failure: the first status byte is non-zero (esptool's test). */
int rom_proto_resp_failed(const struct rom_proto_resp *r);
/*
 * Host side. A message for a failed response, in esptool's words where it has them, with the
 * real meaning for the ROM or stub, for example
 * "Failed to write to target Flash after seq 3 (result was 0107: ROM error 0x07, checksum error)".
 * is_stub chooses how to read the status bytes. arg fills the description where it names a
 * number: the block seq for FLASH_DATA / FLASH_DEFL_DATA, the address for READ_REG.
 * Caller frees with free().
 */
char *rom_proto_failure_str(const struct rom_proto_resp *r, int is_stub, uint32_t arg);

#endif
