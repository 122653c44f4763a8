/* espdesk: a terminal workstation for ESP8266/ESP8285 (Sonoff) devices. */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int
main(int argc, char **argv)
{
	char *targv[64];

	setlocale(LC_ALL, "");
	/* `espdesk --demo`, `espdesk -p PORT ...` and a bare `espdesk` on a terminal open the
	 * workstation: the same as `espdesk tui ...`. */
	if ((argc == 1 && isatty(0) && isatty(1)) || (argc > 1 && argc < 63 &&
	    (strcmp(argv[1], "--demo") == 0 || strcmp(argv[1], "-p") == 0 ||
	    strncmp(argv[1], "--port", 6) == 0))) {
		targv[0] = argv[0];
		targv[1] = (char *)"tui";
		memcpy(targv + 2, argv + 1, (size_t)(argc - 1) * sizeof *argv);
		targv[argc + 1] = NULL;
		return cli_main(argc + 1, targv);
	}
	return cli_main(argc, argv);
}
