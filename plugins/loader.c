/*
 * The whole libltdl lifecycle in one place: init once, add the search
 * directories, open every module found, look up its entry point, hand it to
 * the registry, and close it again on every failure path. lt_dlerror() is
 * copied at once: the next libltdl call overwrites it.
 */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TM_REL_MODULE_DIR
#define TM_REL_MODULE_DIR "../lib/timemachine/dissectors"
#endif

static int ltdl_ready;

const char *tm_builtin_module_dir(void)
{
	static char dir[PATH_MAX + 80];
	char exe[PATH_MAX], rel[PATH_MAX + 64];
	ssize_t n;
	char *slash;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if ((size_t)snprintf(rel, sizeof(rel), "%s/%s", exe,
	    TM_REL_MODULE_DIR) >= sizeof(rel))
		return NULL;
	if (!realpath(rel, dir)) {
		/* not there: say where it was looked for */
		snprintf(dir, sizeof(dir), "%s", rel);
	}
	return dir;
}

static int is_override(const struct tm_load_opts *o, const char *stem,
    const char *name)
{
	for (size_t i = 0; i < o->n_overrides; i++)
		if (strcmp(o->overrides[i], stem) == 0 ||
		    (name && strcmp(o->overrides[i], name) == 0))
			return 1;
	return 0;
}

static void report(const struct tm_load_opts *o, const char *file,
    const char *why)
{
	if (!o->quiet)
		fprintf(stderr, "tm: plugin %s refused: %s\n", file, why);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_one(struct tm_registry *r, const struct tm_load_opts *o,
    const char *dir, const char *fname)
{
	char path[PATH_MAX], stem[256], why[512];
	lt_dladvise advise;
	lt_dlhandle h = NULL;
	tm_plugin_entry_fn entry;
	const struct tm_plugin *pl;
	size_t len = strlen(fname);

	if (len - 3 >= sizeof(stem))
		return;
	memcpy(stem, fname, len - 3);		/* strip ".so" */
	stem[len - 3] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, stem) >=
	    sizeof(path))
		return;
	if (lt_dladvise_init(&advise) == 0) {
		lt_dladvise_ext(&advise);
		lt_dladvise_local(&advise);
		h = lt_dlopenadvise(path, advise);
		lt_dladvise_destroy(&advise);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	if (!h) {
		const char *e = lt_dlerror();
		void *probe;

		/* libltdl reports "file not found" for any failure of the
		 * underlying dlopen; ask the dynamic loader itself why */
		snprintf(why, sizeof(why), "cannot be opened: %s",
		    e ? e : "unknown libltdl error");
		probe = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (probe)
			dlclose(probe);
		else if ((e = dlerror()) != NULL)
			snprintf(why, sizeof(why), "cannot be opened: %s", e);
		tm_registry_refuse(r, path, why);
		report(o, path, why);
		return;
	}
	entry = (tm_plugin_entry_fn)(uintptr_t)lt_dlsym(h, "tm_plugin_entry");
	if (!entry) {
		snprintf(why, sizeof(why), "no entry symbol tm_plugin_entry "
		    "(or %s_LTX_tm_plugin_entry): is it a timemachine "
		    "plugin? (declare it with TM_PLUGIN())", stem);
		tm_registry_refuse(r, path, why);
		report(o, path, why);
		lt_dlclose(h);
		return;
	}
	pl = entry();
	if (tm_registry_add_plugin(r, pl, path, h,
	    is_override(o, stem, pl ? pl->name : NULL))) {
		struct tm_module *m = &r->modules[r->n_modules - 1];

		report(o, path, m->reason ? m->reason : "refused");
		m->handle = NULL;
		lt_dlclose(h);
	}
}

static void load_dir(struct tm_registry *r, const struct tm_load_opts *o,
    const char *dir, int must_exist)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		if (must_exist && !o->quiet)
			fprintf(stderr, "tm: plugin directory %s: cannot be "
			    "read\n", dir);
		return;
	}
	lt_dladdsearchdir(dir);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 32) *
			    sizeof(*names));

			if (!nn)
				break;
			names = nn;
			cap = cap ? cap * 2 : 32;
		}
		if ((names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	closedir(d);
	/* a stable order, so the same set of modules always loads alike */
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		load_one(r, o, dir, names[i]);
		free(names[i]);
	}
	free(names);
}

int tm_load_plugins(struct tm_registry *r, const struct tm_load_opts *o)
{
	const char *env = getenv("TM_PLUGIN_PATH");

	if (!ltdl_ready) {
		if (lt_dlinit() != 0) {
			fprintf(stderr, "tm: libltdl: %s\n", lt_dlerror());
			return -1;
		}
		ltdl_ready = 1;
	}
	if (!o->no_builtin) {
		const char *dir = tm_builtin_module_dir();

		if (dir)
			load_dir(r, o, dir, 1);
	}
	for (size_t i = 0; i < o->n_dirs; i++)
		load_dir(r, o, o->dirs[i], 1);
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;

		for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok;
		    tok = strtok_r(NULL, ":", &save))
			load_dir(r, o, tok, 1);
		free(copy);
	}
	return 0;
}

void tm_unload_plugins(struct tm_registry *r)
{
	for (unsigned i = 0; i < r->n_modules; i++)
		if (r->modules[i].handle) {
			lt_dlclose((lt_dlhandle)r->modules[i].handle);
			r->modules[i].handle = NULL;
		}
	if (ltdl_ready) {
		lt_dlexit();
		ltdl_ready = 0;
	}
}
