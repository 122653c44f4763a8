/* libFuzzer target: the backup sidecar reader must survive any bytes: a result or one message
 * that names the file, never both, never a crash or a leak. What it accepts must emit and read
 * back to the same fields. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backup_meta m, r;
	char *cause = NULL, *text = NULL;
	size_t len;
	int rc = backup_yaml_parse("fuzz.yaml", data, size, &m, &cause);

	if ((rc == RC_OK) != (cause == NULL))
		abort();
	if (rc != RC_OK) {
		if (strncmp(cause, "fuzz.yaml", 9) != 0)
			abort();
		free(cause);
		return 0;
	}
	if (backup_yaml_emit(&m, &text, &len, &cause) != RC_OK)
		abort();
	if (backup_yaml_parse("rt.yaml", (const uint8_t *)text, len, &r, &cause) != RC_OK)
		abort();
	if (strcmp(r.chip, m.chip) != 0 || strcmp(r.port, m.port) != 0 ||
	    memcmp(r.sha256, m.sha256, 32) != 0 || r.flash_size != m.flash_size)
		abort();
	free(text);
	return 0;
}
