#include "config.h"

#include "rom/rom_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/xmalloc.h"

uint8_t
rom_proto_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t c = ROM_CHECKSUM_SEED;

	for (size_t i = 0; i < len; i++)
		c ^= p[i];
	return c;
}

static void
put_hdr(uint8_t *dst, uint8_t dir, uint8_t op, size_t size, uint32_t word)
{
	dst[0] = dir;
	dst[1] = op;
	wr_le16(dst + 2, (uint16_t)size);
	wr_le32(dst + 4, word);
}

size_t
rom_proto_cmd_build(uint8_t *dst, size_t cap, uint8_t op, const void *data, size_t len,
    uint32_t checksum)
{
	if (len > 0xFFFF || cap < ROM_HDR_LEN + len)
		return 0;
	put_hdr(dst, ROM_DIR_CMD, op, len, checksum);
	if (len > 0)
		memcpy(dst + ROM_HDR_LEN, data, len);
	return ROM_HDR_LEN + len;
}

size_t
rom_proto_data_cmd_build(uint8_t *dst, size_t cap, uint8_t op, uint32_t seq, const void *data,
    size_t len)
{
	size_t size = ROM_DATA_HDR_LEN + len;
	uint8_t *p;

	if (size > 0xFFFF || cap < ROM_HDR_LEN + size)
		return 0;
	put_hdr(dst, ROM_DIR_CMD, op, size, rom_proto_checksum(data, len));
	p = dst + ROM_HDR_LEN;
	wr_le32(p, (uint32_t)len);
	wr_le32(p + 4, seq);
	memset(p + 8, 0, 8);
	if (len > 0)
		memcpy(p + ROM_DATA_HDR_LEN, data, len);
	return ROM_HDR_LEN + size;
}

size_t
rom_proto_words_cmd_build(uint8_t *dst, size_t cap, uint8_t op, const uint32_t *words, size_t n)
{
	size_t len = 4 * n;

	if (len > 0xFFFF || cap < ROM_HDR_LEN + len)
		return 0;
	put_hdr(dst, ROM_DIR_CMD, op, len, 0);
	for (size_t i = 0; i < n; i++)
		wr_le32(dst + ROM_HDR_LEN + 4 * i, words[i]);
	return ROM_HDR_LEN + len;
}

static int fail(char **cause, const char *fmt, ...) ED_PRINTFLIKE(2, 3);

static int
fail(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause != NULL) {
		char tmp[256];

		va_start(ap, fmt);
		vsnprintf(tmp, sizeof tmp, fmt, ap);
		va_end(ap);
		*cause = xstrdup(tmp);
	}
	return RC_ERR_PROTO;
}

int
rom_proto_cmd_parse(const uint8_t *pkt, size_t len, struct rom_proto_cmd *cmd, char **cause)
{
	if (cause != NULL)
		*cause = NULL;
	memset(cmd, 0, sizeof *cmd);
	if (len < ROM_HDR_LEN)
		return fail(cause, "command packet of %zu bytes is shorter than the 8-byte header; "
		    "the frame was cut short or is noise, resend it", len);
	if (pkt[0] != ROM_DIR_CMD)
		return fail(cause, "command packet starts with direction byte 0x%02x at offset 0, "
		    "expected 0x00; this is not a host command", pkt[0]);
	cmd->op = pkt[1];
	cmd->size = rd_le16(pkt + 2);
	cmd->checksum = rd_le32(pkt + 4);
	cmd->data = pkt + ROM_HDR_LEN;
	if (cmd->size != len - ROM_HDR_LEN)
		return fail(cause, "command 0x%02x (%s) says %u data bytes at offset 2 but carries %zu; "
		    "the frame lost or gained bytes, resend it", cmd->op, rom_cmds_name(cmd->op),
		    cmd->size, len - ROM_HDR_LEN);
	return RC_OK;
}

uint32_t
rom_proto_cmd_word(const struct rom_proto_cmd *cmd, size_t i)
{
	if ((size_t)cmd->size < 4 * i + 4)
		return 0;
	return rd_le32(cmd->data + 4 * i);
}

enum rom_proto_data_check
rom_proto_data_parse(const struct rom_proto_cmd *cmd, struct rom_proto_data *d)
{
	memset(d, 0, sizeof *d);
	if (cmd->size < ROM_DATA_HDR_LEN)
		return ROM_DATA_SHORT;
	d->len = rd_le32(cmd->data);
	d->seq = rd_le32(cmd->data + 4);
	d->payload = cmd->data + ROM_DATA_HDR_LEN;
	if (d->len != (uint32_t)cmd->size - ROM_DATA_HDR_LEN) {
		d->payload = NULL;
		return ROM_DATA_LEN;
	}
	/* Only the low byte carries the checksum; the ROM and stub compare it as a word. */
	if (cmd->checksum != rom_proto_checksum(d->payload, d->len))
		return ROM_DATA_CHECKSUM;
	return ROM_DATA_OK;
}

static size_t
resp_build(uint8_t *dst, size_t cap, uint8_t op, uint32_t value, const void *data, size_t len,
    uint8_t s0, uint8_t s1)
{
	size_t size = len + ROM_STATUS_LEN;

	if (size > 0xFFFF || cap < ROM_HDR_LEN + size)
		return 0;
	put_hdr(dst, ROM_DIR_RESP, op, size, value);
	if (len > 0)
		memcpy(dst + ROM_HDR_LEN, data, len);
	dst[ROM_HDR_LEN + len] = s0;
	dst[ROM_HDR_LEN + len + 1] = s1;
	return ROM_HDR_LEN + size;
}

size_t
rom_proto_resp_build_rom(uint8_t *dst, size_t cap, uint8_t op, uint32_t value, const void *data,
    size_t len, uint8_t status, uint8_t error)
{
	return resp_build(dst, cap, op, value, data, len, status, error);
}

size_t
rom_proto_resp_build_stub(uint8_t *dst, size_t cap, uint8_t op, uint32_t value, const void *data,
    size_t len, uint8_t error, uint8_t status)
{
	return resp_build(dst, cap, op, value, data, len, error, status);
}

int
rom_proto_resp_parse(const uint8_t *pkt, size_t len, struct rom_proto_resp *r, char **cause)
{
	if (cause != NULL)
		*cause = NULL;
	memset(r, 0, sizeof *r);
	if (len < ROM_HDR_LEN + ROM_STATUS_LEN)
		return fail(cause, "response of %zu bytes is shorter than header plus status (10 bytes); "
		    "the reply was cut short, check the cable and retry", len);
	if (pkt[0] != ROM_DIR_RESP)
		return fail(cause, "response starts with direction byte 0x%02x at offset 0, expected "
		    "0x01; the device is not answering as a ROM loader or stub (boot log or noise?)",
		    pkt[0]);
	r->op = pkt[1];
	r->size = rd_le16(pkt + 2);
	r->value = rd_le32(pkt + 4);
	if (r->size != len - ROM_HDR_LEN)
		return fail(cause, "response to 0x%02x (%s) says %u data bytes at offset 2 but "
		    "carries %zu; bytes were lost or corrupted on the line, retry at a lower baud",
		    r->op, rom_cmds_name(r->op), r->size, len - ROM_HDR_LEN);
	r->data = pkt + ROM_HDR_LEN;
	r->data_len = len - ROM_HDR_LEN - ROM_STATUS_LEN;
	r->status[0] = pkt[len - 2];
	r->status[1] = pkt[len - 1];
	return RC_OK;
}

int
rom_proto_resp_failed(const struct rom_proto_resp *r)
{
	return r->status[0] != 0;
}

char *
rom_proto_failure_str(const struct rom_proto_resp *r, int is_stub, uint32_t arg)
{
	const struct rom_cmd_info *c = rom_cmds_find(r->op);
	const char *et = rom_cmds_esptool_result_str(r->status[0], r->status[1]);
	char desc[128], meaning[96];
	char *out;

	if (c != NULL && c->fail_desc != NULL && c->fail_arg == ROM_FAIL_ARG_DEC)
		snprintf(desc, sizeof desc, "%s %u", c->fail_desc, (unsigned)arg);
	else if (c != NULL && c->fail_desc != NULL && c->fail_arg == ROM_FAIL_ARG_HEX)
		snprintf(desc, sizeof desc, "%s %08x", c->fail_desc, (unsigned)arg);
	else if (c != NULL && c->fail_desc != NULL)
		snprintf(desc, sizeof desc, "%s", c->fail_desc);
	else
		snprintf(desc, sizeof desc, "run command 0x%02x (%s)", r->op, rom_cmds_name(r->op));
	if (is_stub)
		snprintf(meaning, sizeof meaning, "stub error 0x%02x, %s", r->status[0],
		    rom_cmds_stub_err_str(r->status[0]));
	else if (r->status[0] == 1)
		snprintf(meaning, sizeof meaning, "ROM error 0x%02x, %s", r->status[1],
		    rom_cmds_rom_err_str(r->status[1]));
	else
		snprintf(meaning, sizeof meaning, "ROM status 0x%02x", r->status[0]);
	if (et != NULL && is_stub)
		xasprintf(&out, "Failed to %s (result was %02X%02X: %s)", desc, r->status[0],
		    r->status[1], et);
	else
		xasprintf(&out, "Failed to %s (result was %02X%02X: %s)", desc, r->status[0],
		    r->status[1], meaning);
	return out;
}
