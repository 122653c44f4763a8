/* libFuzzer target: the profile loader must survive any bytes and report, never crash or leak. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL;
	char **errs = NULL;
	size_t nerrs = 0, total = 0;
	int rc = profile_parse("fuzz.yaml", data, size, &p, &errs, &nerrs);

	/* Either a profile or at least one message, never both, never neither. */
	if ((rc == RC_OK) != (p != NULL) || (rc == RC_OK) != (nerrs == 0))
		abort();
	for (size_t i = 0; i < nerrs; i++) {
		/* Every message names the file and a position. */
		if (strncmp(errs[i], "fuzz.yaml:", 10) != 0)
			abort();
		total += strlen(errs[i]);
		free(errs[i]);
	}
	free(errs);
	if (p != NULL) {
		struct profile_detected d = { 1, data[0] & 1, 0xEF4016, 0 };
		char **m;
		size_t n = profile_contradictions(p, &d, &m);

		for (size_t i = 0; i < n; i++)
			free(m[i]);
		free(m);
		total += strlen(p->name);
	}
	profile_free(p);
	return total == (size_t)-1;
}
