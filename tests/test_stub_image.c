/*
 * The stub image the engine uploads, against stub.md: IRAM window 0x4010D000 + 0x2100, the
 * literal 0x400010A8 (stub_entry's return address into the ROM) in the first word, the entry at
 * 0x4010D004 as esptool's, data inside DRAM 0x3FFE8100..0x3FFFC000.
 */
#include "config.h"

#include "core/common.h"
#include "stub/stub_image.h"
#include "tap.h"

static void
test_windows(void)
{
	const struct stub_image *im = &stub_image_esp8266;

	T_EQ_HEX(im->text_addr, 0x4010D000);
	T_TRUE(im->text_len > 1000 && im->text_len <= 0x2100);
	T_TRUE(im->text_len % 4 == 0);
	T_EQ_HEX(im->entry, 0x4010D004);
	T_TRUE(im->entry >= im->text_addr && im->entry < im->text_addr + im->text_len);
	T_TRUE(im->data_addr >= 0x3FFE8100);
	T_TRUE(im->data_len > 0 && im->data_addr + im->data_len <= 0x3FFFC000);
}

static void
test_entry_literal(void)
{
	/* stub.md: the entry sets a0 = 0x400010A8; the literal sits in front of the entry. */
	T_EQ_HEX(rd_le32(stub_image_esp8266.text), 0x400010A8);
}

int
main(void)
{
	T_RUN(test_windows);
	T_RUN(test_entry_literal);
	return t_done();
}
