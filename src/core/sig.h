/*
 * sig.h: the "stop" signals of a command that must stop cleanly rather than die: SIGINT (Ctrl-C),
 * SIGTERM and SIGHUP (a closed SSH session). A flasher or flow that dies mid-write leaves the chip
 * in an unknown state; one that sees the flag stops its step within 100 ms, records where it
 * stopped and returns the chip to its loader.
 *
 * One set of handlers per process. sig_catch_stop() installs them for the three signals (and
 * ignores SIGPIPE, so a closed pipe or socket is an error return, not a death); each delivery
 * sets sig_stop and, when a wake-up fd was given, writes the signal number to it as one byte
 * (the self-pipe trick for a poll() loop). Nothing here allocates; errors: none (sigaction on
 * these signals cannot fail).
 */
#ifndef ESPDESK_SIG_H
#define ESPDESK_SIG_H

#include <stdatomic.h>

/* Set by the handlers; the engines take &sig_stop as their cancel flag. Never cleared here. */
extern atomic_bool sig_stop;

/* Installs the handlers. wake_fd < 0: no wake-up byte. The fd should be non-blocking (a full
 * pipe drops the byte; the flag is still set). */
void sig_catch_stop(int wake_fd);

#endif
