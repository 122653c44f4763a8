/*
 * fuzz.h: the one entry point every fuzz target defines. With --enable-fuzzing each target links
 * libFuzzer; otherwise tests/fuzz/replay.c drives the same function under `make check` over the
 * seed corpus in tests/data/fuzz/NAME/ and a few thousand deterministic mutations of it, so each
 * target is exercised (under ASan in the sanitizer run) even without clang.
 */
#ifndef ESPDESK_FUZZ_H
#define ESPDESK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
