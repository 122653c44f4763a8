#include "config.h"

#include "sim/sim_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/xmalloc.h"

int
sim_pty_open(struct sim_pty *p, const char *link, char **cause)
{
	struct termios t;
	const char *name;
	char *tmp;

	p->master = p->slave = -1;
	if ((p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
	    grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
	    (name = ptsname(p->master)) == NULL) {
		*cause = xfmt("cannot create a pseudo-terminal: %s; is /dev/ptmx available?",
		    strerror(errno));
		goto fail;
	}
	snprintf(p->name, sizeof p->name, "%s", name);
	if ((p->slave = open(p->name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		*cause = xfmt("%s: cannot open the pty slave: %s", p->name, strerror(errno));
		goto fail;
	}
	if (tcgetattr(p->slave, &t) == 0) {
		cfmakeraw(&t);
		cfsetspeed(&t, B115200);
		tcsetattr(p->slave, TCSANOW, &t);
	}
	fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
	if (link != NULL) {
		if (p->link == NULL || strcmp(p->link, link) != 0) {
			free(p->link);
			p->link = xstrdup(link);
		}
		tmp = xfmt("%s.tmp%ld", link, (long)getpid());
		unlink(tmp);
		if (symlink(p->name, tmp) < 0 || rename(tmp, link) < 0) {
			*cause = xfmt("%s: cannot make the --link symlink: %s; check the directory",
			    link, strerror(errno));
			unlink(tmp);
			free(tmp);
			goto fail;
		}
		free(tmp);
	}
	return RC_OK;
fail:
	if (p->slave >= 0)
		close(p->slave);
	if (p->master >= 0)
		close(p->master);
	p->master = p->slave = -1;
	return RC_ERR_IO;
}

void
sim_pty_close(struct sim_pty *p, int remove_link)
{
	if (p->slave >= 0)
		close(p->slave);
	if (p->master >= 0)
		close(p->master);
	p->master = p->slave = -1;
	/* An unplugged adapter takes its device node (and /dev/serial/by-id link) with it; a link
	 * left pointing at the old /dev/pts/N would lead a waiting host to whatever pty reuses N. */
	if (p->link != NULL)
		unlink(p->link);
	if (remove_link) {
		free(p->link);
		p->link = NULL;
	}
}

void
sim_pty_discard_output(struct sim_pty *p)
{
	if (p->slave >= 0)
		tcflush(p->slave, TCIFLUSH);
}
