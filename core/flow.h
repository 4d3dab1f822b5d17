/*
 * Flow records: one per connection, written when it ends (FIN both ways or
 * RST and then a short closing timeout, idle timeout, eviction, end of
 * input). JSON keys are an interface: see docs/configuration.md.
 */
#ifndef TM_FLOW_H
#define TM_FLOW_H

#include <stdio.h>

#include "tracker.h"

/* One JSON object per line. nanos: timestamps with 9 decimals, not 6. */
void tm_flow_print_json(FILE *out, const struct tm_flow_rec *f, int nanos);
/* One human-readable line. */
void tm_flow_print_text(FILE *out, const struct tm_flow_rec *f, int nanos);

/* Writes ns as seconds with 6 (or 9) decimals: "1764000000.123456". */
void tm_print_ns(FILE *out, int64_t ns, int nanos);

struct tm_config;
struct tm_ndpi;

enum {
	TM_NDPI_CONFIG = 0,	/* as the configuration says */
	TM_NDPI_OFF,		/* --no-ndpi */
	TM_NDPI_UNUSED		/* not needed (tm plan) */
};

/* What `tm flows` and `tm plan` share: the configuration (file or
 * built-in), --max-conns, --cutoff, nDPI (ndpi_mode: TM_NDPI_*) and the
 * compiled filters (`app` names checked against nDPI's in every mode).
 * Nothing has started when it fails (-1, message printed). */
int tm_flows_setup(const char *conf, const char *cutoff, int ndpi_mode,
    unsigned max_conns, struct tm_config *cfg, struct tm_ndpi **ndpi);

#endif
