/* espdesk image-info, image-patch and image-relayout. */
#include "config.h"

#include "image/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/afile.h"
#include "core/xmalloc.h"

#define IMAGE_CLI_MAX (16u << 20)  /* the largest ESP8266 flash */

static void
image_cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
image_cli_print_image(FILE *f, const struct image *img, const char *indent)
{
	fprintf(f, "%s%s image at 0x%X, %u bytes: entry 0x%08X, %u segment%s, %s, %s, %s\n", indent,
	    img->fmt == IMAGE_FMT_V2 ? "OTA (0xEA, v2)" : "0xE9 (v1)", img->off, img->len, img->entry,
	    img->nseg, img->nseg == 1 ? "" : "s",
	    image_mode_name(img->mode) ? image_mode_name(img->mode) : "mode ?",
	    image_size_name(img->size_code) ? image_size_name(img->size_code) : "size ?",
	    image_freq_name(img->freq_code) ? image_freq_name(img->freq_code) : "freq ?");
	if (img->fmt == IMAGE_FMT_V2)
		fprintf(f, "%s  IROM part: %u bytes at 0x%X (header bytes 2..3: %02X %02X)\n", indent,
		    img->irom_len, img->off + 16, img->v2_b2, img->v2_b3);
	for (unsigned i = 0; i < img->nseg; i++)
		fprintf(f, "%s  segment %u: load 0x%08X, %u bytes (file offset 0x%X)\n", indent, i + 1,
		    img->seg[i].addr, img->seg[i].len, img->seg[i].file_off);
	fprintf(f, "%s  checksum 0x%02X stored, 0x%02X computed: %s\n", indent, img->csum_stored,
	    img->csum_calc, img->csum_stored == img->csum_calc ? "ok" : "MISMATCH");
	if (img->has_crc)
		fprintf(f, "%s  CRC 0x%08X stored, 0x%08X computed: %s\n", indent, img->crc_stored,
		    img->crc_calc, img->crc_stored == img->crc_calc ? "ok" : "MISMATCH");
}

static void
image_cli_json_image(FILE *f, const struct image *img)
{
	fprintf(f, "{\"format\":%d,\"offset\":%u,\"length\":%u,\"entry\":%u,\"mode\":\"%s\","
	    "\"size\":\"%s\",\"freq\":\"%s\",\"checksum_ok\":%s,\"segments\":[",
	    img->fmt, img->off, img->len, img->entry,
	    image_mode_name(img->mode) ? image_mode_name(img->mode) : "?",
	    image_size_name(img->size_code) ? image_size_name(img->size_code) : "?",
	    image_freq_name(img->freq_code) ? image_freq_name(img->freq_code) : "?",
	    image_ok(img) ? "true" : "false");
	for (unsigned i = 0; i < img->nseg; i++)
		fprintf(f, "%s{\"addr\":%u,\"length\":%u}", i ? "," : "", img->seg[i].addr, img->seg[i].len);
	fprintf(f, "]}");
}

static void
image_cli_found(FILE *f, const char *what, const struct image_found *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "  %-10s %s at 0x%X\n", what, a[i].text, a[i].off);
}

static void
image_cli_json_found(FILE *f, const char *key, const struct image_found *a, unsigned n)
{
	fprintf(f, ",\"%s\":[", key);
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, "%s{\"offset\":%u,\"value\":", i ? "," : "", a[i].off);
		image_cli_json_str(f, a[i].text);
		fputc('}', f);
	}
	fputc(']', f);
}

static void
image_cli_print_dump(FILE *f, const char *path, const struct image_dump *d)
{
	fprintf(f, "%s: %u bytes (%u KB)\n", path, d->size, d->size / 1024);
	fprintf(f, "boot at 0x0: %s%s%s\n", image_boot_name(d->boot_kind),
	    d->boot_version[0] ? " " : "", d->boot_version);
	if (d->has_boot)
		image_cli_print_image(f, &d->boot, "  ");
	for (int s = 1; s <= 2; s++) {
		if (d->slot[s].addr == 0)
			continue;
		if (d->slot[s].present) {
			fprintf(f, "%s at 0x%X:\n", d->boot_kind == IMAGE_BOOT_EBOOT ? "sketch" : s == 1 ? "user1" : "user2",
			    d->slot[s].addr);
			image_cli_print_image(f, &d->slot[s].img, "  ");
		} else if (d->boot_kind == IMAGE_BOOT_NONOS)
			fprintf(f, "user%d at 0x%X: no valid image\n", s, d->slot[s].addr);
	}
	if (d->selected)
		fprintf(f, "boot selects user%d (%s)\n", d->selected, d->selected_why);
	else if (d->selected_why[0])
		fprintf(f, "boot slot unknown: %s\n", d->selected_why);
	if (d->rf_cal)
		fprintf(f, "system area (for the %s the header claims): RF calibration 0x%X, esp_init_data 0x%X (%s), system parameters 0x%X-0x%X\n",
		    d->hdr_size ? image_size_name(d->boot.size_code) : "size of this dump", d->rf_cal,
		    d->init_data,
		    !d->area_in_dump ? "outside this dump" : d->init_ok ? "valid, starts 0x05" :
		    d->init_blank ? "blank" : "invalid", d->sysparam, d->sysparam + 0x2FFF);
	for (unsigned i = 0; i < d->nruns; i++)
		fprintf(f, "  0x%06X-0x%06X %s (%u KB)\n", d->runs[i].off, d->runs[i].off + d->runs[i].len - 1,
		    d->runs[i].value == 0xFF ? "blank (0xFF)" : "zero (0x00)", d->runs[i].len / 1024);
	if (d->more_runs)
		fprintf(f, "  ... and %u more blank or zero regions\n", d->more_runs);
	fprintf(f, "firmware family: %s", image_family_name(d->family));
	if (d->family_marker[0])
		fprintf(f, " (found \"%s\" at 0x%X)", d->family_marker, d->family_off);
	fputc('\n', f);
	if (d->ndevice_id + d->napi_key + d->nmac > 0) {
		fprintf(f, "identity:\n");
		image_cli_found(f, "device id", d->device_id, d->ndevice_id);
		image_cli_found(f, "API key", d->api_key, d->napi_key);
		image_cli_found(f, "MAC", d->mac, d->nmac);
	}
	for (unsigned i = 0; i < d->nverdict; i++)
		fprintf(f, "! %s\n", d->verdict[i]);
	fprintf(f, "will it boot: %s\n", d->will_boot > 0 ? "yes, as far as the file shows" :
	    d->will_boot == 0 ? "no" : "cannot tell from the file alone");
}

static void
image_cli_json_dump(FILE *f, const struct image_dump *d)
{
	fprintf(f, "{\"size\":%u,\"boot\":", d->size);
	image_cli_json_str(f, image_boot_name(d->boot_kind));
	fprintf(f, ",\"boot_version\":");
	image_cli_json_str(f, d->boot_version);
	fprintf(f, ",\"header_size\":%u,\"image\":", d->hdr_size);
	if (d->has_boot)
		image_cli_json_image(f, &d->boot);
	else
		fputs("null", f);
	for (int s = 1; s <= 2; s++) {
		fprintf(f, ",\"user%d\":", s);
		if (d->slot[s].present)
			image_cli_json_image(f, &d->slot[s].img);
		else
			fputs("null", f);
	}
	fprintf(f, ",\"selected\":%d,\"rf_cal\":%u,\"init_data\":%u,\"init_data_ok\":%s,\"family\":",
	    d->selected, d->rf_cal, d->init_data, d->init_ok ? "true" : "false");
	image_cli_json_str(f, image_family_name(d->family));
	image_cli_json_found(f, "device_ids", d->device_id, d->ndevice_id);
	image_cli_json_found(f, "api_keys", d->api_key, d->napi_key);
	image_cli_json_found(f, "macs", d->mac, d->nmac);
	fprintf(f, ",\"verdicts\":[");
	for (unsigned i = 0; i < d->nverdict; i++) {
		if (i)
			fputc(',', f);
		image_cli_json_str(f, d->verdict[i]);
	}
	fprintf(f, "],\"will_boot\":%s}\n", d->will_boot > 0 ? "true" : d->will_boot == 0 ? "false" : "null");
}

static int image_cli_info(int argc, char **argv);
static int image_cli_patch(int argc, char **argv);
static int image_cli_relayout(int argc, char **argv);

const struct cli_cmd cli_cmd_image_info = {
	"image-info", "[--offset N] [--chip-size SIZE] [--json] FILE",
	"explain a firmware image or a whole-flash dump, and whether it will boot",
	"  --offset N        explain only the image that starts at N\n"
	"  --chip-size SIZE  judge the dump against a chip of this size (1MB, 4MB, ...)\n",
	image_cli_info,
};

const struct cli_cmd cli_cmd_image_patch = {
	"image-patch", "[--flash-mode M] [--flash-size S] [--flash-freq F] [--device-id ID] [--api-key KEY] [--mac MAC] IN OUT",
	"write a patched copy of an image or dump (header, or eWeLink identity); IN is never changed",
	"  --flash-mode M    qio, qout, dio or dout (header of the image at --offset, default 0x0)\n"
	"  --flash-size S    512KB, 1MB, 2MB, 2MB-c1, 4MB, 4MB-c1, 8MB, 16MB\n"
	"  --flash-freq F    40m, 26m, 20m or 80m\n"
	"  --offset N        the image whose header to patch (default 0x0)\n"
	"  --device-id ID    replace the eWeLink device id (10 hex characters starting 1000)\n"
	"  --api-key KEY     replace the eWeLink API key (a UUID)\n"
	"  --mac MAC         replace the MAC address written as text\n"
	"  --force           replace OUT if it exists\n"
	"\nA device id only works together with the API key it was issued with: the eWeLink cloud\n"
	"knows them as a pair. Change both, to values from the same unit, or the device will not\n"
	"be able to log in.\n",
	image_cli_patch,
};

const struct cli_cmd cli_cmd_image_relayout = {
	"image-relayout", "--to SIZE [--force] IN OUT",
	"move a dump's system area (RF calibration, init data, parameters) to fit another flash size",
	"  --to SIZE         the chip size to lay the dump out for (e.g. 4MB, or 1MB to go back)\n"
	"  --force           replace OUT if it exists\n",
	image_cli_relayout,
};

static int
image_cli_load(const char *path, uint8_t **data, size_t *len)
{
	char *cause = NULL;

	if (afile_read(path, IMAGE_CLI_MAX, data, len, &cause) != RC_OK) {
		fprintf(stderr, "espdesk: %s\n", cause);
		free(cause);
		return -1;
	}
	if (*len == 0) {
		fprintf(stderr, "espdesk: %s is empty: an image or dump has at least one byte\n", path);
		free(*data);
		return -1;
	}
	return 0;
}

static int
image_cli_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "chip-size", required_argument, NULL, 's' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *cmd = &cli_cmd_image_info;
	uint32_t off = 0, chip = 0;
	int c, have_off = 0, rc;
	char *cause = NULL;
	uint8_t *data;
	size_t len;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:s:", longopts, NULL)) != -1) {
		if (c == 'o' || c == 's') {
			if (cli_parse_size(optarg, c == 'o' ? &off : &chip, &cause) != RC_OK) {
				rc = cli_usage_error(cmd, "%s: %s", c == 'o' ? "--offset" : "--chip-size", cause);
				free(cause);
				return rc;
			}
			have_off |= c == 'o';
			continue;
		}
		if ((rc = cli_common_opt(cmd, c, optarg)) < 0)
			return CLI_EXIT_USAGE;
		if (rc == 0)
			return cli_usage_error(cmd, "unexpected option");
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "expected one FILE");
	if (image_cli_load(argv[optind], &data, &len) != 0)
		return CLI_EXIT_FAIL;
	if (have_off) {
		struct image img;

		if (image_parse(data, len, off, &img, &cause) != RC_OK) {
			fprintf(stderr, "espdesk: %s: %s\n", argv[optind], cause);
			free(cause);
			free(data);
			return CLI_EXIT_FAIL;
		}
		if (cli_common.json) {
			image_cli_json_image(stdout, &img);
			putchar('\n');
		} else
			image_cli_print_image(stdout, &img, "");
		free(data);
		return image_ok(&img) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	}
	{
		struct image_dump *d = xcalloc(1, sizeof *d);

		image_dump_explain(data, len, chip, d, &cause);
		if (cli_common.json)
			image_cli_json_dump(stdout, d);
		else
			image_cli_print_dump(stdout, argv[optind], d);
		free(d);
	}
	free(data);
	return CLI_EXIT_OK;
}

/* Refuses, before any work is done, an OUT that is IN or that exists without --force. */
static int
image_cli_can_write(const char *in, const char *out, int force)
{
	if (afile_same(in, out)) {
		fprintf(stderr, "espdesk: %s is the input file: the original is never changed; give another OUT\n", out);
		return -1;
	}
	if (!force && access(out, F_OK) == 0) {
		fprintf(stderr, "espdesk: %s already exists; choose another name or use --force\n", out);
		return -1;
	}
	return 0;
}

static int
image_cli_save(const char *in, const char *out, const uint8_t *data, size_t len, int force)
{
	char *cause = NULL;

	if (image_cli_can_write(in, out, force) != 0)
		return -1;
	if (afile_write(out, data, len, 0644, force ? AFILE_OVERWRITE : 0, &cause) != RC_OK) {
		fprintf(stderr, "espdesk: %s%s\n", cause, force ? "" : " (or use --force)");
		free(cause);
		return -1;
	}
	return 0;
}

static int
image_cli_patch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "flash-mode", required_argument, NULL, 'M' },
		{ "flash-size", required_argument, NULL, 'S' },
		{ "flash-freq", required_argument, NULL, 'F' },
		{ "offset", required_argument, NULL, 'o' },
		{ "device-id", required_argument, NULL, 'd' },
		{ "api-key", required_argument, NULL, 'k' },
		{ "mac", required_argument, NULL, 'm' },
		{ "force", no_argument, NULL, 'f' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *cmd = &cli_cmd_image_patch;
	int c, rc, mode = -1, size = -1, freq = -1, force = 0, hdr = 0;
	const char *dev = NULL, *key = NULL, *mac = NULL;
	uint32_t off = 0;
	char *cause = NULL;
	uint8_t *data;
	size_t len;
	unsigned changes = 0;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'M':
			if ((mode = image_mode_parse(optarg)) < -1)
				return cli_usage_error(cmd, "--flash-mode '%s': expected qio, qout, dio, dout or keep", optarg);
			hdr = 1;
			continue;
		case 'S':
			if ((size = image_size_parse(optarg)) < -1)
				return cli_usage_error(cmd, "--flash-size '%s': expected 512KB, 1MB, 2MB, 2MB-c1, 4MB, 4MB-c1, 8MB, 16MB or keep", optarg);
			hdr = 1;
			continue;
		case 'F':
			if ((freq = image_freq_parse(optarg)) < -1)
				return cli_usage_error(cmd, "--flash-freq '%s': expected 40m, 26m, 20m, 80m or keep", optarg);
			hdr = 1;
			continue;
		case 'o':
			if (cli_parse_size(optarg, &off, &cause) != RC_OK) {
				rc = cli_usage_error(cmd, "--offset: %s", cause);
				free(cause);
				return rc;
			}
			continue;
		case 'd': dev = optarg; continue;
		case 'k': key = optarg; continue;
		case 'm': mac = optarg; continue;
		case 'f': force = 1; continue;
		}
		if ((rc = cli_common_opt(cmd, c, optarg)) < 0)
			return CLI_EXIT_USAGE;
		if (rc == 0)
			return cli_usage_error(cmd, "unexpected option");
	}
	if (optind + 2 != argc)
		return cli_usage_error(cmd, "expected IN and OUT");
	if (!hdr && dev == NULL && key == NULL && mac == NULL)
		return cli_usage_error(cmd, "nothing to patch: give --flash-mode/--flash-size/--flash-freq or --device-id/--api-key/--mac");
	if (image_cli_can_write(argv[optind], argv[optind + 1], force) != 0)
		return CLI_EXIT_FAIL;
	if (image_cli_load(argv[optind], &data, &len) != 0)
		return CLI_EXIT_FAIL;
	rc = CLI_EXIT_OK;
	if (hdr) {
		int r = image_patch_header(data, len, off, mode, size, freq, &cause);

		if (r < 0) {
			fprintf(stderr, "espdesk: %s: %s\n", argv[optind], cause);
			rc = CLI_EXIT_FAIL;
		} else
			printf("header at 0x%X: %s\n", off, r ? "patched" : "already so, unchanged");
		free(cause);
		cause = NULL;
	}
	if (rc == CLI_EXIT_OK && (dev != NULL || key != NULL || mac != NULL)) {
		if (image_patch_identity(data, len, dev, key, mac, &changes, &cause) != RC_OK) {
			fprintf(stderr, "espdesk: %s: %s\n", argv[optind], cause);
			rc = CLI_EXIT_FAIL;
		} else {
			printf("identity: %u place%s changed\n", changes, changes == 1 ? "" : "s");
			if ((dev != NULL) != (key != NULL))
				printf("note: a device id only works with its own API key; you changed only the %s\n",
				    dev != NULL ? "device id" : "API key");
		}
		free(cause);
	}
	if (rc == CLI_EXIT_OK && image_cli_save(argv[optind], argv[optind + 1], data, len, force) != 0)
		rc = CLI_EXIT_FAIL;
	if (rc == CLI_EXIT_OK)
		printf("wrote %s (%zu bytes); %s is unchanged\n", argv[optind + 1], len, argv[optind]);
	free(data);
	return rc;
}

static int
image_cli_relayout(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *cmd = &cli_cmd_image_relayout;
	uint32_t to = 0;
	int c, rc, force = 0;
	char *cause = NULL;
	uint8_t *data, *out = NULL;
	size_t len;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == 't') {
			if (cli_parse_size(optarg, &to, &cause) != RC_OK) {
				rc = cli_usage_error(cmd, "--to: %s", cause);
				free(cause);
				return rc;
			}
			continue;
		}
		if (c == 'f') {
			force = 1;
			continue;
		}
		if ((rc = cli_common_opt(cmd, c, optarg)) < 0)
			return CLI_EXIT_USAGE;
		if (rc == 0)
			return cli_usage_error(cmd, "unexpected option");
	}
	if (to == 0)
		return cli_usage_error(cmd, "--to SIZE is required (e.g. --to 4MB)");
	if (optind + 2 != argc)
		return cli_usage_error(cmd, "expected IN and OUT");
	if (image_cli_can_write(argv[optind], argv[optind + 1], force) != 0)
		return CLI_EXIT_FAIL;
	if (image_cli_load(argv[optind], &data, &len) != 0)
		return CLI_EXIT_FAIL;
	rc = image_relayout(data, len, to, &out, &cause);
	if (rc != RC_OK) {
		fprintf(stderr, "espdesk: %s: %s\n", argv[optind], cause);
		free(cause);
		free(data);
		return CLI_EXIT_FAIL;
	}
	rc = image_cli_save(argv[optind], argv[optind + 1], out, to, force) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	if (rc == CLI_EXIT_OK)
		printf("wrote %s: %u KB, system area moved from 0x%zX to 0x%X, header size %s\n",
		    argv[optind + 1], to / 1024, len - 0x5000, to - 0x5000,
		    image_size_name(out[3] >> 4));
	free(out);
	free(data);
	return rc;
}
