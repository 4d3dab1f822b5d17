/*
 * Internals of the configuration reader shared by its files: the walk
 * over the YAML document and its value parsers. Every error is
 * "FILE:LINE:COLUMN: message" (cfg_failf).
 */
#ifndef TM_CONFIG_INT_H
#define TM_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "config.h"

struct cfg_walk {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
	struct tm_config *cfg;
};

typedef int (*cfg_pair_fn)(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg);

/* "true"/"yes"/"on", "false"/"no"/"off". 0, or -1. */
int cfg_parse_bool(const char *s, int *b);
/* Decimal within [lo, hi]. 0, or -1. */
int cfg_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *v);
int cfg_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *v);

/* Writes "FILE:LINE:COLUMN: " (of n) and the message into w->err; -1. */
int cfg_failf(struct cfg_walk *w, const yaml_node_t *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
yaml_node_t *cfg_node(struct cfg_walk *w, int id);
const char *cfg_scalar(const yaml_node_t *n);
const char *cfg_kind(const yaml_node_t *n);
/* -1 (with the error) unless v is a scalar. */
int cfg_want_scalar(struct cfg_walk *w, const yaml_node_t *v, const char *key);
/* Walks a mapping whose keys must come from names[]: calls fn for each
 * pair with the index of its key. Unknown and repeated keys are errors. */
int cfg_each_pair(struct cfg_walk *w, yaml_node_t *map, const char *what,
    const char *const *names, size_t n_names, cfg_pair_fn fn, void *arg);

/* No control characters (NUL ends it). */
int cfg_printable(const char *s);
/* *dst = a copy of scalar v (the old one freed). 0, or -1 (err). */
int cfg_set_str(struct cfg_walk *w, yaml_node_t *v, char **dst);
/* A YAML file being read: its first document loaded. */
struct cfg_file {
	FILE *f;
	yaml_parser_t parser;
	yaml_document_t doc;
};
/* Opens file and loads its first document. 0, or -1 with the message
 * ("FILE: cannot open: ...", "FILE:LINE:COLUMN: ..."): nothing to close. */
int cfg_file_open(struct cfg_file *cf, const char *file, char *err,
    size_t errlen);
/* After the walk: if it succeeded (rc 0), a second document is refused
 * (it would be ignored silently: "FILE:LINE:COLUMN: a second YAML
 * document"); frees everything. Returns rc, or -1. */
int cfg_file_close(struct cfg_file *cf, int rc, const char *file, char *err,
    size_t errlen);

/* The service's sections (config_service.c). */
int cfg_capture_section(struct cfg_walk *w, yaml_node_t *v);
int cfg_control_section(struct cfg_walk *w, yaml_node_t *v);
/* export: (config_export.c) */
int cfg_export_section(struct cfg_walk *w, yaml_node_t *v);

#endif
