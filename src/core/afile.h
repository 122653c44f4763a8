/*
 * afile.h: whole files, read and written safely. A write goes to a temporary file in the same
 * directory, is fsync'ed, renamed over the target and the directory is fsync'ed, so a crash or a
 * pulled plug leaves either the old file or the new one, never a mix. A user's only copy of the
 * factory firmware may pass through here.
 */
#ifndef ESPDESK_AFILE_H
#define ESPDESK_AFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/common.h"

/* Flags for afile_write(). */
#define AFILE_OVERWRITE 0x1  /* replace an existing file (default: refuse with RC_ERR_BUSY) */

/*
 * Writes len bytes to path atomically with permissions mode (e.g. 0444 for a backup). Errors:
 * RC_ERR_BUSY (path exists and AFILE_OVERWRITE not given), RC_ERR_IO (the cause names the path
 * and the system error). The temporary file is removed on failure.
 */
int afile_write(const char *path, const void *data, size_t len, mode_t mode, int flags, char **cause);
/* fsyncs the directory that holds path. */
int afile_sync_dir(const char *path);
/*
 * Reads a whole file into a new buffer (*data, caller frees; one extra NUL byte is appended and
 * not counted). Files larger than max bytes are refused. "-" reads standard input.
 */
int afile_read(const char *path, size_t max, uint8_t **data, size_t *len, char **cause);
/* 1 when a and b name the same file (same device and inode), 0 otherwise or if one is missing. */
int afile_same(const char *a, const char *b);

#endif
