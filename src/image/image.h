/*
 * image.h: ESP8266 firmware images and whole-flash dumps: parse, explain, patch, relayout.
 *
 * Principles of operation. Everything here works on a byte buffer that the caller owns (a file
 * read into memory, or a dump fresh from the chip); nothing does I/O except image_cli.c. The
 * parsers never read past the buffer: every length is checked against what is there before it
 * is used, and every refusal says what was wrong and at which offset. The formats are those of
 * ../shared/reference/protocol.md §12 (images) and §13 (flash maps, the 2nd-stage bootloader and
 * the 1 MB -> 4 MB problem); section numbers below refer to it.
 *
 * Errors: RC_ERR_FORMAT for data that is not what it should be (the cause gives the offset),
 * RC_ERR_ARG for a request that cannot be met (a relayout that does not fit). Causes are heap
 * strings the caller frees.
 */
#ifndef ESPDESK_IMAGE_H
#define ESPDESK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#define IMAGE_MAGIC_V1 0xE9
#define IMAGE_MAGIC_V2 0xEA
#define IMAGE_MAX_SEGMENTS 16  /* esptool's verify() refuses more (§12.1) */
#define IMAGE_SECTOR 0x1000u

enum image_format { IMAGE_FMT_V1 = 1, IMAGE_FMT_V2 = 2 };

struct image_seg {
	uint32_t addr;      /* load address */
	uint32_t len;
	uint32_t file_off;  /* offset of the segment's data in the buffer */
};

/* One parsed application or boot image. Plain data; nothing to free. */
struct image {
	enum image_format fmt;
	uint32_t off;          /* where the image starts in the buffer */
	uint32_t len;          /* bytes it occupies, checksum (and v2 CRC) included */
	uint32_t hdr_off;      /* offset of the 0xE9 header that holds mode/size/entry (off for v1,
	                        * after the IROM part for v2) */
	uint8_t mode;          /* 0 QIO, 1 QOUT, 2 DIO, 3 DOUT */
	uint8_t size_code;     /* high nibble of header byte 3 */
	uint8_t freq_code;     /* low nibble */
	uint32_t entry;
	uint8_t v2_b2, v2_b3;  /* v2: bytes 2..3 of the 0xEA header (the SDK writes 0, app number) */
	uint32_t irom_len;     /* v2: length of the IROM part (not covered by the checksum) */
	unsigned nseg;
	struct image_seg seg[IMAGE_MAX_SEGMENTS];
	uint8_t csum_stored, csum_calc;
	int has_crc;           /* v2: a CRC-32 follows the checksum */
	uint32_t crc_stored, crc_calc;
};

/*
 * Parses the image that starts at off in buf[0..len). Returns RC_OK when the structure is sound
 * (magic, at most 16 segments, every segment and the checksum inside the buffer), even when the
 * checksum does not match: see image_ok(). RC_ERR_FORMAT otherwise, with the reason and offset.
 */
int image_parse(const uint8_t *buf, size_t len, uint32_t off, struct image *img, char **cause);
/* 1 when the stored checksum (and the v2 CRC) match the data. */
int image_ok(const struct image *img);
/* The ESP8266 image checksum: 0xEF XOR every byte (§12.3). */
uint8_t image_checksum(const uint8_t *p, size_t len, uint8_t seed);
/* The v2 image CRC of len bytes as stored by the SDK (§12.6). */
uint32_t image_v2_crc(const uint8_t *p, size_t len);
/* Rewrites the checksum (and the v2 CRC) of a parsed image in buf to match its data. */
void image_fix_checksum(uint8_t *buf, const struct image *img);

/* Header codes (§12.1). Names: "QIO".."DOUT"; "512KB".."16MB", "2MB-c1", "4MB-c1";
 * "40MHz", "26.7MHz", "20MHz", "80MHz". NULL for an unknown code. */
const char *image_mode_name(int mode);
const char *image_size_name(int size_code);
const char *image_freq_name(int freq_code);
/* Bytes of flash a size code stands for; 0 for an unknown code. */
uint32_t image_size_bytes(int size_code);
/* The boot_v1.x map string for a size code ("8Mbit(512KB+512KB)"), NULL if none. */
const char *image_map_name(int size_code);
/* Address of user2 for a size code's map (0x41000, 0x81000 or 0x101000); 0 if no OTA. */
uint32_t image_user2_addr(int size_code);
/* Parse option values: "qio".."dout", "512KB".."16MB" (also "1M", "4MB-c1"), "40m".."80m".
 * "keep" gives -1; anything else gives -2. Case-insensitive. */
int image_mode_parse(const char *s);
int image_size_parse(const char *s);
int image_freq_parse(const char *s);
/* The plain (512+512 where it exists) size code for a flash of bytes; -1 if none. */
int image_size_code_for(uint32_t bytes, int prefer_1024_map);

/* Firmware families recognised by their markers. */
enum image_family {
	IMAGE_FAM_UNKNOWN, IMAGE_FAM_STOCK, IMAGE_FAM_TASMOTA, IMAGE_FAM_ESPHOME,
	IMAGE_FAM_ESPURNA, IMAGE_FAM_ARDUINO, IMAGE_FAM_AT,
};
const char *image_family_name(enum image_family f);

/* What sits at 0x0. */
enum image_boot {
	IMAGE_BOOT_NONE,   /* no image at 0x0 */
	IMAGE_BOOT_NONOS,  /* Espressif boot_v1.x (2nd stage, OTA slots) */
	IMAGE_BOOT_RBOOT,
	IMAGE_BOOT_EBOOT,  /* esp8266/Arduino's eboot followed by the sketch at 0x1000 */
	IMAGE_BOOT_APP,    /* an application loaded by the ROM directly (non-OTA) */
	IMAGE_BOOT_OTHER,  /* a valid image we cannot name */
};
const char *image_boot_name(enum image_boot b);

#define IMAGE_MAX_FOUND 8

struct image_found {
	uint32_t off;
	char text[40];
};

struct image_run {
	uint32_t off, len;
	uint8_t value;  /* 0xFF blank or 0x00 zero */
};

/* A whole-flash dump explained. Plain data; nothing to free. */
struct image_dump {
	uint32_t size;           /* bytes in the dump */
	uint32_t chip_size;      /* the chip to judge against, 0 = unknown */
	int has_boot;            /* a structurally valid image at 0x0 */
	struct image boot;
	enum image_boot boot_kind;
	char boot_version[48];   /* "1.7" (from the entry point), "rBoot v1.4.2", ... */
	uint32_t hdr_size;       /* bytes the 0x0 header claims; 0 when unknown */
	/* OTA slots (NONOS layout) or the sketch at 0x1000 (eboot). */
	struct {
		uint32_t addr;
		int present;     /* a structurally valid image is there */
		struct image img;
	} slot[3];               /* [1] user1, [2] user2; [0] unused */
	int selected;            /* 1 or 2 per the boot parameters; 0 unknown or not OTA */
	char selected_why[96];
	/* The SDK system area, located from the header size (§13.1). */
	uint32_t rf_cal, init_data, sysparam;
	int area_in_dump;        /* the area lies inside the dump */
	int init_ok;             /* init data starts with 0x05 */
	int init_blank;
	struct image_run runs[32];
	unsigned nruns, more_runs;
	enum image_family family;
	char family_marker[48];
	uint32_t family_off;
	struct image_found device_id[IMAGE_MAX_FOUND], api_key[IMAGE_MAX_FOUND], mac[IMAGE_MAX_FOUND];
	unsigned ndevice_id, napi_key, nmac;
	/* Plain-language findings, most important first. */
	char verdict[8][200];
	unsigned nverdict;
	int will_boot;           /* 1 likely, 0 will not, -1 cannot tell */
};

/*
 * Explains buf[0..len) as a whole-flash dump (it also works on a single image at 0x0).
 * chip_size (0 = unknown) is the chip it would be written to. Never fails on data: what cannot
 * be understood is said in the verdicts. RC_ERR_ARG only for len == 0.
 */
int image_dump_explain(const uint8_t *buf, size_t len, uint32_t chip_size, struct image_dump *d,
    char **cause);

/* Firmware family by markers (image_family.c); *marker and *off say what was found. */
enum image_family image_family_detect(const uint8_t *buf, size_t len, const char **marker,
    uint32_t *off);
/* Finds eWeLink device ids (10 hex chars starting "1000"), API keys (UUIDs) and MAC addresses
 * written as text. Fills d's identity arrays. */
void image_identity_find(const uint8_t *buf, size_t len, struct image_dump *d);

/* Identity patch: replaces every occurrence of the old value with the new one (each NULL = keep).
 * The old values are what image_identity_find() found; more than one distinct old value is
 * refused (RC_ERR_ARG, the cause lists them). Images whose bytes changed get their checksum
 * fixed. buf is modified in place: callers work on a copy. *changes counts replaced bytes runs. */
int image_patch_identity(uint8_t *buf, size_t len, const char *device_id, const char *api_key,
    const char *mac, unsigned *changes, char **cause);
/* Header patch of the image at off: mode/size/freq codes, -1 = keep. v2 images get their CRC
 * fixed. Returns 1 when bytes changed, 0 when already so; RC_ERR_FORMAT for a non-image. */
int image_patch_header(uint8_t *buf, size_t len, uint32_t off, int mode, int size_code, int freq,
    char **cause);
/*
 * Moves a dump to a chip of to_size bytes: copies everything below the SDK system area, puts the
 * RF calibration, init data and system parameter sectors where to_size expects them (§13.1) and
 * patches the size in the header at 0x0. *out is a new buffer of to_size bytes (caller frees).
 * RC_ERR_ARG when the data would not fit (the cause names the first byte in the way).
 */
int image_relayout(const uint8_t *buf, size_t len, uint32_t to_size, uint8_t **out, char **cause);

#endif
