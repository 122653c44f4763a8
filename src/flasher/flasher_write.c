/*
 * flasher_write.c: writing flash.
 *
 * Through the stub: 4 KB sectors whose device MD5 already matches the file are skipped (64 KB
 * regions are asked first, sectors only inside regions that differ); the rest goes as runs of
 * up to 256 KB, each one zlib stream (FLASH_DEFL_*, level 9, 8 KB blocks), each checked by the
 * device's MD5. All of it is one pipeline of commands in flight (see "The stub write pipeline"
 * below), so the flash never waits for a round trip. After a failure the pipeline resyncs and
 * goes on from the first sector not done, with shorter runs; repeated failures step the baud
 * down.
 *
 * Through the ROM: one FLASH_BEGIN with esptool's erase-size compensation (§7.2), then 0x400-byte
 * FLASH_DATA blocks padded with 0xFF, each retried up to three times. Nothing can be verified.
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

#define SECTOR 4096u
#define RUN_MAX 0x40000u

uint8_t *
flasher_write_prepare(const uint8_t *data, size_t len, uint32_t off,
    const struct flasher_hdr *hdr, size_t *outlen, uint16_t *params, int *patched,
    const char **why)
{
	size_t plen = (len + 3) & ~(size_t)3;
	uint8_t *buf = xmalloc(plen ? plen : 1);

	memcpy(buf, data, len);
	memset(buf + len, 0xFF, plen - len);
	*patched = flasher_header_patch(buf, plen, off, hdr, params, why);
	*outlen = plen;
	return buf;
}

static int
dev_fail(struct flasher *f, int rc, char *dc, const char *what, char **cause)
{
	if (rc == RC_ERR_DEVICE && dc != NULL)
		*cause = xfmt("%s: %s while %s", f->o.port, dc, what);
	else
		*cause = flasher_io_cause(f, rc, what);
	free(dc);
	return rc;
}

/*
 * The stub write pipeline. One stream of commands goes out and is answered strictly in order
 * (struct flasher_pipe); what is in it, oldest first:
 *
 *   MD5 of every 64 KB region of the image, FENCE        which regions already hold the file?
 *   MD5 of each 4 KB sector of a region that differs      (16 a region, a few regions ahead)
 *   BEGIN run 1, DATA 0, DATA 1, ..., MD5 of run 1        a run: up to 256 KB of differing
 *   BEGIN run 2, DATA 0, ...                              sectors in a row, one zlib stream
 *   ..., FENCE
 *
 * The stub answers a DATA block before it programs it, and handles the next command only after
 * that, so everything queued behind a block waits in its receive buffer (24 KB on the chip,
 * stub_hal_lx106.c). The rules that keep this fast and safe:
 *
 *  - At most PIPE_BUDGET bytes are sent and not yet answered, which leaves room in that buffer:
 *    with 8 KB blocks two wait there while a third is programmed, so the flash never waits for
 *    the host, also behind a 16 ms USB latency timer. A run's BEGIN and first block go out
 *    while the previous run's last block is still being programmed.
 *  - Sector MD5s for later regions ride between the blocks; a run is planned only once every
 *    sector it covers is known to differ and the sector after it is known (or the run is full).
 *  - An MD5 answer counts only when the next answer has arrived in its place with another
 *    opcode (a BEGIN, a DATA or a FENCE = READ_REG): an SPI_FLASH_MD5 answer does not say which
 *    range it is about, so one lost command would shift every later digest onto the wrong
 *    sector, and a blank sector could look like a match.
 *  - Anything unexpected (timeout, broken frame, wrong opcode, failure status, a run whose MD5
 *    differs) aborts the pipeline: resync, forget everything not yet confirmed, ask the MD5 of
 *    runs that were sent in full once more, and go on from the first sector not yet done.
 *
 * So a sector is skipped only on a confirmed matching MD5, and a byte counts as written only
 * when the MD5 of its whole run matched.
 *
 * State (struct wr). Per region: REG_ASK -> REG_ASKED -> REG_MATCH (all its sectors skipped)
 * or REG_SECTORS -> REG_SECTORS_ASKED -> REG_KNOWN. Per sector: SEC_UNKNOWN -> SEC_NEED or
 * SEC_SKIP; SEC_NEED (or a blank SEC_SKIP that widen() took into a run) -> SEC_DONE when its
 * run's MD5 is confirmed. Runs: up to OPEN_RUNS in the pipe, oldest first; the oldest waits for
 * its MD5, the newest is being sent (begun, sent/acked blocks, verify_sent). MD5 answers wait
 * in tent[] for the next non-MD5 answer (commit()). An abort (recover()) returns ASKED states to
 * ASK / SECTORS, empties tent[] and the pipe, and drops the open runs; plan goes back to the
 * first of them.
 */
#define REGION 0x10000u
#define SEC_PER_REGION (REGION / SECTOR)
#define PIPE_BLOCK 0x2000u
#define PIPE_BUDGET 0x5000u
#define REGIONS_AHEAD 4      /* regions whose sector MD5s may be in flight at once */
#define OPEN_RUNS 4
#define MAX_TRIES 8          /* aborts in a row without progress before giving up */

enum { SEC_UNKNOWN, SEC_NEED, SEC_SKIP, SEC_DONE };
enum { REG_ASK, REG_ASKED, REG_MATCH, REG_SECTORS, REG_SECTORS_ASKED, REG_KNOWN };
enum { K_REGION, K_SECTOR, K_FENCE, K_BEGIN, K_DATA, K_VERIFY };

struct wrun {
	size_t s0, s1;              /* sectors [s0, s1) */
	uint32_t addr, n;
	uint8_t *z;                 /* the compressed stream */
	size_t zlen;
	uint32_t nblocks, sent, acked;
	int begun, verify_sent;
	uint8_t want[16];
};

struct wtent {                  /* an MD5 answer waiting for confirmation */
	uint8_t kind;
	uint32_t idx;
	uint8_t md5[16];
};

struct wr {
	struct flasher *f;
	uint32_t off;
	const uint8_t *buf;
	size_t len, nsec, nreg;
	uint8_t *sec, *reg;         /* SEC_* per sector, REG_* per region */
	size_t plan;                /* the next run is planned from this sector on */
	uint32_t run_max;           /* bytes */
	struct wrun run[OPEN_RUNS];
	size_t nrun;
	struct flasher_pipe pipe;
	struct wtent tent[FLASHER_PIPE_MAX];
	size_t ntent;
	size_t unfenced;            /* MD5s sent since the last other command */
	uint64_t written, skipped;
	int progress;               /* something was confirmed since the last abort */
	int good;                   /* runs verified since run_max was last changed */
	char *dc;                   /* the device's failure text, for the final message */
};

static uint32_t
sec_len(const struct wr *w, size_t i)
{
	return (uint32_t)(w->len - i * SECTOR < SECTOR ? w->len - i * SECTOR : SECTOR);
}

static uint32_t
range_len(const struct wr *w, size_t s0, size_t s1)
{
	return (uint32_t)((s1 * SECTOR < w->len ? s1 * SECTOR : w->len) - s0 * SECTOR);
}

static void
wr_progress(struct wr *w)
{
	uint64_t done = w->written;

	for (size_t k = 0; k < w->nrun; k++)
		if (w->run[k].nblocks > 0)
			done += (uint64_t)w->run[k].n * w->run[k].acked / w->run[k].nblocks;
	flasher_emit(w->f, FLASHER_PH_WRITE, done, w->len - w->skipped, w->off, NULL);
}

static int
send_words(struct wr *w, uint8_t op, const uint32_t *words, size_t n, uint8_t kind, uint32_t idx,
    int tmo)
{
	uint8_t pkt[ROM_HDR_LEN + 16];
	size_t plen = rom_proto_words_cmd_build(pkt, sizeof pkt, op, words, n);

	w->unfenced = op == ROM_OP_SPI_FLASH_MD5 ? w->unfenced + 1 : 0;
	return flasher_pipe_send(w->f, &w->pipe, pkt, plen, kind, idx, tmo);
}

static int
send_md5(struct wr *w, uint32_t addr, uint32_t len, uint8_t kind, uint32_t idx)
{
	uint32_t words[4] = { addr, len, 0, 0 };

	return send_words(w, ROM_OP_SPI_FLASH_MD5, words, 4, kind, idx,
	    flasher_t_per_mb(8000, len));
}

static int
room(const struct wr *w, uint64_t bytes)
{
	return w->pipe.n + 20 < FLASHER_PIPE_MAX &&
	    (w->pipe.n == 0 || w->pipe.wire + bytes <= PIPE_BUDGET);
}

/* The MD5s of every region not asked yet, all at once (they decide everything else). */
static int
send_regions(struct wr *w, int *sent)
{
	for (size_t r = 0; r < w->nreg; r++) {
		int rc;

		if (w->reg[r] != REG_ASK)
			continue;
		if (!room(w, 32))
			break;
		if ((rc = send_md5(w, w->off + (uint32_t)(r * REGION),
		    range_len(w, r * SEC_PER_REGION, (r + 1) * SEC_PER_REGION), K_REGION,
		    (uint32_t)r)) < 0)
			return rc;
		w->reg[r] = REG_ASKED;
		*sent = 1;
	}
	return RC_OK;
}

/* The sector MD5s of the next region that differs, a few regions ahead at most. */
static int
send_sectors(struct wr *w, int *sent)
{
	size_t asked = 0;

	for (size_t r = 0; r < w->nreg; r++) {
		size_t s0 = r * SEC_PER_REGION, s1 = s0 + SEC_PER_REGION < w->nsec ?
		    s0 + SEC_PER_REGION : w->nsec;
		int rc;

		if (w->reg[r] == REG_SECTORS_ASKED && ++asked >= REGIONS_AHEAD)
			return RC_OK;
		if (w->reg[r] != REG_SECTORS)
			continue;
		if (!room(w, 32 * (s1 - s0)))
			return RC_OK;
		for (size_t i = s0; i < s1; i++)
			if ((rc = send_md5(w, w->off + (uint32_t)(i * SECTOR), sec_len(w, i), K_SECTOR,
			    (uint32_t)i)) < 0)
				return rc;
		w->reg[r] = REG_SECTORS_ASKED;
		*sent = 1;
		return RC_OK;
	}
	return RC_OK;
}

/* A sector that may join a run for free: confirmed blank on the chip and blank in the file. */
static int
free_sector(const struct wr *w, size_t i)
{
	const uint8_t *p = w->buf + i * SECTOR;

	if (w->sec[i] != SEC_SKIP || sec_len(w, i) != SECTOR)
		return 0;
	for (uint32_t k = 0; k < SECTOR; k++)
		if (p[k] != 0xFF)
			return 0;
	return 1;
}

/*
 * The stub erases a 64 KB block a run covers whole in one 150 ms erase, and any other sector
 * in a 45 ms one. When a run covers four or more sectors of a block and the block's other
 * sectors are blank in the file and on the chip, the run takes them in: one block erase
 * instead of 4..15 sector erases, and the blank pages cost neither a page program (the stub
 * leaves them alone) nor more than a few bytes on the wire.
 */
static void
widen(const struct wr *w, size_t *i, size_t *j)
{
	size_t ends[2] = { *i, *j - 1 };

	for (int e = 0; e < 2; e++) {
		size_t b0 = ends[e] / SEC_PER_REGION * SEC_PER_REGION, b1 = b0 + SEC_PER_REGION;
		size_t r0 = *i > b0 ? *i : b0, r1 = *j < b1 ? *j : b1, k;

		if ((r0 == b0 && r1 == b1) || b1 > w->nsec || r1 - r0 < 4)
			continue;
		for (k = b0; k < b1 && ((k >= r0 && k < r1) || free_sector(w, k)); k++)
			;
		if (k < b1)
			continue;
		if (b0 < *i)
			*i = b0;
		if (b1 > *j)
			*j = b1;
	}
}

/* Plans the next run once the need of every sector it covers is known: 1 planned, 0 not yet
 * (or nothing left). */
static int
plan_run(struct wr *w)
{
	size_t i = w->plan, j, max = w->run_max / SECTOR;
	struct wrun *u;

	while (i < w->nsec && (w->sec[i] == SEC_SKIP || w->sec[i] == SEC_DONE))
		i++;
	w->plan = i;
	if (i == w->nsec || w->sec[i] == SEC_UNKNOWN || w->nrun == OPEN_RUNS)
		return 0;
	for (j = i; j < w->nsec && w->sec[j] == SEC_NEED && j - i < max; j++)
		;
	if (j < w->nsec && j - i < max && w->sec[j] == SEC_UNKNOWN)
		return 0;
	/* A full run ends at a 64 KB boundary if it can, so that no block is split. */
	if (j - i == max && j % SEC_PER_REGION != 0 && j / SEC_PER_REGION * SEC_PER_REGION > i)
		j = j / SEC_PER_REGION * SEC_PER_REGION;
	widen(w, &i, &j);
	u = &w->run[w->nrun];
	memset(u, 0, sizeof *u);
	u->s0 = i;
	u->s1 = j;
	u->addr = w->off + (uint32_t)(i * SECTOR);
	u->n = range_len(w, i, j);
	if (flasher_deflate(w->buf + i * SECTOR, u->n, &u->z, &u->zlen) < 0)
		return RC_ERR_IO;
	u->nblocks = (uint32_t)((u->zlen + PIPE_BLOCK - 1) / PIPE_BLOCK);
	flasher_md5_local(w->buf + i * SECTOR, u->n, u->want);
	w->nrun++;
	w->plan = j;
	return 1;
}

/* The next command of the newest run: BEGIN, a DATA block, or its MD5. */
static int
send_run(struct wr *w, int *sent)
{
	struct wrun *u;
	int rc;

	if (w->nrun == 0 || w->run[w->nrun - 1].verify_sent) {
		if ((rc = plan_run(w)) <= 0)
			return rc;
	}
	u = &w->run[w->nrun - 1];
	if (!u->begun) {
		uint32_t words[4] = { u->n, u->nblocks, PIPE_BLOCK, u->addr };

		if (!room(w, 32))
			return RC_OK;
		if ((rc = send_words(w, ROM_OP_FLASH_DEFL_BEGIN, words, 4, K_BEGIN,
		    (uint32_t)u->s0, flasher_t_per_mb(30000, u->n))) < 0)
			return rc;
		u->begun = *sent = 1;
	} else if (u->sent < u->nblocks) {
		uint8_t pkt[ROM_HDR_LEN + ROM_DATA_HDR_LEN + PIPE_BLOCK];
		size_t zo = (size_t)u->sent * PIPE_BLOCK;
		size_t k = u->zlen - zo < PIPE_BLOCK ? u->zlen - zo : PIPE_BLOCK;
		size_t plen = rom_proto_data_cmd_build(pkt, sizeof pkt, ROM_OP_FLASH_DEFL_DATA, u->sent,
		    u->z + zo, k);

		/* Escapes are rare in compressed data; allow for a few. */
		if (!room(w, plen + plen / 64 + 2))
			return RC_OK;
		w->unfenced = 0;
		if ((rc = flasher_pipe_send(w->f, &w->pipe, pkt, plen, K_DATA, u->sent,
		    flasher_t_per_mb(40000, u->n))) < 0)
			return rc;
		u->sent++;
		*sent = 1;
	} else if (room(w, 32)) {
		if ((rc = send_md5(w, u->addr, u->n, K_VERIFY, (uint32_t)u->s0)) < 0)
			return rc;
		u->verify_sent = *sent = 1;
	}
	return RC_OK;
}

/* Sends whatever the rules allow now. */
static int
fill(struct wr *w)
{
	for (;;) {
		int sent = 0, rc;

		if ((rc = send_regions(w, &sent)) < 0 || (sent == 0 && (rc = send_run(w, &sent)) < 0) ||
		    (sent == 0 && (rc = send_sectors(w, &sent)) < 0))
			return rc;
		if (sent)
			continue;
		/* Nothing else to send: close a batch of MD5s with a FENCE so that their answers
		 * count, once the batch is big or nothing else is in flight. */
		if (w->unfenced > 0 && (w->unfenced >= 8 || w->pipe.n == w->unfenced)) {
			uint32_t magic = 0x3FF00050u;

			return send_words(w, ROM_OP_READ_REG, &magic, 1, K_FENCE, 0, FLASHER_T_CMD);
		}
		return RC_OK;
	}
}

static struct wrun *
run_at(struct wr *w, size_t s0)
{
	for (size_t k = 0; k < w->nrun; k++)
		if (w->run[k].s0 == s0)
			return &w->run[k];
	return NULL;
}

static void
run_drop_first(struct wr *w)
{
	free(w->run[0].z);
	memmove(&w->run[0], &w->run[1], (w->nrun - 1) * sizeof w->run[0]);
	w->nrun--;
}

static void
run_done(struct wr *w, struct wrun *u)
{
	for (size_t i = u->s0; i < u->s1; i++) {
		if (w->sec[i] == SEC_SKIP) /* a blank sector taken in by widen() */
			w->skipped -= sec_len(w, i);
		w->sec[i] = SEC_DONE;
	}
	w->written += u->n;
	w->progress = 1;
	/* Runs were shortened after a failure: lengthen them again after four good ones. */
	if (w->run_max < RUN_MAX && ++w->good >= 4) {
		w->run_max *= 2;
		w->good = 0;
	}
}

/* The MD5 answers before a non-MD5 answer are now known to be in their places. */
static void
commit(struct wr *w)
{
	for (size_t t = 0; t < w->ntent; t++) {
		const struct wtent *e = &w->tent[t];
		uint8_t want[16];

		if (e->kind == K_REGION) {
			size_t s0 = e->idx * SEC_PER_REGION, s1 = s0 + SEC_PER_REGION < w->nsec ?
			    s0 + SEC_PER_REGION : w->nsec;

			flasher_md5_local(w->buf + s0 * SECTOR, range_len(w, s0, s1), want);
			w->reg[e->idx] = memcmp(want, e->md5, 16) == 0 ? REG_MATCH : REG_SECTORS;
			for (size_t i = s0; w->reg[e->idx] == REG_MATCH && i < s1; i++) {
				w->sec[i] = SEC_SKIP;
				w->skipped += sec_len(w, i);
			}
		} else if (e->kind == K_SECTOR) {
			flasher_md5_local(w->buf + (size_t)e->idx * SECTOR, sec_len(w, e->idx), want);
			w->sec[e->idx] = memcmp(want, e->md5, 16) == 0 ? SEC_SKIP : SEC_NEED;
			if (w->sec[e->idx] == SEC_SKIP)
				w->skipped += sec_len(w, e->idx);
			if ((e->idx + 1) % SEC_PER_REGION == 0 || e->idx + 1 == w->nsec)
				w->reg[e->idx / SEC_PER_REGION] = REG_KNOWN;
		} else if (e->kind == K_VERIFY && w->nrun > 0 && w->run[0].s0 == e->idx) {
			/* K_VERIFY, matched (a mismatch aborts at once). */
			run_done(w, &w->run[0]);
			run_drop_first(w);
		}
		w->progress = 1;
	}
	w->ntent = 0;
}

/* Takes one answer and acts on it. */
static int
take(struct wr *w)
{
	struct flasher_pipe_ent e;
	struct rom_proto_resp r;
	struct wrun *u;
	int rc;

	if ((rc = flasher_pipe_recv(w->f, &w->pipe, &e, &r)) < 0)
		return rc;
	if (rom_proto_resp_failed(&r)) {
		free(w->dc);
		w->dc = rom_proto_failure_str(&r, 1, e.kind == K_DATA ? e.idx : 0);
		return RC_ERR_DEVICE;
	}
	if (e.kind != K_SECTOR && e.kind != K_REGION)
		log_debug("flasher: answer %s %u (%zu in flight, %llu bytes)", e.kind == K_DATA ?
		    "DATA" : e.kind == K_BEGIN ? "BEGIN" : e.kind == K_VERIFY ? "MD5 of run" : "FENCE",
		    e.idx, w->pipe.n, (unsigned long long)w->pipe.wire);
	if (e.op != ROM_OP_SPI_FLASH_MD5) {
		commit(w);
		if (e.kind == K_DATA && w->nrun > 0) {
			for (size_t k = 0; k < w->nrun; k++)
				if (w->run[k].begun && w->run[k].acked < w->run[k].sent) {
					w->run[k].acked++;
					break;
				}
			wr_progress(w);
		}
		return RC_OK;
	}
	if (r.data_len != 16)
		return RC_ERR_PROTO;
	if (e.kind == K_VERIFY) {
		u = run_at(w, e.idx);
		if (u == NULL)
			return RC_ERR_PROTO;
		if (memcmp(u->want, r.data, 16) != 0) {
			log_debug("flasher: MD5 of the run at 0x%x differs", u->addr);
			return RC_ERR_VERIFY;
		}
	}
	w->tent[w->ntent].kind = e.kind;
	w->tent[w->ntent].idx = e.idx;
	memcpy(w->tent[w->ntent].md5, r.data, 16);
	w->ntent++;
	return RC_OK;
}

static int
finished(const struct wr *w)
{
	if (w->nrun > 0 || w->pipe.n > 0)
		return 0;
	for (size_t i = 0; i < w->nsec; i++)
		if (w->sec[i] != SEC_SKIP && w->sec[i] != SEC_DONE)
			return 0;
	return 1;
}

/* After an abort: forget what is unconfirmed, get the link back, keep the runs that were sent
 * in full and whose MD5 matches when asked once more. */
static int
recover(struct wr *w, char **cause)
{
	char *c2 = NULL;
	int rc;

	flasher_pipe_init(&w->pipe);
	w->ntent = 0;
	w->unfenced = 0;
	for (size_t r = 0; r < w->nreg; r++)
		if (w->reg[r] == REG_ASKED)
			w->reg[r] = REG_ASK;
		else if (w->reg[r] == REG_SECTORS_ASKED)
			w->reg[r] = REG_SECTORS;
	if ((rc = flasher_conn_resync(w->f, cause)) < 0)
		return rc;
	while (w->nrun > 0) {
		struct wrun *u = &w->run[0];
		uint8_t got[16];

		if (u->acked == u->nblocks && u->nblocks > 0) {
			rc = flasher_md5(w->f, u->addr, u->n, got, &c2);
			free(c2);
			c2 = NULL;
			if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE) {
				*cause = flasher_io_cause(w->f, rc, "checking what was written");
				return rc;
			}
			if (rc == RC_OK && memcmp(got, u->want, 16) == 0)
				run_done(w, u);
		}
		if (u->s0 < w->plan)
			w->plan = u->s0;
		run_drop_first(w);
	}
	return RC_OK;
}

/* The message when the write gives up on rc. */
static void
give_up(struct wr *w, int rc, int tries, char **cause)
{
	size_t i = 0; /* the first sector not done */
	char *hint, *all;

	while (i < w->nsec && (w->sec[i] == SEC_SKIP || w->sec[i] == SEC_DONE))
		i++;
	if (rc == RC_ERR_VERIFY)
		*cause = xfmt("%s: the flash at 0x%x still differs from the file after %d writes: "
		    "the flash may be worn or write-protected", w->f->o.port,
		    w->off + (uint32_t)(i * SECTOR), tries);
	else if (rc == RC_ERR_DEVICE && w->dc != NULL)
		*cause = xfmt("%s: %s while writing at 0x%x", w->f->o.port, w->dc,
		    w->off + (uint32_t)(i * SECTOR));
	else
		*cause = flasher_io_cause(w->f, rc, "writing");
	if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE)
		return;
	hint = flasher_io_noise_hint(w->f);
	all = xfmt("%s. %s; then run the same command again (sectors already written are skipped)",
	    *cause, hint);
	free(*cause);
	free(hint);
	*cause = all;
}

/* Runs the pipeline until everything is done, recovering from aborts. */
static int
wr_loop(struct wr *w, char **cause)
{
	int tries = 0, fails = 0;

	for (;;) {
		int rc;

		w->progress = 0;
		while ((rc = fill(w)) == RC_OK && !finished(w) && w->pipe.n > 0)
			if ((rc = take(w)) < 0)
				break;
		if (rc == RC_OK && finished(w))
			return RC_OK;
		if (rc == RC_OK)
			rc = RC_ERR_PROTO; /* nothing to send and nothing awaited: cannot happen */
		tries = w->progress ? 1 : tries + 1;
		if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE || rc == RC_ERR_IO || tries >= MAX_TRIES) {
			give_up(w, rc, tries, cause);
			return rc;
		}
		log_debug("flasher: write pipeline stopped (%s); resyncing", rc_str(rc));
		flasher_notice(w->f, "the write did not go through cleanly; writing the rest again");
		if ((rc = recover(w, cause)) < 0)
			return rc;
		/* Shorter runs on a noisy line; every second failure a lower baud. */
		if (w->run_max > SECTOR)
			w->run_max /= 2;
		w->good = 0;
		if (++fails % 2 == 0) {
			char *c2 = NULL;

			if (flasher_conn_step_down(w->f, "writes failed", &c2) < 0)
				free(c2);
		}
	}
}

static int
stub_write(struct flasher *f, uint32_t off, const uint8_t *buf, size_t len,
    struct flasher_write_result *res, char **cause)
{
	struct wr *w = xcalloc(1, sizeof *w);
	int rc;

	w->f = f;
	w->off = off;
	w->buf = buf;
	w->len = len;
	w->nsec = (len + SECTOR - 1) / SECTOR;
	w->nreg = (w->nsec + SEC_PER_REGION - 1) / SEC_PER_REGION;
	w->sec = xcalloc(w->nsec, 1);
	w->reg = xcalloc(w->nreg, 1);
	w->run_max = RUN_MAX;
	flasher_pipe_init(&w->pipe);
	flasher_emit(f, FLASHER_PH_WRITE, 0, len, off, "comparing the flash with the file; "
	    "writing the sectors that differ");
	flasher_phase_start(f, FLASHER_PH_WRITE);
	rc = wr_loop(w, cause);
	res->written = (uint32_t)w->written;
	res->skipped = (uint32_t)w->skipped;
	res->verified = rc == RC_OK;
	while (w->nrun > 0)
		run_drop_first(w);
	free(w->dc);
	free(w->sec);
	free(w->reg);
	free(w);
	return rc;
}

static int
rom_write(struct flasher *f, uint32_t off, const uint8_t *buf, size_t len,
    struct flasher_write_result *res, char **cause)
{
	uint32_t nblocks = (uint32_t)((len + ROM_FLASH_BLOCK - 1) / ROM_FLASH_BLOCK);
	uint32_t w[4] = { flasher_plan_rom_erase_size(off, (uint32_t)len), nblocks, ROM_FLASH_BLOCK,
		off };
	uint8_t block[ROM_FLASH_BLOCK], pkt[ROM_HDR_LEN + ROM_DATA_HDR_LEN + ROM_FLASH_BLOCK];
	char *dc = NULL;
	int rc;

	{
		uint32_t real = flasher_plan_rom_erased(off, w[0]);
		uint32_t need = (uint32_t)((len + 4095) & ~(size_t)4095);

		if (real > need)
			flasher_notice(f, "the ROM's erase bug also wipes 0x%x..0x%x after this data "
			    "(protocol.md §7.3); without --no-stub only the data's sectors are erased",
			    off + need, off + real - 1);
	}
	flasher_phase_start(f, FLASHER_PH_ERASE);
	flasher_emit(f, FLASHER_PH_ERASE, 0, len, off, NULL);
	/* The ROM erases before it answers: esptool allows 30 s per MB. */
	if ((rc = flasher_io_cmd(f, ROM_OP_FLASH_BEGIN, w, 4, flasher_t_per_mb(30000, len), NULL,
	    &dc)) < 0)
		return dev_fail(f, rc, dc, "erasing before the write (FLASH_BEGIN)", cause);
	flasher_phase_start(f, FLASHER_PH_WRITE);
	for (uint32_t seq = 0; seq < nblocks; seq++) {
		size_t at = (size_t)seq * ROM_FLASH_BLOCK, n = len - at < ROM_FLASH_BLOCK ? len - at :
		    ROM_FLASH_BLOCK;
		size_t plen;

		memset(block, 0xFF, sizeof block);
		memcpy(block, buf + at, n);
		plen = rom_proto_data_cmd_build(pkt, sizeof pkt, ROM_OP_FLASH_DATA, seq, block,
		    sizeof block);
		for (int attempt = 0;; attempt++) {
			struct rom_proto_resp r;

			rc = flasher_io_send(f, pkt, plen);
			if (rc == RC_OK)
				rc = flasher_io_resp(f, ROM_OP_FLASH_DATA, FLASHER_T_CMD, &r);
			if (rc == RC_OK && !rom_proto_resp_failed(&r))
				break;
			if (rc == RC_OK) {
				free(dc);
				dc = rom_proto_failure_str(&r, 0, seq);
				rc = RC_ERR_DEVICE;
			}
			if (rc == RC_ERR_CANCEL || rc == RC_ERR_GONE || attempt >= 2) {
				res->written = (uint32_t)at;
				return dev_fail(f, rc, dc, "writing through the ROM", cause);
			}
			if ((rc = flasher_io_drain(f, 30, 500)) < 0)
				return dev_fail(f, rc, dc, "writing through the ROM", cause);
		}
		free(dc);
		dc = NULL;
		flasher_emit(f, FLASHER_PH_WRITE, at + n, len, off, NULL);
	}
	res->written = (uint32_t)len;
	res->verified = 0;
	return RC_OK;
}

int
flasher_write(struct flasher *f, uint32_t off, const uint8_t *data, size_t len,
    const struct flasher_hdr *hdr, struct flasher_write_result *res, char **cause)
{
	const char *why;
	size_t plen;
	uint8_t *buf;
	int rc;

	*cause = NULL;
	memset(res, 0, sizeof *res);
	if ((rc = flasher_plan_check_write(off, len, flasher_flash_size(f), "the file", cause)) < 0)
		return rc;
	if (flasher_chip_jedec_dead(f->info.jedec)) {
		*cause = xfmt("%s: the flash chip is not answering (JEDEC id 0x%06x): check its 3.3 V "
		    "supply and wiring; nothing was written", f->o.port, f->info.jedec);
		return RC_ERR_DEVICE;
	}
	buf = flasher_write_prepare(data, len, off, hdr, &plen, &res->params, &res->patched, &why);
	if (why != NULL)
		flasher_notice(f, "%s", why);
	else if (res->patched)
		flasher_notice(f, "flash params set to 0x%04x", res->params);
	if (!f->info.stub)
		rc = rom_write(f, off, buf, plen, res, cause);
	else
		rc = stub_write(f, off, buf, plen, res, cause);
	free(buf);
	return rc;
}
