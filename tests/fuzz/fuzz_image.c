/* libFuzzer target: the image parser and the dump explainer on any bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image img;
	struct image_dump *d;
	char *cause = NULL;
	uint8_t *copy, *out = NULL;

	if (size == 0)
		return 0;
	if (image_parse(data, size, 0, &img, &cause) == RC_OK) {
		/* Every segment the parser reports lies inside the input. */
		for (unsigned i = 0; i < img.nseg; i++)
			if ((size_t)img.seg[i].file_off + img.seg[i].len > size)
				abort();
		if ((size_t)img.off + img.len > size)
			abort();
	}
	free(cause);
	cause = NULL;
	d = calloc(1, sizeof *d);
	image_dump_explain(data, size, 0x100000, d, &cause);
	free(cause);
	free(d);
	copy = malloc(size);
	memcpy(copy, data, size);
	unsigned changes;
	image_patch_header(copy, size, 0, 3, 2, 0, &cause);
	free(cause);
	image_patch_identity(copy, size, "1000abcdef", NULL, "aa:bb:cc:dd:ee:ff", &changes, &cause);
	free(cause);
	if (image_relayout(copy, size, 0x400000, &out, &cause) == RC_OK)
		free(out);
	free(cause);
	free(copy);
	return 0;
}
