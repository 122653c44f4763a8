/*
 * sim_fw.h: builds whole flash images for espdesk-sim from the reference's layouts
 * (protocol.md §12-§13, bootlog.md §8-§9), for tests, the demo and anyone who needs a device
 * with something on it: `espdesk-sim make-firmware OUT [options]`.
 *
 * Layouts:
 *   nonos-ota    boot_v1.x at 0x0, user1 (v2, 0xEA) at 0x1000, optionally user2 at 0x41000 /
 *                0x81000 / 0x101000 (by map), esp_init_data at E-0x4000, system parameters
 *                at E-0x3000..E-1 selecting the slot (E = the size the header claims)
 *   nonos-plain  a v1 (0xE9) application at 0x0, its IROM part at 0x10000, init data at E-0x4000
 *   arduino      eboot (one segment at 0x4010f000) at 0x0, the sketch (v1) at 0x1000
 *   rboot        rBoot v1.2.1 at 0x0, its config in sector 1, rom 0 (v1) at 0x2000, rom 1 at
 *                E/2 + 0x2000 (bootlog.md §10), init data at E-0x4000
 * The boot loaders are stand-ins, not Espressif's binaries: they have the real ones' segment
 * layout (so the ROM prints the same `load`/`room`/`tail` lines as the real logs) and carry the
 * strings by which the simulator recognises them; their bytes are filler. Checksums follow the
 * ROM's rule. An application carries its behaviour as a script (sim_app.h) in a segment.
 *
 * Errors: sim_fw_build() returns RC_ERR_ARG with a cause (caller frees) for options that cannot
 * go together and for a script with errors; the flash is then not built.
 */
#ifndef ESPDESK_SIM_FW_H
#define ESPDESK_SIM_FW_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum sim_fw_layout { SIM_FW_NONOS_OTA, SIM_FW_NONOS_PLAIN, SIM_FW_ARDUINO, SIM_FW_RBOOT };

struct sim_fw_opts {
	enum sim_fw_layout layout;
	uint32_t flash_size;        /* bytes of the flash (the chip) and of the output */
	int size_nibble;            /* the layout's map code (header byte 3 high nibble) */
	int header_nibble;          /* what the header at 0x0 claims; -1: size_nibble (§13.3 tests) */
	uint8_t mode;               /* header byte 2: 0 QIO, 1 QOUT, 2 DIO, 3 DOUT */
	uint8_t freq;               /* header byte 3 low nibble: 0 40 MHz, 1 26, 2 20, 0xF 80 */
	const char *boot_version;   /* nonos-ota: "1.1", "1.2", "1.5", "1.6", "1.7(5d6f877)", ... */
	const char *script;         /* application script (without the marker), NULL for none */
	const char *script_name;    /* for error messages ("demo.app") */
	int slot;                   /* nonos-ota/rboot: 1 or 2, the slot the parameters/config select */
	int user1, user2;           /* nonos-ota/rboot: write an image into this slot */
	int corrupt_checksum;       /* the image at 0x0 gets a wrong checksum byte */
	int blank_init_data;        /* leave esp_init_data (E-0x4000) erased */
	uint32_t app_word;          /* arduino: first word of the sketch's first segment (eboot's v%08x) */
};

/* Defaults: nonos-ota, 1 MB (map 2), DOUT, 40 MHz, boot 1.6, user1 only, slot 1. */
void sim_fw_opts_default(struct sim_fw_opts *o);
/* Parses "512KB", "1MB", "2MB", "2MB-c1", "4MB", "4MB-c1", "8MB", "16MB" into bytes and the map
 * nibble. Returns 0 for an unknown name. */
int sim_fw_parse_size(const char *s, uint32_t *bytes, int *nibble);

struct sim_fw_seg {
	uint32_t addr;
	const uint8_t *data;  /* borrowed */
	uint32_t len;
};

/* Appends a v1 image (0xE9 header, segments, padding, checksum; protocol.md §12.1-12.3) to out,
 * starting at out's current length (the padding counts from there). Returns the checksum. */
uint8_t sim_fw_image_v1(struct buf *out, uint8_t mode, uint8_t size_freq, uint32_t entry,
    const struct sim_fw_seg *segs, unsigned nseg);
/* CRC-32 (IEEE) of p, the one a v2 image ends with before its transformation (§12.6). */
uint32_t sim_fw_crc32(const uint8_t *p, size_t n);

/* Builds the flash described by o into *out (o->flash_size bytes, caller frees with free()). */
int sim_fw_build(const struct sim_fw_opts *o, uint8_t **out, char **cause);

/* `espdesk-sim make-firmware OUT [options]`; argv[0] is "make-firmware". Prints and returns an
 * exit code (0 ok, 1 failed, 2 usage). sim_main.c dispatches to it. */
int sim_fw_main(int argc, char **argv);

#endif
