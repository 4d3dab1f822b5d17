/* Plugin options shared by the subcommands that decode packets. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../plugins/loader.h"

static int push(const char **list, size_t *n, const char *arg,
    const char *what)
{
	if (*n >= TM_CLI_MAX_LIST) {
		fprintf(stderr, "tm: too many %s options (at most %d)\n", what,
		    TM_CLI_MAX_LIST);
		return -1;
	}
	list[(*n)++] = arg;
	return 1;
}

int tm_cli_plugin_opt(struct tm_cli_plugins *p, int opt, const char *arg)
{
	char *end;
	unsigned long v;

	switch (opt) {
	case 0x1000:
		return push(p->dirs, &p->n_dirs, arg, "--plugin-dir");
	case 0x1001:
		return push(p->overrides, &p->n_overrides, arg, "--override");
	case 0x1002:
		return push(p->binds, &p->n_binds, arg, "--bind");
	case 0x1003:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || v < 1 || v > 64) {
			fprintf(stderr, "tm: --max-depth: '%s' is not a number "
			    "from 1 to 64\n", arg);
			return -1;
		}
		p->max_depth = (unsigned)v;
		return 1;
	case 0x1004:
		p->no_builtin = 1;
		return 1;
	default:
		return 0;
	}
}

static int apply_bind(struct tm_registry *r, const char *spec)
{
	char buf[256], err[256];
	char *eq, *colon;

	if (strlen(spec) >= sizeof(buf)) {
		fprintf(stderr, "tm: --bind %s: too long\n", spec);
		return -1;
	}
	strcpy(buf, spec);
	eq = strchr(buf, '=');
	colon = eq ? strrchr(eq + 1, ':') : NULL;
	if (!eq || !colon) {
		fprintf(stderr, "tm: --bind %s: expected NAME=TABLE:VALUE, e.g. "
		    "vxlan=udp.port:8472\n", spec);
		return -1;
	}
	*eq = '\0';
	*colon = '\0';
	if (tm_registry_bind(r, buf, eq + 1, colon + 1, err, sizeof(err))) {
		fprintf(stderr, "tm: --bind %s: %s\n", spec, err);
		return -1;
	}
	return 0;
}

int tm_cli_setup(struct tm_registry *r, const struct tm_cli_plugins *p,
    int quiet)
{
	struct tm_load_opts o = {
		.dirs = p->dirs, .n_dirs = p->n_dirs,
		.overrides = p->overrides, .n_overrides = p->n_overrides,
		.no_builtin = p->no_builtin, .quiet = quiet,
	};

	if (tm_registry_init(r)) {
		fprintf(stderr, "tm: out of memory\n");
		return -1;
	}
	if (p->max_depth)
		r->max_depth = p->max_depth;
	if (tm_load_plugins(r, &o))
		goto fail;
	for (size_t i = 0; i < p->n_binds; i++)
		if (apply_bind(r, p->binds[i]))
			goto fail;
	return 0;
fail:
	tm_cli_teardown(r);
	return -1;
}

void tm_cli_teardown(struct tm_registry *r)
{
	tm_unload_plugins(r);
	tm_registry_free(r);
}

int tm_cli_pcap_out(const char *wfile, int want_pcap, FILE **out)
{
	static char buf[1 << 20];	/* one answer per process */

	*out = NULL;
	if (wfile && strcmp(wfile, "-") != 0) {
		*out = fopen(wfile, "wb");
		if (!*out) {
			fprintf(stderr, "tm: %s: ", wfile);
			perror(NULL);
			return 1;
		}
	} else if (wfile || want_pcap) {
		if (isatty(STDOUT_FILENO)) {
			fprintf(stderr, "tm: standard output is a terminal: "
			    "write the pcap with -w FILE or into a pipe "
			    "(| tcpdump -r -), or use --count\n");
			return 2;
		}
		*out = stdout;
	}
	if (*out)
		setvbuf(*out, buf, _IOFBF, sizeof(buf));
	return 0;
}

char *tm_cli_join(int argc, char **argv)
{
	size_t len = 1, o = 0;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (i)
			s[o++] = ' ';
		memcpy(s + o, argv[i], n);
		o += n;
	}
	s[o] = '\0';
	return s;
}
