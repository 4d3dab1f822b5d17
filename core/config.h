/*
 * The configuration file (YAML, read with libyaml): connection table,
 * nDPI, classes. Every mistake is reported as "FILE:LINE:COLUMN: message"
 * before anything starts: unknown or repeated keys, bad sizes, bad
 * durations, bad values, duplicate classes, and filters that do not
 * compile (with the column inside the filter too). docs/configuration.md
 * describes every key; docs/timemachine.example.yaml is a complete example.
 */
#ifndef TM_CONFIG_H
#define TM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "classes.h"
#include "conn.h"
#include "ipfix.h"

/* storage: what `tm capture` writes (docs/configuration.md). */
struct tm_storage_conf {
	uint64_t segment_size;		/* rotate beyond this (pcap bytes) */
	int64_t segment_age_ns;		/* ... or this old (packet time) */
	uint64_t disk;			/* store-wide budget; 0: none */
	uint64_t memory;		/* ring of a class that sets none */
	uint32_t dir_interval;		/* packet directory: every Nth */
	uint64_t flows_disk;		/* flow store budget; 0: none */
	uint64_t flows_segment_size;	/* rotate flow files beyond this */
};

/* capture: a live interface (tm capture -i). */
struct tm_capture_conf {
	char *interface;		/* NULL: -i names it */
	uint32_t snaplen;		/* bytes captured of each frame */
	uint64_t buffer;		/* the kernel's buffer */
	char *filter;			/* BPF prefilter; NULL: none */
	int filter_line, filter_column;	/* where it is written */
	int promiscuous;
	char *user;			/* privileges dropped to; NULL: kept */
	int64_t timeout_ns;		/* the buffer timeout: how long a
					 * packet may wait in the kernel */
	/* capture.fanout: several services on one interface (Linux
	 * AF_PACKET fanout), each with its own store */
	int fanout;			/* 0: none */
	uint16_t fanout_group;
	unsigned fanout_mode;		/* TM_FANOUT_* */
	int fanout_defrag;		/* reassemble IP fragments first */
};

enum { TM_FANOUT_HASH, TM_FANOUT_CPU, TM_FANOUT_QM, TM_FANOUT_LB };

/* control: the control socket (tm capture, tm serve). */
struct tm_control_conf {
	char *socket;			/* NULL: STORE/tm.sock; relative
					 * paths are inside the store */
	int socket_off;			/* socket: none */
	unsigned mode;			/* of the socket file */
	char *group;			/* its group; NULL: the process's */
	char *tcp;			/* HOST:PORT; NULL: no TCP */
	char *token_file;		/* the token for TCP */
};

#define TM_CONFIG_DEFAULT_SNAPLEN	262144u
#define TM_CONFIG_DEFAULT_BUFFER	((uint64_t)128 << 20)
#define TM_CONFIG_DEFAULT_TIMEOUT	(100 * 1000000LL)
#define TM_CONFIG_DEFAULT_MODE		0660u

struct tm_config {
	char *file;			/* NULL: the built-in configuration */
	struct tm_conn_opts conn;
	unsigned ctx_mask;		/* TM_CTX_*, connections.context */
	int ndpi_enabled;
	unsigned ndpi_max_packets;	/* payload packets per connection */
	unsigned ndpi_max_flows;	/* connections classified at once */
	int ndpi_thread;		/* nDPI runs on threads of its own */
	unsigned ndpi_threads;		/* how many; 0: auto */
	int keep_control;		/* control packets pass the cutoff */
	uint16_t cid_seed;		/* Community ID seed */
	struct tm_classes classes;
	struct tm_storage_conf storage;
	struct tm_capture_conf capture;
	struct tm_control_conf control;
	struct tm_ipfix_conf ipfix;	/* export.ipfix; collector NULL: none */
};

#define TM_CONFIG_DEFAULT_MAX		1000000u
#define TM_CONFIG_DEFAULT_NDPI_PACKETS	8u
#define TM_CONFIG_MAX_NDPI_THREADS	16u
#define TM_CONFIG_AUTO_NDPI_THREADS	4u	/* auto: the CPUs, at most this */
#define TM_CONFIG_DEFAULT_NDPI_FLOWS	8192u
#define TM_CONFIG_DEFAULT_SEGMENT_SIZE	((uint64_t)256 << 20)
#define TM_CONFIG_DEFAULT_SEGMENT_AGE	(15 * 60 * 1000000000LL)
#define TM_CONFIG_DEFAULT_MEMORY	((uint64_t)64 << 20)
#define TM_CONFIG_DEFAULT_DIR_INTERVAL	256u
#define TM_CONFIG_DEFAULT_FLOWS_DISK	((uint64_t)1 << 30)
#define TM_CONFIG_DEFAULT_FLOWS_SEGMENT	((uint64_t)64 << 20)

/* The built-in configuration: one class, `default`, cutoff 20k. */
void tm_config_defaults(struct tm_config *cfg);

/* Reads and checks FILE (filters are kept as text: see compile). Returns
 * 0, or -1 with "FILE:LINE:COLUMN: message" in err. cfg holds the
 * defaults for what the file does not say. */
int tm_config_load(struct tm_config *cfg, const char *file, char *err,
    size_t errlen);

/* Compiles the class filters (app_check, if given, vets `app` names) and
 * completes the class list (default class, order). Returns 0, or -1 with
 * "FILE:LINE:COLUMN: ..." in err. */
int tm_config_compile(struct tm_config *cfg, tm_expr_app_check_fn app_check,
    void *app_check_arg, char *err, size_t errlen);

/* --cutoff SIZE|none: every class gets this cutoff. 0, or -1 (err). */
int tm_config_set_cutoff(struct tm_config *cfg, const char *arg, char *err,
    size_t errlen);

void tm_config_free(struct tm_config *cfg);

/* nDPI worker threads the configuration asks for: 0 with ndpi.thread
 * false (in line), else ndpi.threads, auto being the online CPUs (at
 * most TM_CONFIG_AUTO_NDPI_THREADS). */
unsigned tm_config_ndpi_threads(const struct tm_config *cfg);

/* "20k" -> 20480: k, m, g, t are powers of 1024 (either case); "none"
 * -> TM_CUTOFF_NONE when allow_none. 0, or -1. */
int tm_parse_size(const char *s, int allow_none, uint64_t *out);
/* "500ms", "30s", "5m", "2h", "1d", or plain seconds. 0, or -1. */
int tm_parse_duration(const char *s, int64_t *ns);
/* "vlan", "tunnel", "both", "none" -> TM_CTX_* mask. 0, or -1. */
int tm_parse_context(const char *s, unsigned *mask);

#endif
