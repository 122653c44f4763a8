/* The key table: every key the workstation knows, for dispatch, the key bar and the help screen. */
#include "config.h"

#include "ui/ui_curses.h"
#include "ui/ui_int.h"

const struct ui_key ui_keys[] = {
	{ KEY_F(1), "F1 ?", UA_HELP, "this help (any key closes it)", "Help", 0 },
	{ '?', NULL, UA_HELP, NULL, NULL, 0 },
	{ KEY_F(2), "F2 i", UA_IDENTIFY, "identify: chip, MAC, flash id and size, matching profile", "Ident", 0 },
	{ 'i', NULL, UA_IDENTIFY, NULL, NULL, 0 },
	{ KEY_F(3), "F3 b", UA_BACKUP, "back up the whole flash to a file (asks for the name)", "Backup", 0 },
	{ 'b', NULL, UA_BACKUP, NULL, NULL, 0 },
	{ KEY_F(4), "F4 w", UA_WRITE, "write a file at 0x0 (asks for the file, then confirms)", "Write", 0 },
	{ 'w', NULL, UA_WRITE, NULL, NULL, 0 },
	{ KEY_F(5), "F5 e", UA_ERASE, "erase the whole flash (confirms, says what is lost)", "Erase", 0 },
	{ 'e', NULL, UA_ERASE, NULL, NULL, 0 },
	{ KEY_F(6), "F6 r", UA_RESET, "reset the board (RTS pulse; power-cycle boards without one)", "Reset", 0 },
	{ 'r', NULL, UA_RESET, NULL, NULL, 0 },
	{ 27, "Esc", UA_CANCEL, "cancel the running job, close the job pane or a prompt", NULL, 0 },
	{ '/', "/", UA_SEARCH, "search the log (POSIX extended regex; Enter searches back)", "Search", 0 },
	{ 'n', "n", UA_NEXT, "next match, older", NULL, 0 },
	{ 'N', "N", UA_PREV, "previous match, newer", NULL, 0 },
	{ 't', "t", UA_STAMPS, "timestamps on/off", NULL, 0 },
	{ 'x', "x", UA_HEX, "hex view on/off (the bytes as received)", NULL, 0 },
	{ 's', "s", UA_SAVE, "save the log to a file", NULL, 0 },
	{ 'c', "c", UA_CLEAR, "clear the log", NULL, 0 },
	{ 'p', "p", UA_PIN, "pin the baud / follow the device again", "Pin", 0 },
	{ 'B', "B", UA_BAUD, "pin the next baud: 74880, 115200, 9600, 230400, 460800, 921600", NULL, 0 },
	{ KEY_UP, "Up", UA_UP, "scroll back one line (freezes the view)", NULL, 0 },
	{ 'k', NULL, UA_UP, NULL, NULL, 0 },
	{ KEY_DOWN, "Down", UA_DOWN, "scroll forward one line", NULL, 0 },
	{ 'j', NULL, UA_DOWN, NULL, NULL, 0 },
	{ KEY_PPAGE, "PgUp", UA_PGUP, "scroll back a page", NULL, 0 },
	{ KEY_NPAGE, "PgDn", UA_PGDN, "scroll forward a page", NULL, 0 },
	{ KEY_HOME, "Home", UA_HOME, "the oldest line", NULL, 0 },
	{ KEY_END, "End", UA_END, "follow the tail again", NULL, 0 },
	{ 'g', "g", UA_DEMO_GPIO0, "demo: press/release the GPIO0 button", NULL, 1 },
	{ 'P', "P", UA_DEMO_POWER, "demo: power-cycle the board", "Power", 1 },
	{ '0', "0", UA_DEMO_HEALTHY, "demo: the healthy demo firmware again", NULL, 1 },
	{ '1', "1", UA_DEMO_EXC, "demo: exception loop", NULL, 1 },
	{ '2', "2", UA_DEMO_WDT, "demo: watchdog loop", NULL, 1 },
	{ '3', "3", UA_DEMO_FLASHMODE, "demo: bad flash mode (QIO image on the ESP8285)", NULL, 1 },
	{ '4', "4", UA_DEMO_RF, "demo: missing RF init data", NULL, 1 },
	{ 'u', "u", UA_DEMO_UNPLUG, "demo: pull the USB cable / plug it back", NULL, 1 },
	{ KEY_F(10), "F10 q", UA_QUIT, "quit (the port and the terminal are restored)", "Quit", 0 },
	{ 'q', NULL, UA_QUIT, NULL, NULL, 0 },
};
const size_t ui_nkeys = sizeof ui_keys / sizeof ui_keys[0];
