/*
 * simctl: sends one command line to espdesk-sim's control socket and prints the reply line, for
 * shell tests ("simctl SOCKET power on"). Exits 0 when the reply starts with "ok".
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	char line[1024] = "", reply[1024];
	ssize_t n;
	size_t got = 0;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: simctl SOCKET COMMAND...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		strncat(line, argv[i], sizeof line - strlen(line) - 2);
		strncat(line, i + 1 < argc ? " " : "\n", sizeof line - strlen(line) - 1);
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (write(fd, line, strlen(line)) < 0) {
		perror("write");
		return 1;
	}
	while (got < sizeof reply - 1 && (n = read(fd, reply + got, sizeof reply - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(reply, '\n', got) != NULL)
			break;
	}
	reply[got] = '\0';
	fputs(reply, stdout);
	close(fd);
	return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}
