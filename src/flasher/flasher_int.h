/*
 * flasher_int.h: the engine's private state and the helpers its files share. Not for use
 * outside src/flasher/ (and its tests).
 */
#ifndef ESPDESK_FLASHER_INT_H
#define ESPDESK_FLASHER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "flasher/flasher.h"
#include "rom/rom_proto.h"
#include "rom/slip.h"

struct ser;

/*
 * Frames decoded from the port, oldest first (flasher_rx.c). A push parser: feed it whatever
 * bytes arrive; take whole frames out. Frames that broke (bad escape, oversize) come out
 * flagged bad, so a stream reader sees that a frame was lost.
 */
struct flasher_rx {
	struct slip_decoder dec;
	struct buf q;         /* records: u32 (len | bad << 31), then len bytes */
	uint8_t *cur;         /* the frame handed out last; owned */
	size_t cur_cap;
	uint64_t noise;       /* bytes seen outside frames */
	uint64_t bad;         /* frames that broke */
};
#define FLASHER_RX_MAX_FRAME 0x10100

void flasher_rx_init(struct flasher_rx *rx);
void flasher_rx_free(struct flasher_rx *rx);
/* Forgets every queued frame and any partial one. */
void flasher_rx_reset(struct flasher_rx *rx);
void flasher_rx_feed(struct flasher_rx *rx, const void *data, size_t len);
/* Takes the oldest frame: returns 1 and sets *data (borrowed until the next call), *len and
 * *bad; 0 when no whole frame is queued. */
int flasher_rx_next(struct flasher_rx *rx, const uint8_t **data, size_t *len, int *bad);

struct flasher {
	struct flasher_opts o;
	struct ser *ser;
	struct flasher_rx rx;
	struct flasher_info info;
	int baud_top;          /* the highest rung we may use */
	int no_lines;          /* the port has no modem lines (pty, socket) */
	int said_step_down;    /* the step-down notice was given */
	int closed_session;    /* run/after already done */
	/* progress rate */
	enum flasher_phase ph;
	int64_t ph_start_us;
	uint64_t ph_base;
};

/* Transport (flasher_io.c). Every wait is sliced (<= 50 ms) and checks the cancel flag. */
int flasher_io_cancelled(const struct flasher *f);
int flasher_io_sleep(struct flasher *f, int ms);
/* SLIP-encodes pkt and sends it. RC_OK, RC_ERR_GONE, RC_ERR_IO, RC_ERR_CANCEL. */
int flasher_io_send(struct flasher *f, const void *pkt, size_t len);
/* Sends a raw (headerless) SLIP frame, e.g. a read ACK. */
#define flasher_io_send_raw flasher_io_send
/* Next frame within timeout_ms. RC_OK (bad set if it broke), RC_ERR_TIMEOUT, _GONE, _CANCEL. */
int flasher_io_frame(struct flasher *f, int timeout_ms, const uint8_t **data, size_t *len, int *bad);
/* Throws away input until quiet_ms pass with nothing arriving (at most max_ms). */
int flasher_io_drain(struct flasher *f, int quiet_ms, int max_ms);
/* Waits for the response to op: skips up to 100 other frames, as esptool does. r->data points
 * into the engine's buffer, valid until the next io call. */
int flasher_io_resp(struct flasher *f, uint8_t op, int timeout_ms, struct rom_proto_resp *r);
/* Sends a command of n u32 words and waits for its response; a failure status gives
 * RC_ERR_DEVICE with *cause (when cause is not NULL). */
int flasher_io_cmd(struct flasher *f, uint8_t op, const uint32_t *words, size_t n, int timeout_ms,
    struct rom_proto_resp *r, char **cause);
int flasher_io_read_reg(struct flasher *f, uint32_t addr, uint32_t *val, char **cause);
int flasher_io_write_reg(struct flasher *f, uint32_t addr, uint32_t val, char **cause);
/* The USB-serial bridge behind the port ("CH340/CH341"), or NULL (static string). */
const char *flasher_io_bridge(struct flasher *f);
/* What to do about a noisy line, for this adapter. Caller frees. */
char *flasher_io_noise_hint(struct flasher *f);
/* A cause for a transport failure rc during what ("reading 0x10000"), with the next step. */
char *flasher_io_cause(struct flasher *f, int rc, const char *what);

/*
 * Commands in flight (flasher_io.c). The stub handles commands strictly in the order they
 * arrive and answers each one (RUN_USER_CODE aside), so several may be sent back to back and
 * their answers matched by position. Each entry remembers its opcode, a caller's tag and its
 * size on the wire; wire is the total the device has been sent but not yet answered (what may
 * still sit in its receive buffer).
 */
#define FLASHER_PIPE_MAX 128
struct flasher_pipe_ent {
	uint8_t op;
	uint8_t kind;          /* the caller's tag */
	uint32_t idx;          /* the caller's tag */
	uint32_t wire;         /* bytes on the wire, SLIP included */
	int tmo_ms;            /* how long its answer may take once the device gets to it */
	int64_t sent_ms;
};
struct flasher_pipe {
	struct flasher_pipe_ent e[FLASHER_PIPE_MAX];
	size_t head, n;
	uint64_t wire;
	int64_t last_ms;       /* when the last answer arrived */
};
void flasher_pipe_init(struct flasher_pipe *p);
/* Sends pkt (RC_ERR_ARG when the pipe is full). */
int flasher_pipe_send(struct flasher *f, struct flasher_pipe *p, const void *pkt, size_t len,
    uint8_t kind, uint32_t idx, int tmo_ms);
/* Waits for the answer to the oldest entry and takes the entry out into *e. The answer must
 * be a whole, well-formed frame with the entry's opcode: anything else is RC_ERR_PROTO, since
 * every later answer would be matched to the wrong command. r->data is valid until the next
 * io call; a failure status is left to the caller. RC_ERR_TIMEOUT, _GONE, _CANCEL as
 * flasher_io_frame(). */
int flasher_pipe_recv(struct flasher *f, struct flasher_pipe *p, struct flasher_pipe_ent *e,
    struct rom_proto_resp *r);

/* Events (flasher.c). */
void flasher_emit(struct flasher *f, enum flasher_phase ph, uint64_t done, uint64_t total,
    uint32_t addr, const char *msg);
void flasher_notice(struct flasher *f, const char *fmt, ...) ED_PRINTFLIKE(2, 3);
/* Starts rate/ETA accounting for a phase. */
void flasher_phase_start(struct flasher *f, enum flasher_phase ph);

/* Connection (flasher_conn.c). */
int flasher_conn_connect(struct flasher *f, char **cause);
/* One SYNC: RC_OK when answered; *stub_running = the answer's value was 0 (a stub). */
int flasher_conn_sync(struct flasher *f, int *stub_running);
/* Moves the stub to baud (CHANGE_BAUDRATE, then checks the link). */
int flasher_conn_set_baud(struct flasher *f, int baud, char **cause);
/* One rung down the ladder after repeated corruption; RC_ERR_NOTSUP at the bottom. */
int flasher_conn_step_down(struct flasher *f, const char *why, char **cause);
/* Checks the link with READ_REG of the magic register, retrying; after a broken stream. */
int flasher_conn_resync(struct flasher *f, char **cause);
int flasher_conn_hard_reset(struct flasher *f);
/* Listens for the ROM banner after a reset (at 74880, or 115200 for a 40 MHz crystal) for at
 * most ms; returns the first boot-mode digit (1 = UART download, 3 = flash; §11.5) or -1. */
int flasher_conn_watch_boot(struct flasher *f, int ms);

/* Identity (flasher_ident.c). */
int flasher_ident_chip(struct flasher *f, char **cause);
int flasher_ident_flash(struct flasher *f, char **cause);

/* Stub upload (flasher_stub.c). */
int flasher_stub_upload(struct flasher *f, char **cause);

/* A copy of data padded to 4 with 0xFF and header-patched as a write does it (§5.4, §12.7).
 * Caller frees with free(). (flasher_write.c) */
uint8_t *flasher_write_prepare(const uint8_t *data, size_t len, uint32_t off,
    const struct flasher_hdr *hdr, size_t *outlen, uint16_t *params, int *patched,
    const char **why);

/* zlib level 9 (flasher_deflate.c); *out is owned by the caller (free()). */
int flasher_deflate(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);

/* Device MD5 of several ranges, pipelined (flasher_verify.c). */
int flasher_md5_many(struct flasher *f, const uint32_t *addr, const uint32_t *len, size_t n,
    uint8_t (*md5)[16], char **cause);

/* Timeouts (ms), esptool's rules (§10.1). */
#define FLASHER_T_CMD 3000
static inline int
flasher_t_per_mb(int ms_per_mb, uint64_t bytes)
{
	uint64_t t = (uint64_t)ms_per_mb * bytes / 1000000u;

	if (t < FLASHER_T_CMD)
		t = FLASHER_T_CMD;
	if (t > 240000)
		t = 240000;
	return (int)t;
}

#endif
