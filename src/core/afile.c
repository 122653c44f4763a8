#include "config.h"

#include "core/afile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

int
afile_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = RC_OK;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fsync(fd) != 0)
		rc = RC_ERR_IO;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int
afile_write(const char *path, const void *data, size_t len, mode_t mode, int flags, char **cause)
{
	const uint8_t *p = data;
	char *tmp;
	int fd, saved;
	size_t done = 0;
	struct stat st;

	*cause = NULL;
	if (!(flags & AFILE_OVERWRITE) && lstat(path, &st) == 0) {
		*cause = xfmt("%s already exists; choose another name or remove it first", path);
		return RC_ERR_BUSY;
	}
	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*cause = xfmt("cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return RC_ERR_IO;
	}
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || fchmod(fd, mode) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	afile_sync_dir(path);
	free(tmp);
	return RC_OK;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	*cause = xfmt("cannot write %s: %s (nothing was changed)", path, strerror(saved ? saved : EIO));
	free(tmp);
	return RC_ERR_IO;
}

int
afile_read(const char *path, size_t max, uint8_t **data, size_t *len, char **cause)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	uint8_t *buf;

	*cause = NULL;
	*data = NULL;
	*len = 0;
	if (fd < 0) {
		*cause = xfmt("cannot open %s: %s", path, strerror(errno));
		return RC_ERR_IO;
	}
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > max) {
				*cause = xfmt("%s is larger than %zu bytes, too large for this", path, max);
				goto fail;
			}
			cap *= 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*cause = xfmt("cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		*cause = xfmt("%s is larger than %zu bytes, too large for this", path, max);
		goto fail;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return RC_OK;
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return RC_ERR_IO;
}

int
afile_same(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
