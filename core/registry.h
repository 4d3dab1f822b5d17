/* The dissector registry: dispatch tables, dissectors, modules and events. */
#ifndef TM_REGISTRY_H
#define TM_REGISTRY_H

#include <stdint.h>
#include <stdio.h>
#include <timemachine/dissector.h>

#define TM_MAX_DISSECTORS	1024
#define TM_MAX_MODULES		256
#define TM_MAX_EVENT_IDS	8192

/* Events the decode loop itself records (global ids 0..). */
enum tm_core_event {
	TM_EV_DEPTH_EXCEEDED = 0,	/* decode.depth_exceeded */
	TM_EV_TOO_MANY_LAYERS,		/* decode.too_many_layers */
	TM_EV_BAD_VERDICT,		/* decode.bad_verdict */
	TM_EV_CORE_COUNT
};

/* Each dissector owns two automatic events just below its event base:
 * base-2: "<name>.truncated" (the capture ran out inside its header),
 * base-1: "<name>.too_short" (the frame on the wire is shorter). */
#define TM_EV_AUTO 2

struct tm_module {
	char *file;		/* path it was loaded from */
	char *name;		/* plugin name (or file stem when refused) */
	char *version;
	int loaded;		/* 1: in use; 0: refused */
	char *reason;		/* why it was refused */
	void *handle;		/* lt_dlhandle */
};

struct tm_dissector_slot {
	const struct tm_dissector *d;
	uint16_t module;	/* index into modules */
	uint16_t event_base;	/* global id of d->events[0] */
};

struct tm_registry {
	/* tables[t][value]: dissector index + 1, 0 = nothing bound */
	uint16_t *tables[TM_TABLE_COUNT];
	struct tm_dissector_slot slots[TM_MAX_DISSECTORS];
	unsigned n_slots;
	struct tm_module modules[TM_MAX_MODULES];
	unsigned n_modules;
	const char *events[TM_MAX_EVENT_IDS];	/* global id -> name */
	char *owned_events[TM_MAX_EVENT_IDS];	/* names we allocated */
	unsigned n_events;
	unsigned max_depth;
};

int tm_registry_init(struct tm_registry *r);
void tm_registry_free(struct tm_registry *r);

/* Adds a module's dissectors and bindings. On refusal the module is recorded
 * with the reason and -1 is returned (nothing of it is bound). With
 * override != 0 its bindings replace existing ones. */
int tm_registry_add_plugin(struct tm_registry *r, const struct tm_plugin *pl,
    const char *file, void *handle, int override);
/* Records a module that could not even be asked for its dissectors. */
void tm_registry_refuse(struct tm_registry *r, const char *file,
    const char *reason);

/* Binds an already loaded dissector (by name) to table:value; for
 * command-line and configuration bindings. Returns 0, or -1 with a message. */
int tm_registry_bind(struct tm_registry *r, const char *dissector,
    const char *table, const char *value, char *err, size_t errlen);

int tm_table_by_name(const char *name);
const char *tm_table_name(unsigned table);

/* Dissector index bound to (table, value), or -1. */
static inline int tm_registry_lookup(const struct tm_registry *r,
    unsigned table, uint16_t value)
{
	return (int)r->tables[table][value] - 1;
}

const char *tm_event_name(const struct tm_registry *r, unsigned id);
int tm_event_id(const struct tm_registry *r, const char *name);
const char *tm_dissector_name(const struct tm_registry *r, unsigned idx);
int tm_dissector_by_name(const struct tm_registry *r, const char *name);

#endif
