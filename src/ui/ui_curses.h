/* ui_curses.h: the one place that includes curses (wide-character ncurses). Only src/ui/. */
#ifndef ESPDESK_UI_CURSES_H
#define ESPDESK_UI_CURSES_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#endif
