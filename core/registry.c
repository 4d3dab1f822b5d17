/* The dissector registry: who is bound where, and every event's name. */
#include "registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const table_names[TM_TABLE_COUNT] = TM_TABLE_NAMES;

static const char *const core_events[TM_EV_CORE_COUNT] = {
	"decode.depth_exceeded",
	"decode.too_many_layers",
	"decode.bad_verdict",
};

int tm_table_by_name(const char *name)
{
	for (unsigned i = 0; i < TM_TABLE_COUNT; i++)
		if (strcmp(table_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *tm_table_name(unsigned table)
{
	return table < TM_TABLE_COUNT ? table_names[table] : "?";
}

int tm_registry_init(struct tm_registry *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned t = 0; t < TM_TABLE_COUNT; t++) {
		r->tables[t] = calloc(65536, sizeof(uint16_t));
		if (!r->tables[t]) {
			tm_registry_free(r);
			return -1;
		}
	}
	for (unsigned i = 0; i < TM_EV_CORE_COUNT; i++)
		r->events[r->n_events++] = core_events[i];
	r->max_depth = 8;
	return 0;
}

void tm_registry_free(struct tm_registry *r)
{
	for (unsigned t = 0; t < TM_TABLE_COUNT; t++)
		free(r->tables[t]);
	for (unsigned i = 0; i < r->n_events; i++)
		free(r->owned_events[i]);
	for (unsigned i = 0; i < r->n_modules; i++) {
		free(r->modules[i].file);
		free(r->modules[i].name);
		free(r->modules[i].version);
		free(r->modules[i].reason);
	}
	memset(r, 0, sizeof(*r));
}

static char *dupstr(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct tm_module *new_module(struct tm_registry *r, const char *file,
    const char *name, const char *version)
{
	struct tm_module *m;

	if (r->n_modules >= TM_MAX_MODULES)
		return NULL;
	m = &r->modules[r->n_modules++];
	memset(m, 0, sizeof(*m));
	m->file = dupstr(file);
	m->name = dupstr(name);
	m->version = dupstr(version);
	return m;
}

static void set_reason(struct tm_module *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_reason(struct tm_module *m, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(m->reason);
	m->reason = strdup(buf);
}

void tm_registry_refuse(struct tm_registry *r, const char *file,
    const char *reason)
{
	const char *base = strrchr(file, '/');
	struct tm_module *m = new_module(r, file, base ? base + 1 : file, NULL);

	if (m)
		set_reason(m, "%s", reason);
}

int tm_dissector_by_name(const struct tm_registry *r, const char *name)
{
	for (unsigned i = 0; i < r->n_slots; i++)
		if (strcmp(r->slots[i].d->name, name) == 0)
			return (int)i;
	return -1;
}

const char *tm_dissector_name(const struct tm_registry *r, unsigned idx)
{
	return idx < r->n_slots ? r->slots[idx].d->name : "?";
}

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

/* Checks one dissector against the ABI and the registry: 0 if fine. */
static int check_dissector(const struct tm_registry *r,
    const struct tm_dissector *d, struct tm_module *m, int override,
    const struct tm_dissector *const *batch, size_t n_batch)
{
	if (!d) {
		set_reason(m, "a NULL dissector in its list");
		return -1;
	}
	if (d->abi != TM_DISSECTOR_ABI) {
		set_reason(m, "dissector built for ABI %u, this tm speaks ABI %u",
		    d->abi, TM_DISSECTOR_ABI);
		return -1;
	}
	if (!valid_name(d->name)) {
		set_reason(m, "dissector with a missing or invalid name "
		    "(lower-case letters, digits, '_', '-', '.')");
		return -1;
	}
	if (!d->decode) {
		set_reason(m, "dissector '%s' has no decode function", d->name);
		return -1;
	}
	if (d->n_bindings && !d->bindings) {
		set_reason(m, "dissector '%s' has no binding table", d->name);
		return -1;
	}
	if (d->n_events && !d->events) {
		set_reason(m, "dissector '%s' has no event table", d->name);
		return -1;
	}
	if (d->n_events > 256) {
		set_reason(m, "dissector '%s' declares %zu events (at most 256)",
		    d->name, d->n_events);
		return -1;
	}
	for (size_t i = 0; i < d->n_events; i++) {
		if (!d->events[i] || !*d->events[i]) {
			set_reason(m, "dissector '%s': event %zu has no name",
			    d->name, i);
			return -1;
		}
	}
	if (tm_dissector_by_name(r, d->name) >= 0) {
		set_reason(m, "dissector '%s' is already provided by %s",
		    d->name, r->modules[r->slots[tm_dissector_by_name(r,
		    d->name)].module].file);
		return -1;
	}
	for (size_t k = 0; k < n_batch && batch[k] != d; k++)
		if (batch[k] && batch[k]->name &&
		    strcmp(batch[k]->name, d->name) == 0) {
			set_reason(m, "dissector '%s' appears twice", d->name);
			return -1;
		}
	for (size_t i = 0; i < d->n_bindings; i++) {
		const struct tm_binding *b = &d->bindings[i];
		int cur;

		if (b->table >= TM_TABLE_COUNT) {
			set_reason(m, "dissector '%s' binds to unknown table %u",
			    d->name, b->table);
			return -1;
		}
		cur = tm_registry_lookup(r, b->table, b->value);
		if (cur >= 0 && !override) {
			set_reason(m, "binding %s %u of '%s' is already taken "
			    "by '%s' (%s); load it with --override to replace it",
			    table_names[b->table], b->value, d->name,
			    r->slots[cur].d->name,
			    r->modules[r->slots[cur].module].file);
			return -1;
		}
	}
	return 0;
}

static int add_events(struct tm_registry *r, const struct tm_dissector *d,
    uint16_t *base)
{
	static const char *const suffix[TM_EV_AUTO] = { ".truncated",
		".too_short" };

	if (r->n_events + TM_EV_AUTO + d->n_events > TM_MAX_EVENT_IDS ||
	    r->n_events + TM_EV_AUTO + d->n_events > 65535)
		return -1;
	for (unsigned i = 0; i < TM_EV_AUTO; i++) {
		size_t n = strlen(d->name) + strlen(suffix[i]) + 1;
		char *s = malloc(n);

		if (!s)
			return -1;
		snprintf(s, n, "%s%s", d->name, suffix[i]);
		r->owned_events[r->n_events] = s;
		r->events[r->n_events++] = s;
	}
	*base = (uint16_t)r->n_events;
	for (size_t i = 0; i < d->n_events; i++)
		r->events[r->n_events++] = d->events[i];
	return 0;
}

int tm_registry_add_plugin(struct tm_registry *r, const struct tm_plugin *pl,
    const char *file, void *handle, int override)
{
	struct tm_module *m;
	unsigned midx = r->n_modules;

	m = new_module(r, file, pl ? pl->name : NULL, pl ? pl->version : NULL);
	if (!m)
		return -1;
	m->handle = handle;
	if (!pl) {
		set_reason(m, "its entry point returned NULL");
		return -1;
	}
	if (pl->abi != TM_DISSECTOR_ABI) {
		set_reason(m, "built for plugin ABI %u, this tm speaks ABI %u",
		    pl->abi, TM_DISSECTOR_ABI);
		return -1;
	}
	if (pl->packet_size != sizeof(struct tm_packet) ||
	    pl->cursor_size != sizeof(struct tm_cursor) ||
	    pl->next_size != sizeof(struct tm_next) ||
	    pl->tunnel_size != sizeof(struct tm_tunnel)) {
		set_reason(m, "built against a different <timemachine/"
		    "dissector.h> (ABI %u, but its structures have other "
		    "sizes): rebuild it against this tm's header", pl->abi);
		return -1;
	}
	if (!valid_name(pl->name)) {
		set_reason(m, "plugin has a missing or invalid name");
		return -1;
	}
	for (unsigned i = 0; i < r->n_modules - 1; i++)
		if (r->modules[i].loaded && strcmp(r->modules[i].name,
		    pl->name) == 0) {
			set_reason(m, "a plugin named '%s' is already loaded "
			    "from %s", pl->name, r->modules[i].file);
			return -1;
		}
	if (pl->n_dissectors == 0 || !pl->dissectors) {
		set_reason(m, "plugin provides no dissectors");
		return -1;
	}
	if (r->n_slots + pl->n_dissectors > TM_MAX_DISSECTORS) {
		set_reason(m, "too many dissectors (at most %d)",
		    TM_MAX_DISSECTORS);
		return -1;
	}
	for (size_t i = 0; i < pl->n_dissectors; i++)
		if (check_dissector(r, pl->dissectors[i], m, override,
		    pl->dissectors, pl->n_dissectors))
			return -1;
	/* two dissectors of one plugin must not claim one binding either */
	for (size_t i = 0; i < pl->n_dissectors; i++) {
		const struct tm_dissector *a = pl->dissectors[i];

		for (size_t j = 0; j < a->n_bindings; j++)
			for (size_t k = i; k < pl->n_dissectors; k++) {
				const struct tm_dissector *b = pl->dissectors[k];

				for (size_t l = (k == i ? j + 1 : 0);
				    l < b->n_bindings; l++)
					if (a->bindings[j].table ==
					    b->bindings[l].table &&
					    a->bindings[j].value ==
					    b->bindings[l].value) {
						set_reason(m, "binding %s %u is "
						    "claimed twice in the plugin",
						    table_names[a->bindings[j].table],
						    a->bindings[j].value);
						return -1;
					}
			}
	}
	for (size_t i = 0; i < pl->n_dissectors; i++) {
		const struct tm_dissector *d = pl->dissectors[i];
		struct tm_dissector_slot *s = &r->slots[r->n_slots];

		if (add_events(r, d, &s->event_base)) {
			set_reason(m, "too many events");
			return -1;
		}
		s->d = d;
		s->module = (uint16_t)midx;
		for (size_t j = 0; j < d->n_bindings; j++)
			r->tables[d->bindings[j].table][d->bindings[j].value] =
			    (uint16_t)(r->n_slots + 1);
		r->n_slots++;
	}
	m->loaded = 1;
	return 0;
}

int tm_registry_bind(struct tm_registry *r, const char *dissector,
    const char *table, const char *value, char *err, size_t errlen)
{
	int d = tm_dissector_by_name(r, dissector);
	int t = tm_table_by_name(table);
	unsigned long v;
	char *end;

	if (d < 0) {
		snprintf(err, errlen, "no dissector named '%s' is loaded",
		    dissector);
		return -1;
	}
	if (t < 0) {
		snprintf(err, errlen, "unknown table '%s' (tables: linktype, "
		    "ethertype, ip.proto, udp.port, tcp.port, sctp.port, "
		    "ppp.proto, gre.proto)", table);
		return -1;
	}
	errno = 0;
	v = strtoul(value, &end, 0);
	if (errno || end == value || *end || v > 65535) {
		snprintf(err, errlen, "bad value '%s' for table %s (a number "
		    "0..65535, decimal or 0x hex)", value, table);
		return -1;
	}
	r->tables[t][v] = (uint16_t)(d + 1);
	return 0;
}

const char *tm_event_name(const struct tm_registry *r, unsigned id)
{
	return id < r->n_events ? r->events[id] : "?";
}

int tm_event_id(const struct tm_registry *r, const char *name)
{
	for (unsigned i = 0; i < r->n_events; i++)
		if (strcmp(r->events[i], name) == 0)
			return (int)i;
	return -1;
}
