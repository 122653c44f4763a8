/* libFuzzer target: the flow journal reader must survive any bytes: a journal or one message
 * that names the file, and what it accepts formats and reads back to the same journal. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_journal j, r;
	char *cause = NULL, *text;
	int rc = flow_journal_parse("fuzz.journal", data, size, &j, &cause);

	if ((rc == RC_OK) != (cause == NULL))
		abort();
	if (rc != RC_OK) {
		if (strncmp(cause, "fuzz.journal", 12) != 0)
			abort();
		free(cause);
		return 0;
	}
	text = flow_journal_format(&j);
	if (flow_journal_parse("rt", (const uint8_t *)text, strlen(text), &r, &cause) != RC_OK)
		abort();
	if (strcmp(r.flow, j.flow) != 0 || r.done != j.done || strcmp(r.file, j.file) != 0 ||
	    r.chip_id != j.chip_id || memcmp(r.mac, j.mac, 6) != 0)
		abort();
	free(text);
	return 0;
}
