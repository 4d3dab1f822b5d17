/*
 * The service's sections of the configuration file (docs/configuration.md):
 *
 *   capture:   interface, snaplen, buffer, filter, promiscuous, user,
 *              timeout, fanout: {group, mode, defrag} (tm capture -i)
 *   control:   socket, mode, group, tcp, token_file (the control socket
 *              of tm capture and tm serve)
 */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const capture_keys[] = { "interface", "snaplen",
	"buffer", "filter", "promiscuous", "user", "timeout", "fanout" };

static const char *const fanout_keys[] = { "group", "mode", "defrag" };
static const char *const fanout_modes[] = { "hash", "cpu", "queue", "lb" };

static int fanout_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct tm_capture_conf *c = &w->cfg->capture;
	const char *s;
	uint64_t u;

	(void)arg;
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	s = cfg_scalar(v);
	switch (idx) {
	case 0:
		if (cfg_parse_uint(s, 0, 65535, &u))
			return cfg_failf(w, v, "capture.fanout.group: '%s' is "
			    "not a number from 0 to 65535", s);
		c->fanout_group = (uint16_t)u;
		return 0;
	case 1:
		for (unsigned i = 0; i < ARRAY_LEN(fanout_modes); i++)
			if (strcmp(s, fanout_modes[i]) == 0) {
				c->fanout_mode = i;
				return 0;
			}
		return cfg_failf(w, v, "capture.fanout.mode: '%s' is not one "
		    "of hash, cpu, queue, lb", s);
	default:
		if (cfg_parse_bool(s, &c->fanout_defrag))
			return cfg_failf(w, v, "capture.fanout.defrag: '%s' is "
			    "not true or false", s);
		return 0;
	}
}

static int capture_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct tm_capture_conf *c = &w->cfg->capture;
	const char *s;
	uint64_t u;
	int64_t ns;

	(void)arg;
	if (idx == 7) {
		c->fanout = 1;
		c->fanout_mode = TM_FANOUT_HASH;
		/* off: with it the kernel hands the sockets reassembled
		 * datagrams, and the store would not hold the fragments
		 * as they were on the wire */
		c->fanout_defrag = 0;
		return cfg_each_pair(w, v, "capture.fanout", fanout_keys,
		    ARRAY_LEN(fanout_keys), fanout_pair, NULL);
	}
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	s = cfg_scalar(v);
	switch (idx) {
	case 0:
		if (!*s || strlen(s) > 255 || !cfg_printable(s))
			return cfg_failf(w, v, "capture.interface: '%s' is not "
			    "an interface name", s);
		return cfg_set_str(w, v, &c->interface);
	case 1:
		if (tm_parse_size(s, 0, &u) || u < 64 || u > 262144)
			return cfg_failf(w, v, "capture.snaplen: '%s' is not a "
			    "size from 64 to 256k", s);
		c->snaplen = (uint32_t)u;
		return 0;
	case 2:
		if (tm_parse_size(s, 0, &u) || u < ((uint64_t)1 << 20) ||
		    u > ((uint64_t)2 << 30) - 1)
			return cfg_failf(w, v, "capture.buffer: '%s' is not a "
			    "size from 1m to 2g (less one byte)", s);
		c->buffer = u;
		return 0;
	case 3:
		if (!cfg_printable(s))
			return cfg_failf(w, v, "capture.filter: control "
			    "characters in the filter");
		c->filter_line = (int)v->start_mark.line + 1;
		c->filter_column = (int)v->start_mark.column + 1;
		return cfg_set_str(w, v, &c->filter);
	case 4:
		if (cfg_parse_bool(s, &c->promiscuous))
			return cfg_failf(w, v, "capture.promiscuous: '%s' is not "
			    "true or false", s);
		return 0;
	case 5:
		if (!*s || strlen(s) > 64 || !cfg_printable(s))
			return cfg_failf(w, v, "capture.user: '%s' is not a "
			    "user name", s);
		return cfg_set_str(w, v, &c->user);
	default:
		if (tm_parse_duration(s, &ns) || ns < 1000000 ||
		    ns > 10 * 1000000000LL)
			return cfg_failf(w, v, "capture.timeout: '%s' is not a "
			    "duration from 1ms to 10s", s);
		c->timeout_ns = ns;
		return 0;
	}
}

int cfg_capture_section(struct cfg_walk *w, yaml_node_t *v)
{
	return cfg_each_pair(w, v, "capture", capture_keys,
	    ARRAY_LEN(capture_keys), capture_pair, NULL);
}

static const char *const control_keys[] = { "socket", "mode", "group",
	"tcp", "token_file" };

static int control_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct tm_control_conf *c = &w->cfg->control;
	const char *s;
	char *end;
	unsigned long m;

	(void)arg;
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	s = cfg_scalar(v);
	switch (idx) {
	case 0:
		if (strcmp(s, "none") == 0) {
			c->socket_off = 1;
			return 0;
		}
		/* sun_path holds 107 bytes; relative paths grow by STORE/ */
		if (!*s || strlen(s) > 107 || !cfg_printable(s))
			return cfg_failf(w, v, "control.socket: '%s' is not a "
			    "socket path (at most 107 bytes) or none", s);
		c->socket_off = 0;
		return cfg_set_str(w, v, &c->socket);
	case 1:
		m = strtoul(s, &end, 8);
		if (!*s || *end || strspn(s, "01234567") != strlen(s) ||
		    m > 0777 || (m & 0600) != 0600)
			return cfg_failf(w, v, "control.mode: '%s' is not an "
			    "octal mode that lets the owner read and write "
			    "(e.g. 0660)", s);
		c->mode = (unsigned)m;
		return 0;
	case 2:
		if (!*s || strlen(s) > 64 || !cfg_printable(s))
			return cfg_failf(w, v, "control.group: '%s' is not a "
			    "group name", s);
		return cfg_set_str(w, v, &c->group);
	case 3:
		if (!strchr(s, ':') || strlen(s) > 300 || !cfg_printable(s))
			return cfg_failf(w, v, "control.tcp: '%s' is not "
			    "HOST:PORT (e.g. 127.0.0.1:7070)", s);
		return cfg_set_str(w, v, &c->tcp);
	default:
		if (!*s || !cfg_printable(s))
			return cfg_failf(w, v, "control.token_file: '%s' is not "
			    "a file name", s);
		return cfg_set_str(w, v, &c->token_file);
	}
}

int cfg_control_section(struct cfg_walk *w, yaml_node_t *v)
{
	if (cfg_each_pair(w, v, "control", control_keys,
	    ARRAY_LEN(control_keys), control_pair, NULL))
		return -1;
	if (w->cfg->control.tcp && !w->cfg->control.token_file)
		return cfg_failf(w, v, "control.tcp needs control.token_file: "
		    "the TCP socket requires a token");
	return 0;
}
