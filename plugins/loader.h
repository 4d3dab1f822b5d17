/* Loading dissector modules with libltdl. */
#ifndef TM_LOADER_H
#define TM_LOADER_H

#include <stddef.h>

#include "../core/registry.h"

struct tm_load_opts {
	const char *const *dirs;	/* --plugin-dir, in order */
	size_t n_dirs;
	const char *const *overrides;	/* module names allowed to override */
	size_t n_overrides;
	int no_builtin;			/* skip the install's module dir */
	int quiet;			/* do not print refusals on stderr */
};

/* Loads every module of the install's module directory, then of each
 * --plugin-dir, then of each TM_PLUGIN_PATH entry. A module that is refused
 * is recorded in r->modules with the reason and reported on stderr; it never
 * stops the others. Returns 0, or -1 when libltdl itself fails. */
int tm_load_plugins(struct tm_registry *r, const struct tm_load_opts *o);
void tm_unload_plugins(struct tm_registry *r);

/* The install's module directory (relative to the running binary). */
const char *tm_builtin_module_dir(void);

#endif
