/*
 * ser_int.h: what the serial backends share with ser.c. Not for use outside src/serial/.
 *
 * ser.c owns the user-space TX queue, read deadlines, the restore registry and the choice of
 * backend; a backend only moves bytes and drives the lines, never blocking. Each backend
 * function returns RC_OK / a byte count, or a negative enum rc after ser_fail() has recorded a
 * human message in s->err.
 */
#ifndef ESPDESK_SER_INT_H
#define ESPDESK_SER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/common.h"
#include "serial/ser.h"

/* A copy of a tty's termios2, opaque outside ser_tios2.c (<asm/termbits.h> clashes with
 * <termios.h>, so only that file sees the real struct). */
struct ser_tios_saved {
	int valid;
	unsigned char raw[120];
};

struct ser_backend {
	const char *name;
	/* Reads what is there now: > 0 bytes, 0 nothing yet, < 0 RC_ERR_GONE/IO. */
	int (*read)(struct ser *s, uint8_t *buf, size_t len);
	/* Takes what it can now without blocking: >= 0 bytes taken, < 0 RC_ERR_GONE/IO. len may be
	 * 0 (buf NULL): then it only pushes what it holds (tx_held). */
	int (*write)(struct ser *s, const uint8_t *buf, size_t len);
	int (*set_baud)(struct ser *s, int baud);
	/* dtr/rts: 1 on, 0 off, -1 leave alone. */
	int (*set_lines)(struct ser *s, int dtr, int rts);
	int (*send_break)(struct ser *s, int ms);
	/* Bytes accepted by write() that have not left yet (kernel queue, backend buffers). */
	int (*out_pending)(struct ser *s, size_t *n);
	int (*discard)(struct ser *s);
	/* Output the backend holds in user space, not yet handed to the kernel (may be NULL). */
	size_t (*tx_held)(const struct ser *s);
	/* Releases backend state; ser.c restores settings and closes lock_fd itself. */
	void (*close)(struct ser *s);
};

struct ser {
	char *name;             /* as the caller gave it */
	enum ser_kind kind;
	const struct ser_backend *be;
	int fd;                 /* what to poll */
	int lock_fd;            /* tty backends: the fd holding the flock and the saved settings; else -1 */
	int slot;               /* index in the restore registry, -1 when none */
	int baud;
	struct buf txq;         /* user-space TX queue */
	char *err;              /* last failure, for ser_strerror() */
	void *priv;             /* backend state */
};

/* Records a message for ser_strerror() (printf-like) and returns rc. */
int ser_fail(struct ser *s, int rc, const char *fmt, ...) ED_PRINTFLIKE(3, 4);
/* Maps errno after a failed read/write/ioctl on a tty to RC_ERR_GONE (EIO, ENXIO, ENODEV, EPIPE) or
 * RC_ERR_IO, with a message naming the port. */
int ser_fail_errno(struct ser *s, const char *what, int err);

/* ser_tios2.c: termios2 on a tty fd. All return 0 or -1 with errno set. */
int ser_tios2_save(int fd, struct ser_tios_saved *sv);
int ser_tios2_restore(int fd, const struct ser_tios_saved *sv);
/* Sets both speeds to baud with BOTHER (any rate the driver can make). */
int ser_tios2_set_speed(int fd, int baud);
int ser_tios2_get_speed(int fd, int *ispeed, int *ospeed);

/* ser_tty.c: the termios backend on an fd that ser.c opened, locked and saved. */
int ser_tty_setup(struct ser *s, int baud, char **cause);
extern const struct ser_backend ser_tty_backend;

/* ser_sp.c: the libserialport backend. Returns RC_ERR_NOTSUP when libserialport does not know
 * the port (ser.c then falls back to termios). */
int ser_sp_setup(struct ser *s, const char *path, int baud, char **cause);
/* The ports libserialport sees, unsorted; the ser_list() contract. */
int ser_sp_enumerate(struct ser_info **out, size_t *n, char **cause);

/* ser_rfc2217.c: the RFC 2217 client for "rfc2217://HOST:PORT". */
int ser_rfc2217_open(struct ser *s, const char *url, int baud, char **cause);

/* ser_list.c: "/dev/ttyUSB0, /dev/ttyS0" or the no-ports hint; caller frees. */
char *ser_list_names(void);

#endif
