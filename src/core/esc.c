#include "config.h"

#include "core/esc.h"

#include <stdint.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. Overlongs, surrogates and
 * code points past U+10FFFF are refused, and so are the C1 controls U+0080..U+009F. */
static size_t
esc_utf8_len(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t need;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2; cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3; cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4; cp = p[0] & 0x07;
	} else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return need;
}

size_t
esc_bytes(char *dst, size_t dstsize, const void *src, size_t len, int flags)
{
	const uint8_t *s = src;
	size_t i = 0, o = 0;

	while (i < len) {
		char tmp[5];
		const char *rep = tmp;
		size_t rlen, u;
		uint8_t c = s[i];

		if (c == '\n' && (flags & ESC_KEEP_NL)) {
			tmp[0] = '\n'; rlen = 1; u = 1;
		} else if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
			tmp[0] = (char)c; rlen = 1; u = 1;
		} else if (c >= 0x80 && (flags & ESC_KEEP_UTF8) && (u = esc_utf8_len(s + i, len - i)) > 0) {
			rep = (const char *)s + i; rlen = u;
		} else {
			u = 1;
			switch (c) {
			case '\r': rep = "\\r"; rlen = 2; break;
			case '\n': rep = "\\n"; rlen = 2; break;
			case 0x1b: rep = "\\e"; rlen = 2; break;
			default:
				snprintf(tmp, sizeof tmp, "\\x%02x", c);
				rlen = 4;
			}
		}
		if (o + rlen + 1 > dstsize)
			break;
		for (size_t k = 0; k < rlen; k++)
			dst[o++] = rep[k];
		i += u;
	}
	dst[o] = '\0';
	return i;
}
