/* What every subcommand that decodes shares: plugin options and set-up. */
#ifndef TM_CLI_H
#define TM_CLI_H

#include <stdio.h>

#include "registry.h"

#define TM_CLI_MAX_LIST 64

struct tm_cli_plugins {
	const char *dirs[TM_CLI_MAX_LIST];
	size_t n_dirs;
	const char *overrides[TM_CLI_MAX_LIST];
	size_t n_overrides;
	const char *binds[TM_CLI_MAX_LIST];	/* "NAME=TABLE:VALUE" */
	size_t n_binds;
	unsigned max_depth;
	int no_builtin;
};

/* Long options shared by decoding subcommands; ids from 0x1000 up. */
#define TM_CLI_PLUGIN_LONGOPTS						\
	{ "plugin-dir", required_argument, NULL, 0x1000 },		\
	{ "override", required_argument, NULL, 0x1001 },		\
	{ "bind", required_argument, NULL, 0x1002 },			\
	{ "max-depth", required_argument, NULL, 0x1003 },		\
	{ "no-builtin", no_argument, NULL, 0x1004 }

#define TM_CLI_PLUGIN_HELP						\
	"  --plugin-dir DIR    load dissector modules from DIR too (repeatable)\n" \
	"  --override MODULE   let MODULE's bindings replace existing ones\n" \
	"  --bind NAME=TABLE:VALUE  bind dissector NAME to a table value,\n" \
	"                      e.g. --bind vxlan=udp.port:8472 (repeatable)\n" \
	"  --max-depth N       nested encapsulations followed (default 8)\n" \
	"  --no-builtin        do not load the install's own dissectors\n"

/* Handles one of the options above. Returns 1 if it was one, 0 if not,
 * -1 on a bad value (message printed). */
int tm_cli_plugin_opt(struct tm_cli_plugins *p, int opt, const char *arg);

/* Initializes the registry and loads modules and bindings. Returns 0, or -1
 * with a message on stderr. */
int tm_cli_setup(struct tm_registry *r, const struct tm_cli_plugins *p,
    int quiet);
void tm_cli_teardown(struct tm_registry *r);

/* The words argv[0..argc) joined by single spaces, as tcpdump takes its
 * filter from its last arguments (malloc'd; NULL: out of memory). */
char *tm_cli_join(int argc, char **argv);

/* Where a query's pcap goes (tm query, local or --connect, and --cluster):
 * -w FILE, or standard output for -w - or when want_pcap (no -w and the
 * answer is packets, not a count); standard output on a terminal is
 * refused. *out stays NULL when no pcap is wanted. Fully buffered.
 * Returns 0, or the exit status (1: FILE cannot be opened; 2: a
 * terminal), the message on stderr. */
int tm_cli_pcap_out(const char *wfile, int want_pcap, FILE **out);

#endif
