/*
 * Decode benchmark: how many packets per second one core decodes and keys.
 *
 *   decode_bench [-n ROUNDS] [-c CPU] [-P DIST] [--no-cold] [--no-tcpdump]
 *                [--plugin-dir DIR]... FILE
 *
 * Loads every packet of FILE into memory first, then runs ROUNDS rounds of
 * tm_decode + tm_key_make + tm_key_hash over all of them on one core (pinned
 * to CPU, default 0; -c -1: not pinned), and prints packets/s and ns/packet
 * of the fastest and the median round. Rounds are timed in CPU time of the
 * thread, so that on a shared machine the time another process held the
 * core does not count (each round's wall time is printed beside it).
 *
 * Two series: "from memory" walks the in-memory trace as it is, so the
 * headers of every packet are a cache miss (a trace of 400 MB does not fit
 * any cache); "prefetched" asks for the headers of the packet DIST ahead
 * (default 8; -P 0: no such series; --no-cold: only this one), which is
 * closer to a capture loop, where a packet was just written by the NIC or
 * copied by libpcap and its headers are in cache. The difference is the memory stall, not decoding.
 *
 * For scale it also times `tcpdump -r FILE -w /dev/null` (reading and
 * writing every record, no decoding) in the same run.
 *
 * The modules are this build's (TM_BENCH_MODULE_DIR), loaded like `tm`
 * loads them; --plugin-dir adds more.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "key.h"
#include "pcapfile.h"
#include "registry.h"
#include "../plugins/loader.h"

#ifndef TM_BENCH_MODULE_DIR
#error "TM_BENCH_MODULE_DIR must name the build's module directory"
#endif

extern char **environ;

struct frame {
	uint64_t off;		/* into the arena */
	uint32_t caplen;
	uint32_t len;
};

struct trace {
	uint8_t *arena;
	size_t used, cap;
	struct frame *f;
	size_t n, fcap;
	uint16_t linktype;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this thread: what a round costs on the core, without the
 * time other processes of a shared machine took the core away. */
static double cpu_now(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static int load(const char *file, struct trace *t)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = tm_pcap_open_file(file);
	int r;

	if (!p)
		return -1;
	memset(t, 0, sizeof(*t));
	t->linktype = tm_linktype_of(p);
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		if (t->used + h->caplen > t->cap) {
			size_t nc = t->cap ? t->cap * 2 : (size_t)64 << 20;
			uint8_t *na;

			while (nc < t->used + h->caplen)
				nc *= 2;
			na = realloc(t->arena, nc);
			if (!na)
				goto oom;
			t->arena = na;
			t->cap = nc;
		}
		if (t->n == t->fcap) {
			size_t nc = t->fcap ? t->fcap * 2 : 1 << 16;
			struct frame *nf = realloc(t->f, nc * sizeof(*nf));

			if (!nf)
				goto oom;
			t->f = nf;
			t->fcap = nc;
		}
		memcpy(t->arena + t->used, data, h->caplen);
		t->f[t->n].off = t->used;
		t->f[t->n].caplen = h->caplen;
		t->f[t->n].len = h->len;
		t->used += h->caplen;
		t->n++;
	}
	if (r != PCAP_ERROR_BREAK) {
		fprintf(stderr, "decode_bench: %s: %s\n", file, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
oom:
	fprintf(stderr, "decode_bench: out of memory after %zu packets\n",
	    t->n);
	pcap_close(p);
	return -1;
}

/* One round over every packet: the CPU time it took (the wall time in
 *wall), and a checksum so the work cannot be optimized away. */
static double round_once(const struct tm_registry *reg, const struct trace *t,
    struct tm_packet *pkt, uint64_t *sum, size_t pf, double *wall)
{
	struct tm_key key;
	uint64_t s = 0;
	double t0, w0;
	int dir;

	w0 = now();
	t0 = cpu_now();
	for (size_t i = 0; i < t->n; i++) {
		const struct frame *f = &t->f[i];

		if (pf && i + pf < t->n) {
			const uint8_t *q = t->arena + t->f[i + pf].off;

			__builtin_prefetch(q);
			__builtin_prefetch(q + 64);
		}
		tm_decode(reg, pkt, t->arena + f->off, f->caplen, f->len,
		    t->linktype);
		tm_key_make(pkt, TM_CTX_DEFAULT, &key, &dir);
		s += tm_key_hash(&key) + (uint64_t)dir;
	}
	*sum = s;
	t0 = cpu_now() - t0;
	if (wall)
		*wall = now() - w0;
	return t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Wall time of `tcpdump -r FILE -w /dev/null`, or a negative value. */
static double time_tcpdump(const char *file)
{
	char *argv[] = { "tcpdump", "-r", (char *)file, "-w", "/dev/null",
		NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc;
	double t0, t1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	t0 = now();
	rc = posix_spawnp(&pid, "tcpdump", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	t1 = now();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return t1 - t0;
}

/* ROUNDS timed rounds; prints each and the best and median. */
static int series(const struct tm_registry *reg, const struct trace *t,
    struct tm_packet *pkt, int rounds, size_t pf, uint64_t sum0,
    double *secs, const char *what)
{
	uint64_t sum = 0;
	double best, median, wall;

	printf("decode+key, %s%s:\n", what, pf ? "" : " (each packet's "
	    "headers are a cache miss)");
	for (int r = 0; r < rounds; r++) {
		secs[r] = round_once(reg, t, pkt, &sum, pf, &wall);
		if (sum != sum0) {
			fprintf(stderr, "decode_bench: round %d gave another "
			    "checksum\n", r);
			return -1;
		}
		printf("  round %-3d %7.3f s  %7.2f M packets/s  %6.1f "
		    "ns/packet  (wall %.3f s)\n", r + 1, secs[r],
		    (double)t->n / secs[r] / 1e6, secs[r] * 1e9 / (double)t->n,
		    wall);
		fflush(stdout);
	}
	qsort(secs, (size_t)rounds, sizeof(*secs), cmp_double);
	best = secs[0];
	median = secs[rounds / 2];
	printf("  best      %7.2f M packets/s  %6.1f ns/packet\n",
	    (double)t->n / best / 1e6, best * 1e9 / (double)t->n);
	printf("  median    %7.2f M packets/s  %6.1f ns/packet\n",
	    (double)t->n / median / 1e6, median * 1e9 / (double)t->n);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: decode_bench [-n ROUNDS] [-c CPU] [-P DIST] "
	    "[--no-cold] [--no-tcpdump] [--plugin-dir DIR]... FILE\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "plugin-dir", required_argument, NULL, 'p' },
		{ "no-tcpdump", no_argument, NULL, 'T' },
		{ "no-cold", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dirs[16] = { TM_BENCH_MODULE_DIR };
	struct tm_load_opts o = { .dirs = dirs, .n_dirs = 1, .no_builtin = 1 };
	struct tm_registry *reg;
	struct tm_packet *pkt;
	struct trace t;
	int rounds = 7, cpu = 0, tcpdump = 1, prefetch = 8, cold = 1, opt;
	double *secs, load_s, td_best = -1;
	uint64_t sum0 = 0;
	size_t events = 0, layers = 0, tunnels = 0, bytes = 0;

	while ((opt = getopt_long(argc, argv, "n:c:P:h", longopts, NULL)) !=
	    -1) {
		switch (opt) {
		case 'P': prefetch = atoi(optarg); break;
		case 'n': rounds = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'T': tcpdump = 0; break;
		case 'C': cold = 0; break;
		case 'p':
			if (o.n_dirs >= 16) {
				fprintf(stderr, "decode_bench: too many "
				    "--plugin-dir\n");
				return 2;
			}
			dirs[o.n_dirs++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || rounds < 1) {
		usage(stderr);
		return 2;
	}
	if (prefetch < 0)
		prefetch = 0;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("decode_bench: sched_setaffinity (not pinned)");
	}
	reg = calloc(1, sizeof(*reg));
	pkt = calloc(1, sizeof(*pkt));
	secs = calloc((size_t)rounds, sizeof(*secs));
	if (!reg || !pkt || !secs || tm_registry_init(reg) ||
	    tm_load_plugins(reg, &o)) {
		fprintf(stderr, "decode_bench: cannot set up the registry\n");
		return 1;
	}
	for (unsigned i = 0; i < reg->n_modules; i++)
		if (!reg->modules[i].loaded)
			fprintf(stderr, "decode_bench: module %s refused: %s\n",
			    reg->modules[i].file, reg->modules[i].reason);

	load_s = now();
	if (load(argv[optind], &t))
		return 1;
	load_s = now() - load_s;
	printf("trace      %s\n", argv[optind]);
	printf("packets    %zu (%.1f MB captured, link type %u), loaded in "
	    "%.2f s\n", t.n, (double)t.used / 1e6, t.linktype, load_s);
	printf("dissectors %u from %u modules\n", reg->n_slots,
	    reg->n_modules);
	if (t.n == 0)
		return 1;

	/* what the packets look like (outside the timing) */
	for (size_t i = 0; i < t.n; i++) {
		tm_decode(reg, pkt, t.arena + t.f[i].off, t.f[i].caplen,
		    t.f[i].len, t.linktype);
		layers += pkt->n_layers;
		tunnels += pkt->n_tunnels;
		events += pkt->n_events != 0;
		bytes += t.f[i].caplen;
	}
	printf("per packet %.2f layers, %.3f tunnels, %.2f%% with events, "
	    "%.0f bytes\n", (double)layers / (double)t.n,
	    (double)tunnels / (double)t.n, 100.0 * (double)events /
	    (double)t.n, (double)bytes / (double)t.n);

	round_once(reg, &t, pkt, &sum0, 0, NULL);	/* warm-up */
	if (cold && series(reg, &t, pkt, rounds, 0, sum0, secs, "from memory"))
		return 1;
	if (prefetch && series(reg, &t, pkt, rounds, (size_t)prefetch, sum0,
	    secs, "next packets prefetched"))
		return 1;

	if (tcpdump) {
		for (int r = 0; r < 3; r++) {
			double s = time_tcpdump(argv[optind]);

			if (s < 0) {
				td_best = -1;
				break;
			}
			if (td_best < 0 || s < td_best)
				td_best = s;
		}
		if (td_best < 0)
			printf("tcpdump -r FILE -w /dev/null: could not run\n");
		else
			printf("tcpdump -r FILE -w /dev/null: %.3f s wall "
			    "(best of 3; %.2f M packets/s, reading the file, "
			    "no decoding)\n", td_best,
			    (double)t.n / td_best / 1e6);
	}
	tm_unload_plugins(reg);
	tm_registry_free(reg);
	free(reg);
	free(pkt);
	free(secs);
	free(t.arena);
	free(t.f);
	return 0;
}
