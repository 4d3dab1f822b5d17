/* `tm plugins`: every module loaded, with its bindings, and every refusal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm plugins [--plugin-dir DIR]... [--json]\n"
	    "Lists the dissector modules loaded (file, version, dissectors,\n"
	    "bindings, events) and the modules refused, with the reason.\n"
	    "Exits 1 when a module was refused.\n"
	    "  --json              one JSON object per module\n"
	    TM_CLI_PLUGIN_HELP);
}

static void print_text(const struct tm_registry *r)
{
	unsigned refused = 0;

	for (unsigned mi = 0; mi < r->n_modules; mi++) {
		const struct tm_module *m = &r->modules[mi];

		if (!m->loaded) {
			refused++;
			continue;
		}
		printf("%s %s  %s\n", m->name, m->version ? m->version : "-",
		    m->file);
		for (unsigned i = 0; i < r->n_slots; i++) {
			const struct tm_dissector_slot *s = &r->slots[i];

			if (s->module != mi)
				continue;
			printf("  dissector %s: %s\n", s->d->name,
			    s->d->description ? s->d->description : "");
			for (unsigned t = 0; t < TM_TABLE_COUNT; t++)
				for (unsigned v = 0; v < 65536; v++)
					if (tm_registry_lookup(r, t,
					    (uint16_t)v) == (int)i)
						printf("    bound to %s %u "
						    "(0x%04x)\n", tm_table_name(t),
						    v, v);
			printf("    events: %s.truncated %s.too_short",
			    s->d->name, s->d->name);
			for (size_t e = 0; e < s->d->n_events; e++)
				printf(" %s", s->d->events[e]);
			printf("\n");
		}
	}
	if (refused) {
		printf("refused:\n");
		for (unsigned mi = 0; mi < r->n_modules; mi++)
			if (!r->modules[mi].loaded)
				printf("  %s: %s\n", r->modules[mi].file,
				    r->modules[mi].reason ?
				    r->modules[mi].reason : "refused");
	}
}

static void json_s(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct tm_registry *r)
{
	for (unsigned mi = 0; mi < r->n_modules; mi++) {
		const struct tm_module *m = &r->modules[mi];
		int first_d = 1;

		printf("{\"file\":");
		json_s(m->file);
		printf(",\"name\":");
		json_s(m->name);
		printf(",\"version\":");
		json_s(m->version ? m->version : "");
		printf(",\"loaded\":%s", m->loaded ? "true" : "false");
		if (!m->loaded) {
			printf(",\"reason\":");
			json_s(m->reason);
			printf("}\n");
			continue;
		}
		printf(",\"dissectors\":[");
		for (unsigned i = 0; i < r->n_slots; i++) {
			const struct tm_dissector_slot *s = &r->slots[i];
			int first_b = 1;

			if (s->module != mi)
				continue;
			printf("%s{\"name\":", first_d ? "" : ",");
			first_d = 0;
			json_s(s->d->name);
			printf(",\"bindings\":[");
			for (unsigned t = 0; t < TM_TABLE_COUNT; t++)
				for (unsigned v = 0; v < 65536; v++)
					if (tm_registry_lookup(r, t,
					    (uint16_t)v) == (int)i) {
						printf("%s{\"table\":\"%s\","
						    "\"value\":%u}", first_b ?
						    "" : ",", tm_table_name(t), v);
						first_b = 0;
					}
			printf("],\"events\":[\"%s.truncated\",\"%s.too_short\"",
			    s->d->name, s->d->name);
			for (size_t e = 0; e < s->d->n_events; e++) {
				putchar(',');
				json_s(s->d->events[e]);
			}
			printf("]}");
		}
		printf("]}\n");
	}
}

int tm_cmd_plugins(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		TM_CLI_PLUGIN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct tm_cli_plugins plug = { 0 };
	struct tm_registry *reg;
	int opt, json = 0, rc = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		int r = tm_cli_plugin_opt(&plug, opt, optarg);

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	reg = malloc(sizeof(*reg));
	if (!reg || tm_cli_setup(reg, &plug, 1)) {
		free(reg);
		return 2;
	}
	if (json)
		print_json(reg);
	else
		print_text(reg);
	for (unsigned mi = 0; mi < reg->n_modules; mi++)
		if (!reg->modules[mi].loaded)
			rc = 1;
	tm_cli_teardown(reg);
	free(reg);
	return rc;
}
