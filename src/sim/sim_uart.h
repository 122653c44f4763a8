/*
 * sim_uart.h: what a UART receiver makes of bytes sent at another baud.
 *
 * Principles of operation. A burst of bytes sent back to back at tx_baud is turned into the line
 * waveform a real UART drives (idle high, one start bit low, 8 data bits LSB first, one stop bit
 * high, idle high after the last byte). A receiver at rx_baud watches that line: on each falling
 * edge it samples the middle of the start bit (a high sample is a glitch and is ignored), then the
 * middle of each data bit and of the stop bit, and delivers the byte. A low stop bit is a framing
 * error; a Linux tty in raw mode (IGNPAR and INPCK off, PARMRK off) still delivers the received
 * value, and a break (all zero bits) arrives as 0x00. The receiver then waits for the line to go
 * high and for the next falling edge. Equal bauds give the input unchanged. The model is exact
 * integer arithmetic, so it is deterministic.
 */
#ifndef ESPDESK_SIM_UART_H
#define ESPDESK_SIM_UART_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends to out what a receiver at rx_baud reads from len bytes sent at tx_baud (both > 0).
 * Returns the number of bytes appended. */
size_t sim_uart_resample(const uint8_t *in, size_t len, uint32_t tx_baud, uint32_t rx_baud,
    struct buf *out);

/* Microseconds a burst of n bytes (10 bits each) occupies the line at baud, rounded up. */
uint64_t sim_uart_time_us(size_t n, uint32_t baud);

#endif
