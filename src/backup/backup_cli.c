/*
 * backup_cli.c: `espdesk backups [list]`, `backups show ID`, `backups verify [ID]`,
 * `backups export ID DIR`. Results on stdout, failures on stderr; exit 1 when a verify finds
 * bit rot or an export fails.
 */
#include "config.h"

#include "backup/backup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/esc.h"

static int backups_run(int argc, char **argv);

const struct cli_cmd cli_cmd_backups = {
	"backups",
	"[list | show ID | verify [ID] | export ID DIR]",
	"list, inspect, re-verify and export the backups in the store",
	"  list           device, date, size, family and state of every backup (default)\n"
	"  show ID        everything the sidecar records\n"
	"  verify [ID]    re-hash one backup or all of them and report any bit rot\n"
	"  export ID DIR  copy a verified backup and its sidecar into DIR (read-only)\n"
	"  ID is the full id, its time stamp, or a unique prefix of either.\n"
	"  The store is $ESPDESK_DATA_HOME or $XDG_DATA_HOME (else ~/.local/share),\n"
	"  then espdesk/backups/<chip id>-<mac>/.\n",
	backups_run,
};

static void
print_size(uint32_t n, char *buf, size_t size)
{
	if (n % (1024 * 1024) == 0)
		snprintf(buf, size, "%" PRIu32 "MB", n / (1024 * 1024));
	else
		snprintf(buf, size, "%" PRIu32 "KB", n / 1024);
}

static void
mac_str(const uint8_t *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int
do_list(const struct backup_list *l)
{
	char *root = backup_root();

	if (l->n == 0)
		printf("no backups in %s\n", root);
	else
		printf("%-38s %-17s %-20s %5s %-8s %s\n", "ID", "MAC", "DATE", "SIZE", "FAMILY",
		    "STATE");
	for (size_t i = 0; i < l->n; i++) {
		const struct backup_meta *m = &l->v[i].meta;
		char sz[16], mac[18];

		print_size(m->flash_size, sz, sizeof sz);
		mac_str(m->mac, mac, sizeof mac);
		printf("%-38s %-17s %-20s %5s %-8s %s\n", l->v[i].id, mac, m->date, sz,
		    m->family[0] ? m->family : "unknown", m->verified ? "verified" : "unverified");
	}
	if (l->ignored)
		printf("(%zu file%s in %s %s not a complete backup and %s not listed)\n",
		    l->ignored, l->ignored == 1 ? "" : "s", root, l->ignored == 1 ? "is" : "are",
		    l->ignored == 1 ? "is" : "are");
	free(root);
	return CLI_EXIT_OK;
}

/* Sidecar text may have been edited by hand: escape it before it reaches a terminal. */
static void
safe(const char *s, char *buf, size_t size)
{
	esc_bytes(buf, size, s, strlen(s), ESC_KEEP_UTF8);
}

static int
do_show(const struct backup_entry *e)
{
	const struct backup_meta *m = &e->meta;
	char mac[18], md5[33], sha[65], sz[16];
	char port[512], prof[256], chip[96], ver[128], fam[96];

	safe(m->port, port, sizeof port);
	safe(m->profile, prof, sizeof prof);
	safe(m->chip, chip, sizeof chip);
	safe(m->version, ver, sizeof ver);
	safe(m->family, fam, sizeof fam);
	mac_str(m->mac, mac, sizeof mac);
	backup_hex(m->md5, 16, md5);
	backup_hex(m->sha256, 32, sha);
	print_size(m->flash_size, sz, sizeof sz);
	printf("id:          %s\n", e->id);
	printf("image:       %s\n", e->image);
	printf("sidecar:     %s\n", e->sidecar);
	printf("chip:        %s%s\n", chip, m->esp8285 ? " (ESP8285, flash in package)" : "");
	printf("mac:         %s\n", mac);
	printf("chip id:     0x%08" PRIx32 "\n", m->chip_id);
	printf("jedec id:    0x%06" PRIx32 "\n", m->jedec);
	printf("flash size:  %s (%" PRIu32 " bytes)\n", sz, m->flash_size);
	printf("profile:     %s\n", prof[0] ? prof : "(none matched)");
	printf("device md5:  %s\n", md5);
	printf("sha256:      %s\n", sha);
	printf("date:        %s\n", m->date);
	printf("port:        %s at %d baud\n", port, m->baud);
	printf("espdesk:     %s\n", ver);
	printf("family:      %s\n", fam[0] ? fam : "unknown");
	printf("verified:    %s\n", m->verified ? "yes (device MD5 matched when it was taken)"
	    : "no");
	return CLI_EXIT_OK;
}

static int
verify_one(const struct backup_entry *e)
{
	char *cause = NULL;
	int rc = backup_verify(e, &cause);

	if (rc == RC_OK) {
		printf("%s: ok (SHA-256 matches the sidecar)\n", e->id);
		return 0;
	}
	printf("%s: FAILED\n", e->id);
	fprintf(stderr, "espdesk backups: %s\n", cause);
	free(cause);
	return 1;
}

static int
backups_run(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	const struct cli_cmd *cmd = &cli_cmd_backups;
	struct backup_list l;
	const struct backup_entry *e;
	const char *action;
	char *cause = NULL;
	int c, ret = CLI_EXIT_OK;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r = cli_common_opt(cmd, c, optarg);

		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r == 0)
			return cli_usage_error(cmd, "unknown option");
	}
	argc -= optind;
	argv += optind;
	action = argc > 0 ? argv[0] : "list";
	if (strcmp(action, "list") == 0 ? argc > 1 :
	    strcmp(action, "show") == 0 ? argc != 2 :
	    strcmp(action, "verify") == 0 ? argc > 2 :
	    strcmp(action, "export") == 0 ? argc != 3 : 1)
		return cli_usage_error(cmd, "expected list, show ID, verify [ID] or export ID DIR");
	if (backup_list_read(&l, &cause) != RC_OK) {
		fprintf(stderr, "espdesk backups: %s\n", cause);
		free(cause);
		return CLI_EXIT_FAIL;
	}
	if (strcmp(action, "list") == 0) {
		ret = do_list(&l);
		goto out;
	}
	if (strcmp(action, "verify") == 0 && argc == 1) {
		int bad = 0;

		for (size_t i = 0; i < l.n; i++)
			bad += verify_one(&l.v[i]);
		printf("%zu backup%s checked, %d damaged\n", l.n, l.n == 1 ? "" : "s", bad);
		ret = bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
		goto out;
	}
	if ((e = backup_list_find(&l, argv[1], &cause)) == NULL) {
		fprintf(stderr, "espdesk backups: %s\n", cause);
		free(cause);
		ret = CLI_EXIT_FAIL;
		goto out;
	}
	if (strcmp(action, "show") == 0)
		ret = do_show(e);
	else if (strcmp(action, "verify") == 0)
		ret = verify_one(e) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	else if (backup_export(e, argv[2], &cause) == RC_OK)
		printf("exported %s to %s\n", e->id, argv[2]);
	else {
		fprintf(stderr, "espdesk backups: %s\n", cause);
		free(cause);
		ret = CLI_EXIT_FAIL;
	}
out:
	backup_list_free(&l);
	return ret;
}
