/*
 * The configuration file, read with libyaml's document loader (every node
 * carries its position, so each message names FILE:LINE:COLUMN). The whole
 * file is checked before anything starts.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "key.h"

#define NS_PER_S 1000000000LL

void tm_config_defaults(struct tm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->conn.max = TM_CONFIG_DEFAULT_MAX;
	cfg->conn.timeout_ns[TM_TC_TCP] = 300 * NS_PER_S;
	cfg->conn.timeout_ns[TM_TC_TCP_CLOSING] = 5 * NS_PER_S;
	cfg->conn.timeout_ns[TM_TC_UDP] = 60 * NS_PER_S;
	cfg->conn.timeout_ns[TM_TC_ICMP] = 60 * NS_PER_S;
	cfg->conn.timeout_ns[TM_TC_OTHER] = 60 * NS_PER_S;
	cfg->ctx_mask = TM_CTX_DEFAULT;
	cfg->ndpi_enabled = 1;
	cfg->ndpi_max_packets = TM_CONFIG_DEFAULT_NDPI_PACKETS;
	cfg->ndpi_max_flows = TM_CONFIG_DEFAULT_NDPI_FLOWS;
	cfg->ndpi_thread = 1;
	cfg->storage.segment_size = TM_CONFIG_DEFAULT_SEGMENT_SIZE;
	cfg->storage.segment_age_ns = TM_CONFIG_DEFAULT_SEGMENT_AGE;
	cfg->storage.memory = TM_CONFIG_DEFAULT_MEMORY;
	cfg->storage.dir_interval = TM_CONFIG_DEFAULT_DIR_INTERVAL;
	cfg->storage.flows_disk = TM_CONFIG_DEFAULT_FLOWS_DISK;
	cfg->storage.flows_segment_size = TM_CONFIG_DEFAULT_FLOWS_SEGMENT;
	cfg->capture.snaplen = TM_CONFIG_DEFAULT_SNAPLEN;
	cfg->capture.buffer = TM_CONFIG_DEFAULT_BUFFER;
	cfg->capture.promiscuous = 1;
	cfg->capture.timeout_ns = TM_CONFIG_DEFAULT_TIMEOUT;
	cfg->control.mode = TM_CONFIG_DEFAULT_MODE;
	cfg->keep_control = 1;
	cfg->cid_seed = 0;
}

unsigned tm_config_ndpi_threads(const struct tm_config *cfg)
{
	long cpus;

	if (!cfg->ndpi_thread)
		return 0;
	if (cfg->ndpi_threads)
		return cfg->ndpi_threads;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		return 1;
	return cpus > (long)TM_CONFIG_AUTO_NDPI_THREADS ?
	    TM_CONFIG_AUTO_NDPI_THREADS : (unsigned)cpus;
}

void tm_config_free(struct tm_config *cfg)
{
	free(cfg->file);
	tm_classes_free(&cfg->classes);
	cfg->file = NULL;
	free(cfg->capture.interface);
	free(cfg->capture.filter);
	free(cfg->capture.user);
	free(cfg->control.socket);
	free(cfg->control.group);
	free(cfg->control.tcp);
	free(cfg->control.token_file);
	memset(&cfg->capture, 0, sizeof(cfg->capture));
	memset(&cfg->control, 0, sizeof(cfg->control));
	free(cfg->ipfix.collector);
	memset(&cfg->ipfix, 0, sizeof(cfg->ipfix));
}

/* ---- value parsers -------------------------------------------------------- */

int tm_parse_size(const char *s, int allow_none, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (allow_none && strcasecmp(s, "none") == 0) {
		*out = TM_CUTOFF_NONE;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': mul = 1024ull; p++; break;
	case 'm': case 'M': mul = 1024ull * 1024; p++; break;
	case 'g': case 'G': mul = 1024ull * 1024 * 1024; p++; break;
	case 't': case 'T': mul = 1024ull * 1024 * 1024 * 1024; p++; break;
	default: return -1;
	}
	if (*p != '\0')
		return -1;
	if (v && mul > UINT64_MAX / v)
		return -1;
	v *= mul;
	if (v == TM_CUTOFF_NONE)
		return -1;
	*out = v;
	return 0;
}

int tm_parse_duration(const char *s, int64_t *ns)
{
	int64_t v = 0, mul = NS_PER_S;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (strcmp(p, "ms") == 0)
		mul = 1000000;
	else if (strcmp(p, "s") == 0 || *p == '\0')
		mul = NS_PER_S;
	else if (strcmp(p, "m") == 0)
		mul = 60 * NS_PER_S;
	else if (strcmp(p, "h") == 0)
		mul = 3600 * NS_PER_S;
	else if (strcmp(p, "d") == 0)
		mul = 86400 * NS_PER_S;
	else
		return -1;
	if (v > INT64_MAX / mul)
		return -1;
	*ns = v * mul;
	return 0;
}

int tm_parse_context(const char *s, unsigned *mask)
{
	if (strcmp(s, "both") == 0)
		*mask = TM_CTX_VLAN | TM_CTX_TUNNEL;
	else if (strcmp(s, "vlan") == 0)
		*mask = TM_CTX_VLAN;
	else if (strcmp(s, "tunnel") == 0)
		*mask = TM_CTX_TUNNEL;
	else if (strcmp(s, "none") == 0)
		*mask = 0;
	else
		return -1;
	return 0;
}

#include "config_int.h"

/* connections.timeouts */
static const char *const timeout_keys[] = { "tcp", "tcp_closing", "udp",
	"icmp", "other" };

static int timeout_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	int64_t ns;

	(void)arg;
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	if (tm_parse_duration(cfg_scalar(v), &ns) || ns <= 0)
		return cfg_failf(w, v, "timeouts.%s: '%s' is not a duration (a "
		    "positive number with ms, s, m, h or d, e.g. 30s or 5m)",
		    cfg_scalar(k), cfg_scalar(v));
	/* enum tm_tclass follows timeout_keys[] */
	w->cfg->conn.timeout_ns[idx] = ns;
	return 0;
}

static const char *const conn_keys[] = { "max", "context", "timeouts" };

static int conn_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	uint64_t u;

	(void)arg;
	if (idx == 2)
		return cfg_each_pair(w, v, "connections.timeouts", timeout_keys,
		    TM_ARRAY_LEN(timeout_keys), timeout_pair, NULL);
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	switch (idx) {
	case 0:
		if (cfg_parse_uint(cfg_scalar(v), 1, 100000000, &u))
			return cfg_failf(w, v, "connections.max: '%s' is not a "
			    "number from 1 to 100000000", cfg_scalar(v));
		w->cfg->conn.max = (uint32_t)u;
		return 0;
	default:
		if (tm_parse_context(cfg_scalar(v), &w->cfg->ctx_mask))
			return cfg_failf(w, v, "connections.context: '%s' is not "
			    "one of vlan, tunnel, both, none", cfg_scalar(v));
		return 0;
	}
}

static const char *const ndpi_keys[] = { "enabled", "max_packets",
	"max_flows", "thread", "threads" };

static int ndpi_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	uint64_t u;

	(void)arg;
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	switch (idx) {
	case 0:
		if (cfg_parse_bool(cfg_scalar(v), &w->cfg->ndpi_enabled))
			return cfg_failf(w, v, "ndpi.enabled: '%s' is not true or "
			    "false", cfg_scalar(v));
		return 0;
	case 1:
		if (cfg_parse_uint(cfg_scalar(v), 1, 255, &u))
			return cfg_failf(w, v, "ndpi.max_packets: '%s' is not a "
			    "number from 1 to 255", cfg_scalar(v));
		w->cfg->ndpi_max_packets = (unsigned)u;
		return 0;
	case 3:
		if (cfg_parse_bool(cfg_scalar(v), &w->cfg->ndpi_thread))
			return cfg_failf(w, v, "ndpi.thread: '%s' is not true or "
			    "false", cfg_scalar(v));
		return 0;
	case 4:
		if (strcmp(cfg_scalar(v), "auto") == 0) {
			w->cfg->ndpi_threads = 0;
			return 0;
		}
		if (cfg_parse_uint(cfg_scalar(v), 1, TM_CONFIG_MAX_NDPI_THREADS,
		    &u))
			return cfg_failf(w, v, "ndpi.threads: '%s' is not auto "
			    "or a number from 1 to %u", cfg_scalar(v),
			    TM_CONFIG_MAX_NDPI_THREADS);
		w->cfg->ndpi_threads = (unsigned)u;
		return 0;
	default:
		if (cfg_parse_uint(cfg_scalar(v), 1, 10000000, &u))
			return cfg_failf(w, v, "ndpi.max_flows: '%s' is not a "
			    "number from 1 to 10000000", cfg_scalar(v));
		w->cfg->ndpi_max_flows = (unsigned)u;
		return 0;
	}
}

/* classes: a list of mappings */
static const char *const class_keys[] = { "name", "filter", "precedence",
	"cutoff", "snaplen", "memory", "disk" };

struct class_walk {
	struct tm_class *c;
	const yaml_node_t *name_node;
};

static int valid_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.')
			return 0;
	return 1;
}

static int class_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct class_walk *cw = arg;
	struct tm_class *c = cw->c;
	const char *s;
	int64_t i;
	uint64_t u;

	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	s = cfg_scalar(v);
	switch (idx) {
	case 0:
		if (!valid_name(s))
			return cfg_failf(w, v, "class name '%s': use letters, "
			    "digits, '_', '-' and '.' (at most 64)", s);
		c->name = strdup(s);
		cw->name_node = v;
		break;
	case 1:
		c->filter = strdup(s);
		c->filter_line = (int)v->start_mark.line + 1;
		c->filter_column = (int)v->start_mark.column + 1;
		/* where filter column N lands in the file: exact for a
		 * one-line plain or quoted cfg_scalar without escapes */
		c->filter_exact = v->start_mark.line == v->end_mark.line &&
		    (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
		    ((v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
		    v->end_mark.column - v->start_mark.column ==
		    v->data.scalar.length + 2));
		if (c->filter_exact && v->data.scalar.style !=
		    YAML_PLAIN_SCALAR_STYLE)
			c->filter_column++;
		if (!c->filter_exact) {
			/* block scalars start on the next line */
			if (v->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
			    v->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
				c->filter_line++;
		}
		break;
	case 2:
		if (cfg_parse_int(s, -1000000000, 1000000000, &i))
			return cfg_failf(w, v, "precedence: '%s' is not a whole "
			    "number", s);
		c->precedence = i;
		break;
	case 3:
		if (tm_parse_size(s, 1, &u))
			return cfg_failf(w, v, "cutoff: '%s' is not a size (bytes, "
			    "or a number with k, m, g: 20k = 20480) or none", s);
		c->cutoff = u;
		break;
	case 4:
		if (tm_parse_size(s, 0, &u) || u > 262144)
			return cfg_failf(w, v, "snaplen: '%s' is not a size from 0 "
			    "to 256k", s);
		c->snaplen = (uint32_t)u;
		break;
	case 5:
	case 6:
		if (tm_parse_size(s, 0, &u))
			return cfg_failf(w, v, "%s: '%s' is not a size (bytes, or "
			    "a number with k, m, g, t: 10g)", class_keys[idx], s);
		if (idx == 5)
			c->memory = u;
		else
			c->disk = u;
		break;
	}
	return 0;
}

static int load_classes(struct cfg_walk *w, yaml_node_t *seq)
{
	struct tm_classes *cs = &w->cfg->classes;
	size_t n;

	if (seq->type != YAML_SEQUENCE_NODE)
		return cfg_failf(w, seq, "classes: expected a list of classes, "
		    "found %s", cfg_kind(seq));
	n = (size_t)(seq->data.sequence.items.top -
	    seq->data.sequence.items.start);
	if (n > TM_MAX_CLASSES - 1)
		return cfg_failf(w, seq, "classes: at most %d", TM_MAX_CLASSES - 1);
	tm_classes_free(cs);
	cs->v = calloc(n ? n : 1, sizeof(*cs->v));
	if (!cs->v)
		return cfg_failf(w, seq, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = cfg_node(w, seq->data.sequence.items.start[i]);
		struct class_walk cw = { &cs->v[i], NULL };
		struct tm_class *c = &cs->v[i];

		cs->n = i + 1;
		c->cutoff = TM_DEFAULT_CUTOFF;
		c->line = (int)item->start_mark.line + 1;
		c->column = (int)item->start_mark.column + 1;
		if (cfg_each_pair(w, item, "a class", class_keys,
		    TM_ARRAY_LEN(class_keys), class_pair, &cw))
			return -1;
		if (!c->name)
			return cfg_failf(w, item, "class without a name");
		for (size_t j = 0; j < i; j++)
			if (strcmp(cs->v[j].name, c->name) == 0)
				return cfg_failf(w, cw.name_node, "duplicate class "
				    "'%s' (first defined at line %d)", c->name,
				    cs->v[j].line);
		if (strcmp(c->name, TM_DEFAULT_CLASS) == 0) {
			if (c->filter)
				return cfg_failf(w, item, "the class '%s' takes what "
				    "no other class matches: it has no filter",
				    TM_DEFAULT_CLASS);
		} else if (!c->filter) {
			return cfg_failf(w, item, "class '%s' has no filter "
			    "(the class '%s' takes what no class matches)",
			    c->name, TM_DEFAULT_CLASS);
		}
	}
	return 0;
}

/* storage: and storage.flows: (tm capture) */
static const char *const flows_keys[] = { "disk", "segment_size" };

static int flows_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct tm_storage_conf *s = &w->cfg->storage;
	uint64_t u;

	(void)arg;
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	if (idx == 0) {
		if (tm_parse_size(cfg_scalar(v), 1, &u))
			return cfg_failf(w, v, "storage.flows.disk: '%s' is not a "
			    "size (e.g. 1g) or none", cfg_scalar(v));
		s->flows_disk = u == TM_CUTOFF_NONE ? 0 : u;
		return 0;
	}
	if (tm_parse_size(cfg_scalar(v), 0, &u) || u < ((uint64_t)64 << 10) ||
	    u > ((uint64_t)4 << 30))
		return cfg_failf(w, v, "storage.flows.segment_size: '%s' is not a "
		    "size from 64k to 4g", cfg_scalar(v));
	s->flows_segment_size = u;
	return 0;
}

static const char *const storage_keys[] = { "segment_size", "segment_age",
	"disk", "memory", "directory_interval", "flows" };

static int storage_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct tm_storage_conf *s = &w->cfg->storage;
	uint64_t u;
	int64_t ns;

	(void)arg;
	if (idx == 5)
		return cfg_each_pair(w, v, "storage.flows", flows_keys,
		    TM_ARRAY_LEN(flows_keys), flows_pair, NULL);
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	switch (idx) {
	case 0:
		if (tm_parse_size(cfg_scalar(v), 0, &u) ||
		    u < ((uint64_t)64 << 10) || u > ((uint64_t)4 << 30))
			return cfg_failf(w, v, "storage.segment_size: '%s' is not "
			    "a size from 64k to 4g", cfg_scalar(v));
		s->segment_size = u;
		return 0;
	case 1:
		if (tm_parse_duration(cfg_scalar(v), &ns) || ns <= 0)
			return cfg_failf(w, v, "storage.segment_age: '%s' is not a "
			    "duration (a positive number with ms, s, m, h or "
			    "d, e.g. 15m)", cfg_scalar(v));
		s->segment_age_ns = ns;
		return 0;
	case 2:
		if (tm_parse_size(cfg_scalar(v), 1, &u))
			return cfg_failf(w, v, "storage.disk: '%s' is not a size "
			    "(e.g. 500g) or none", cfg_scalar(v));
		s->disk = u == TM_CUTOFF_NONE ? 0 : u;
		return 0;
	case 3:
		if (tm_parse_size(cfg_scalar(v), 0, &u) ||
		    u < ((uint64_t)2 << 20))
			return cfg_failf(w, v, "storage.memory: '%s' is not a size "
			    "of 2m or more", cfg_scalar(v));
		s->memory = u;
		return 0;
	default:
		if (cfg_parse_uint(cfg_scalar(v), 1, 1000000, &u))
			return cfg_failf(w, v, "storage.directory_interval: '%s' "
			    "is not a number from 1 to 1000000", cfg_scalar(v));
		s->dir_interval = (uint32_t)u;
		return 0;
	}
}

static const char *const top_keys[] = { "connections", "ndpi", "classes",
	"keep_control_packets", "community_id_seed", "storage", "capture",
	"control", "export" };

static int top_pair(struct cfg_walk *w, int idx, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	uint64_t u;

	(void)arg;
	switch (idx) {
	case 0:
		return cfg_each_pair(w, v, "connections", conn_keys,
		    TM_ARRAY_LEN(conn_keys), conn_pair, NULL);
	case 1:
		return cfg_each_pair(w, v, "ndpi", ndpi_keys,
		    TM_ARRAY_LEN(ndpi_keys), ndpi_pair, NULL);
	case 2:
		return load_classes(w, v);
	case 3:
		if (cfg_want_scalar(w, v, cfg_scalar(k)))
			return -1;
		if (cfg_parse_bool(cfg_scalar(v), &w->cfg->keep_control))
			return cfg_failf(w, v, "keep_control_packets: '%s' is not "
			    "true or false", cfg_scalar(v));
		return 0;
	case 4:
		if (cfg_want_scalar(w, v, cfg_scalar(k)))
			return -1;
		if (cfg_parse_uint(cfg_scalar(v), 0, 65535, &u))
			return cfg_failf(w, v, "community_id_seed: '%s' is not a "
			    "number from 0 to 65535", cfg_scalar(v));
		w->cfg->cid_seed = (uint16_t)u;
		return 0;
	case 5:
		return cfg_each_pair(w, v, "storage", storage_keys,
		    TM_ARRAY_LEN(storage_keys), storage_pair, NULL);
	case 6:
		return cfg_capture_section(w, v);
	case 7:
		return cfg_control_section(w, v);
	default:
		return cfg_export_section(w, v);
	}
}

int tm_config_load(struct tm_config *cfg, const char *file, char *err,
    size_t errlen)
{
	struct cfg_file cf;
	yaml_node_t *root;
	struct cfg_walk w = { &cf.doc, file, err, errlen, cfg };
	int rc = -1;

	if (cfg_file_open(&cf, file, err, errlen))
		return -1;
	root = yaml_document_get_root_node(&cf.doc);
	if (!root) {
		rc = 0;		/* an empty file: the defaults */
	} else if (root->type == YAML_SCALAR_NODE &&
	    root->data.scalar.length == 0) {
		rc = 0;
	} else {
		rc = cfg_each_pair(&w, root, "the configuration", top_keys,
		    TM_ARRAY_LEN(top_keys), top_pair, NULL);
	}
	rc = cfg_file_close(&cf, rc, file, err, errlen);
	if (rc == 0) {
		free(cfg->file);
		cfg->file = strdup(file);
	}
	return rc;
}

int tm_config_compile(struct tm_config *cfg, tm_expr_app_check_fn app_check,
    void *app_check_arg, char *err, size_t errlen)
{
	struct tm_classes *cs = &cfg->classes;
	struct tm_expr_opts eo;
	const char *file = cfg->file ? cfg->file : "(built-in)";

	memset(&eo, 0, sizeof(eo));
	eo.app_check = app_check;
	eo.app_check_arg = app_check_arg;
	eo.community_id_seed = cfg->cid_seed;
	for (size_t i = 0; i < cs->n; i++) {
		struct tm_class *c = &cs->v[i];
		struct tm_expr_error ee = { 0, "" };

		if (!c->filter || c->expr)
			continue;
		c->expr = tm_expr_compile(c->filter, &eo, &ee);
		if (!c->expr) {
			int col = ee.column > 0 ? ee.column : 1;

			/* the message names the filter's own column */
			snprintf(err, errlen, "%s:%d:%d: class '%s': bad filter: "
			    "%s", file, c->filter_line, c->filter_exact ?
			    c->filter_column + col - 1 : c->filter_column,
			    c->name, ee.msg);
			return -1;
		}
		if (tm_expr_uses_class(c->expr)) {
			snprintf(err, errlen, "%s:%d:%d: class '%s': a class "
			    "filter cannot test 'class'", file, c->filter_line,
			    c->filter_column, c->name);
			return -1;
		}
		if (tm_expr_uses_app(c->expr) && !cfg->ndpi_enabled &&
		    cfg->file) {
			snprintf(err, errlen, "%s:%d:%d: class '%s': the filter "
			    "tests 'app' but ndpi.enabled is false", file,
			    c->filter_line, c->filter_column, c->name);
			return -1;
		}
	}
	if (tm_classes_finalize(cs)) {
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	return 0;
}

int tm_config_set_cutoff(struct tm_config *cfg, const char *arg, char *err,
    size_t errlen)
{
	uint64_t v;

	if (tm_parse_size(arg, 1, &v)) {
		snprintf(err, errlen, "--cutoff: '%s' is not a size (bytes, or "
		    "a number with k, m, g: 20k = 20480) or none", arg);
		return -1;
	}
	if (!cfg->classes.v && tm_classes_finalize(&cfg->classes)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->classes.n; i++)
		cfg->classes.v[i].cutoff = v;
	return 0;
}
