/* espdesk: a terminal workstation for ESP8266/ESP8285 (Sonoff) devices. */
#include "config.h"

#include <locale.h>

#include "cli/cli.h"

int
main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	return cli_main(argc, argv);
}
