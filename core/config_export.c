/*
 * The export section of the configuration file (docs/configuration.md,
 * docs/ipfix.md):
 *
 *   export:
 *     ipfix:   collector (HOST:PORT), transport (udp|tcp),
 *              observation_domain, template_refresh (UDP)
 */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

#include "ipfix.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const export_keys[] = { "ipfix" };
static const char *const ipfix_keys[] = { "collector", "transport",
	"observation_domain", "template_refresh" };

static int ipfix_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct tm_ipfix_conf *c = &w->cfg->ipfix;
	char host[256], port[8], msg[200];
	const char *s;
	uint64_t u;
	int64_t ns;

	(void)arg;
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	s = cfg_scalar(v);
	switch (idx) {
	case 0: {
		char *d;

		if (strlen(s) > 300 || tm_ipfix_parse_collector(s, host,
		    sizeof(host), port, sizeof(port), msg, sizeof(msg)))
			return cfg_failf(w, v, "export.ipfix.collector: '%.300s' "
			    "is not HOST:PORT (e.g. 127.0.0.1:4739 or "
			    "[::1]:4739)", s);
		d = strdup(s);
		if (!d)
			return cfg_failf(w, v, "out of memory");
		free(c->collector);
		c->collector = d;
		return 0;
	}
	case 1:
		if (strcmp(s, "udp") == 0)
			c->tcp = 0;
		else if (strcmp(s, "tcp") == 0)
			c->tcp = 1;
		else
			return cfg_failf(w, v, "export.ipfix.transport: '%s' is "
			    "not udp or tcp", s);
		return 0;
	case 2:
		if (cfg_parse_uint(s, 0, UINT32_MAX, &u))
			return cfg_failf(w, v, "export.ipfix.observation_domain: "
			    "'%s' is not a number from 0 to 4294967295", s);
		c->domain = (uint32_t)u;
		return 0;
	default:
		if (tm_parse_duration(s, &ns) || ns < 1000000000LL ||
		    ns > 86400 * 1000000000LL)
			return cfg_failf(w, v, "export.ipfix.template_refresh: "
			    "'%s' is not a duration from 1s to 1d", s);
		c->template_refresh_ns = ns;
		return 0;
	}
}

static int export_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	(void)idx;
	(void)k;
	(void)arg;
	if (cfg_each_pair(w, v, "export.ipfix", ipfix_keys,
	    ARRAY_LEN(ipfix_keys), ipfix_pair, NULL))
		return -1;
	if (!w->cfg->ipfix.collector)
		return cfg_failf(w, v, "export.ipfix needs a collector "
		    "(HOST:PORT)");
	return 0;
}

int cfg_export_section(struct cfg_walk *w, yaml_node_t *v)
{
	return cfg_each_pair(w, v, "export", export_keys,
	    ARRAY_LEN(export_keys), export_pair, NULL);
}
