/*
 * common.h: attributes, ARRAY_SIZE and the return codes every core module uses.
 *
 * Error policy (two tiers). Core modules (serial, rom, sim, stub, flasher, bootlog, profile, image,
 * backup, flow) return `enum rc`: zero or a positive count on success, a negative code on failure.
 * They never exit and never print. When a caller needs a human reason they take `char **cause`,
 * set it to a heap string on failure (caller frees with free()) and leave it NULL on success.
 * A cause says what happened, where (file:line, offset, port) and what to do next.
 * Only main.c, src/cli/ and src/ui/ may call fatal()/fatalx().
 */
#ifndef ESPDESK_COMMON_H
#define ESPDESK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define ED_PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#define ED_NORETURN __attribute__((noreturn))
#define ED_UNUSED __attribute__((unused))
#else
#define ED_PRINTFLIKE(f, a)
#define ED_NORETURN
#define ED_UNUSED
#endif

enum rc {
	RC_OK = 0,
	RC_ERR_ARG = -1,      /* invalid argument from the caller */
	RC_ERR_IO = -2,       /* operating-system or port error; errno is meaningful */
	RC_ERR_TIMEOUT = -3,  /* a deadline passed */
	RC_ERR_PROTO = -4,    /* the peer broke the protocol */
	RC_ERR_FORMAT = -5,   /* malformed input data (file, image, log, profile) */
	RC_ERR_CANCEL = -6,   /* the operation was cancelled */
	RC_ERR_GONE = -7,     /* the port disappeared (cable pulled) or the peer closed */
	RC_ERR_BUSY = -8,     /* a resource is held by someone else */
	RC_ERR_NOTSUP = -9,   /* the operation is not supported here */
	RC_ERR_DEVICE = -10,  /* the device answered with a failure status */
	RC_ERR_VERIFY = -11,  /* data did not match what was expected */
};

/* Short English name of a return code, for logs ("timeout", "I/O error"). Never NULL. */
const char *rc_str(int rc);

/* Little-endian helpers: the ROM protocol and the image format are little-endian. */
static inline uint16_t rd_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void wr_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wr_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

#endif
