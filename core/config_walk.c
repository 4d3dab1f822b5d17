/* The walk over a configuration document (config_int.h). */
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cfg_parse_bool(const char *s, int *b)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = 0;
			return 0;
		}
	}
	return -1;
}

int cfg_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

int cfg_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *v)
{
	char *end;
	long long x;

	if (!isdigit((unsigned char)*s) && !((*s == '-' || *s == '+') &&
	    isdigit((unsigned char)s[1])))
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

/* ---- the document walk ------------------------------------------------------ */


int cfg_failf(struct cfg_walk *w, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	k = snprintf(w->err, w->errlen, "%s:%zu:%zu: ", w->file,
	    n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
	if (k < 0 || (size_t)k >= w->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(w->err + k, w->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

yaml_node_t *cfg_node(struct cfg_walk *w, int id)
{
	return yaml_document_get_node(w->doc, id);
}

const char *cfg_scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

const char *cfg_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

int cfg_want_scalar(struct cfg_walk *w, const yaml_node_t *v, const char *key)
{
	if (v->type != YAML_SCALAR_NODE)
		return cfg_failf(w, v, "%s: expected a value, found %s", key,
		    cfg_kind(v));
	return 0;
}

int cfg_each_pair(struct cfg_walk *w, yaml_node_t *map, const char *what,
    const char *const *names, size_t n_names, cfg_pair_fn fn, void *arg)
{
	yaml_node_t *seen[32] = { 0 };

	if (map->type != YAML_MAPPING_NODE)
		return cfg_failf(w, map, "%s: expected a mapping, found %s", what,
		    cfg_kind(map));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = cfg_node(w, p->key), *v = cfg_node(w, p->value);
		size_t i;

		if (!k || !v)
			return cfg_failf(w, map, "%s: broken mapping", what);
		if (k->type != YAML_SCALAR_NODE)
			return cfg_failf(w, k, "%s: keys must be names", what);
		for (i = 0; i < n_names; i++)
			if (strcmp(cfg_scalar(k), names[i]) == 0)
				break;
		if (i == n_names) {
			char list[512];
			size_t n = 0;

			list[0] = '\0';
			for (size_t j = 0; j < n_names && n < sizeof(list) - 64;
			    j++)
				n += (size_t)snprintf(list + n, sizeof(list) - n,
				    "%s%s", j ? ", " : "", names[j]);
			return cfg_failf(w, k, "unknown key '%s' in %s (known: %s)",
			    cfg_scalar(k), what, list);
		}
		if (seen[i])
			return cfg_failf(w, k, "'%s' given twice in %s (first at "
			    "line %zu)", cfg_scalar(k), what,
			    seen[i]->start_mark.line + 1);
		seen[i] = k;
		if (fn(w, (int)i, k, v, arg))
			return -1;
	}
	return 0;
}


int cfg_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int cfg_set_str(struct cfg_walk *w, yaml_node_t *v, char **dst)
{
	char *d = strdup(cfg_scalar(v));

	if (!d)
		return cfg_failf(w, v, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

static int refuse_second_document(yaml_parser_t *parser, const char *file,
    char *err, size_t errlen)
{
	yaml_document_t doc2;
	yaml_node_t *r2;
	int rc = 0;

	if (!yaml_parser_load(parser, &doc2)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", file,
		    parser->problem_mark.line + 1,
		    parser->problem_mark.column + 1,
		    parser->problem ? parser->problem : "not YAML");
		return -1;
	}
	r2 = yaml_document_get_root_node(&doc2);
	if (r2) {
		snprintf(err, errlen, "%s:%zu:%zu: a second YAML document: one "
		    "is expected", file, r2->start_mark.line + 1,
		    r2->start_mark.column + 1);
		rc = -1;
	}
	yaml_document_delete(&doc2);
	return rc;
}

int cfg_file_open(struct cfg_file *cf, const char *file, char *err,
    size_t errlen)
{
	yaml_parser_t *p = &cf->parser;

	cf->f = fopen(file, "rb");
	if (!cf->f) {
		snprintf(err, errlen, "%s: cannot open: %s", file,
		    strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(p)) {
		fclose(cf->f);
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	yaml_parser_set_input_file(p, cf->f);
	if (!yaml_parser_load(p, &cf->doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", file,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    p->problem ? p->problem : "not YAML",
		    p->context ? " " : "", p->context ? p->context : "");
		yaml_parser_delete(p);
		fclose(cf->f);
		return -1;
	}
	return 0;
}

int cfg_file_close(struct cfg_file *cf, int rc, const char *file, char *err,
    size_t errlen)
{
	if (rc == 0)
		rc = refuse_second_document(&cf->parser, file, err, errlen);
	yaml_document_delete(&cf->doc);
	yaml_parser_delete(&cf->parser);
	fclose(cf->f);
	return rc;
}
