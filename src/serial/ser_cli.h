/*
 * ser_cli.h: `espdesk list-ports`, the serial layer's subcommand (the CLI tier: it prints).
 */
#ifndef ESPDESK_SER_CLI_H
#define ESPDESK_SER_CLI_H

#include <stdio.h>

#include "cli/cli.h"
#include "serial/ser.h"

extern const struct cli_cmd cli_cmd_list_ports;

/*
 * Prints n ports to f: a table, or with json one object per line
 * ({"port":...,"vid":"1a86","pid":"7523","bridge":...,"manufacturer":...,"product":...,
 * "serial":...,"description":...}, null where unknown). With no ports the table form prints a
 * hint to check the adapter; the JSON form prints nothing. Strings from the device are escaped
 * (esc_bytes). Returns 0, or -1 if writing to f failed.
 */
int ser_cli_print(FILE *f, const struct ser_info *list, size_t n, int json);

#endif
