/*
 * `tm store info STORE`: what a store holds, per class.
 * `tm store check STORE`: every segment against its sidecar.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "commands.h"
#include "textfmt.h"
#include "flowstore.h"
#include "store.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm store info STORE\n"
	    "       tm store check STORE\n"
	    "info:  classes, segments, time range, packets, bytes,\n"
	    "       connections and the index/data ratio of a store\n"
	    "check: every segment against its sidecar (counts, offsets,\n"
	    "       times, directory, postings, checksums); exit status 1\n"
	    "       on damage, saying what and where\n");
}

struct flow_count {
	uint64_t records;
	int64_t first, last;
};

static int count_flow(const struct tm_flowrec *r, void *arg)
{
	struct flow_count *fc = arg;

	if (!fc->records || r->c.first_ts < fc->first)
		fc->first = r->c.first_ts;
	if (!fc->records || r->c.last_ts > fc->last)
		fc->last = r->c.last_ts;
	fc->records++;
	return 0;
}

static int info(const char *root)
{
	struct tm_recover_opts ro;
	struct tm_recover_stats st;
	struct tm_catalog cat = { 0 };
	struct flow_count fc = { 0, 0, 0 };
	uint64_t tp = 0, tb = 0, ti = 0, tc = 0, ts = 0;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	char err[512], a[32], b[32], t1[48], t2[48];

	memset(&ro, 0, sizeof(ro));
	ro.readonly = 1;
	ro.log = stderr;
	if (tm_store_recover(root, &ro, &cat, &st, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		return 2;
	}
	printf("store %s\n", root);
	for (size_t i = 0; i < cat.n; i++) {
		const struct tm_seg_class *c = &cat.cls[i];
		uint64_t p = 0, pb = 0, ib = 0, cn = 0;
		int64_t clo = INT64_MAX, chi = INT64_MIN;

		for (size_t k = c->head; k < c->n; k++) {
			const struct tm_seg *s = &c->v[k];

			p += s->n_packets;
			pb += s->pcap_bytes;
			ib += s->idx_bytes;
			cn += s->n_conns;
			if (s->min_ts < clo)
				clo = s->min_ts;
			if (s->max_ts > chi)
				chi = s->max_ts;
		}
		tm_fmt_size(a, sizeof(a), pb);
		tm_fmt_size(b, sizeof(b), ib);
		printf("class %s: %zu segments", c->name, c->n - c->head);
		if (c->n > c->head) {
			tm_fmt_time(t1, sizeof(t1), clo);
			tm_fmt_time(t2, sizeof(t2), chi);
			printf(", %s .. %s, %" PRIu64 " packets, %s, %" PRIu64
			    " connections, index %s (%.2f%%)", t1, t2, p, a, cn,
			    b, pb ? 100.0 * (double)ib / (double)pb : 0.0);
			if (clo < lo)
				lo = clo;
			if (chi > hi)
				hi = chi;
		}
		putchar('\n');
		tp += p;
		tb += pb;
		ti += ib;
		tc += cn;
		ts += c->n - c->head;
	}
	tm_fmt_size(a, sizeof(a), tb);
	tm_fmt_size(b, sizeof(b), ti);
	printf("total: %" PRIu64 " segments", ts);
	if (ts) {
		tm_fmt_time(t1, sizeof(t1), lo);
		tm_fmt_time(t2, sizeof(t2), hi);
		printf(", %s .. %s", t1, t2);
	}
	printf(", %" PRIu64 " packets, %s, %" PRIu64 " connections, index %s "
	    "(index/data %.2f%%)\n", tp, a, tc, b, tb ? 100.0 * (double)ti /
	    (double)tb : 0.0);
	if (st.unpublished)
		printf("unpublished: %" PRIu64 " segments (being written, or "
		    "left by a crash: the next tm capture repairs them)\n",
		    st.unpublished);
	if (tm_flowstore_each(root, count_flow, &fc, err, sizeof(err)) == 0) {
		printf("flows: %" PRIu64 " records", fc.records);
		if (fc.records) {
			tm_fmt_time(t1, sizeof(t1), fc.first);
			tm_fmt_time(t2, sizeof(t2), fc.last);
			printf(", %s .. %s", t1, t2);
		}
		putchar('\n');
	} else {
		fprintf(stderr, "tm: %s\n", err);
	}
	tm_catalog_free(&cat);
	return 0;
}

struct ent {
	int64_t start;
	uint64_t seq;
	int kind;		/* 0 pcap, 1 idx */
};

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->kind - y->kind;
}

static int check_class(const char *root, const char *cls, uint64_t *ok,
    uint64_t *bad, uint64_t *unpub)
{
	char dir[4200], p1[4300], p2[4300], msg[1024];
	struct ent *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/segments/%s", root, cls);
	d = opendir(dir);
	if (!d) {
		printf("DAMAGE %s: %s\n", dir, strerror(errno));
		(*bad)++;
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct ent e;
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		if (l > 4 && strcmp(de->d_name + l - 4, ".tmp") == 0) {
			printf("note %s/%s: a temporary file (an interrupted "
			    "publication; the next tm capture removes it)\n",
			    dir, de->d_name);
			continue;
		}
		if (tm_seg_parse_name(de->d_name, ".pcap", &e.start, &e.seq) ==
		    0)
			e.kind = 0;
		else if (tm_seg_parse_name(de->d_name, ".idx", &e.start,
		    &e.seq) == 0)
			e.kind = 1;
		else
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct ent *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				closedir(d);
				free(v);
				fprintf(stderr, "tm: out of memory\n");
				return -1;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = e;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_ent);
	for (size_t i = 0; i < n; i++) {
		struct tm_check_info ci;
		int has_idx = v[i].kind == 0 && i + 1 < n &&
		    v[i + 1].kind == 1 && v[i + 1].seq == v[i].seq &&
		    v[i + 1].start == v[i].start;

		tm_seg_path(p1, sizeof(p1), root, cls, v[i].start, v[i].seq,
		    ".pcap");
		tm_seg_path(p2, sizeof(p2), root, cls, v[i].start, v[i].seq,
		    ".idx");
		if (v[i].kind == 1) {
			printf("DAMAGE %s: a sidecar without its segment\n",
			    p2);
			(*bad)++;
			continue;
		}
		if (!has_idx) {
			printf("note %s: not published (being written, or "
			    "left by a crash: the next tm capture repairs "
			    "it)\n", p1);
			(*unpub)++;
			continue;
		}
		i++;
		if (tm_segment_check(p1, p2, cls, v[i].start, v[i].seq, &ci,
		    msg, sizeof(msg))) {
			struct stat sb;

			if (stat(p2, &sb) != 0 && errno == ENOENT) {
				/* a running capture's budget took it */
				printf("note %s: deleted while checked\n", p1);
				continue;
			}
			printf("DAMAGE %s\n", msg);
			(*bad)++;
		} else {
			(*ok)++;
		}
	}
	free(v);
	return 0;
}

static int check(const char *root)
{
	char dir[4200], err[512];
	uint64_t ok = 0, bad = 0, unpub = 0;
	struct flow_count fc = { 0, 0, 0 };
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/segments", root);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "tm: %s: %s\n", dir, errno == ENOENT ?
		    "not a store" : strerror(errno));
		return 2;
	}
	while ((de = readdir(d)) != NULL) {
		char p[4600];
		struct stat sb;
		char **nn;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		check_class(root, names[i], &ok, &bad, &unpub);
		free(names[i]);
	}
	free(names);
	if (tm_flowstore_each(root, count_flow, &fc, err, sizeof(err))) {
		printf("DAMAGE %s\n", err);
		bad++;
	}
	printf("%" PRIu64 " segments checked: %" PRIu64 " intact, %" PRIu64
	    " damaged, %" PRIu64 " unpublished; %" PRIu64 " flow records\n",
	    ok + bad, ok, bad, unpub, fc.records);
	return bad ? 1 : 0;
}

int tm_cmd_store(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "info") == 0)
		return info(argv[2]);
	if (strcmp(argv[1], "check") == 0)
		return check(argv[2]);
	fprintf(stderr, "tm: store: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
