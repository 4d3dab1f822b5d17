/*
 * libFuzzer target: what nodes send the cluster front-end's merge
 * (core/cluster_query.c) is hostile input. The fuzzed bytes are the
 * answers of two nodes, each on a socket pair: bytes 0-1 (big-endian)
 * are how many of the rest node a gets (at most all), byte 2 picks the
 * request (bit 0: query count, else query pcap), node b gets the rest. The merge must not read out of bounds or leak, and when it
 * succeeds its pcap must be well formed: a nanosecond header, whole
 * records in time order, as many as it counted, each at most 262144
 * bytes. The JSON check of K answers runs on the whole input too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster_query.h"
#include "ctl_proto.h"

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_pcap(const uint8_t *p, size_t n,
    const struct tm_cq_summary *sum)
{
	uint64_t recs = 0, last = 0;
	size_t o = 24;

	if (!sum->header_written) {
		if (n)
			abort();
		return;
	}
	if (n < 24 || le32(p) != 0xa1b23c4du)
		abort();
	while (o + 16 <= n) {
		uint64_t ts = (uint64_t)le32(p + o) * 1000000000u +
		    le32(p + o + 4);
		uint32_t cl = le32(p + o + 8);

		if (le32(p + o + 4) >= 1000000000u || cl > TM_CQ_MAX_CAPLEN ||
		    o + 16 + cl > n || ts < last)
			abort();
		last = ts;
		o += 16 + cl;
		recs++;
	}
	if (o != n || recs != sum->packets)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tm_cq_target t[2] = { { "a", "fuzz-a", NULL },
		{ "b", "fuzz-b", NULL } };
	struct tm_cq_node res[2];
	struct tm_cq_summary sum;
	struct tm_ctl_req req;
	struct tm_cq_opts o;
	int sv[2][2], fds[2];
	char *out = NULL, err[512];
	size_t olen = 0, body, split;
	FILE *f = NULL;
	int rc;

	tm_cq_json_object((const char *)data, size);
	if (size < 3 || size > 65536)
		return 0;
	body = size - 3;
	split = (size_t)data[0] << 8 | data[1];
	if (split > body)
		split = body;
	for (int k = 0; k < 2; k++) {
		const uint8_t *p = data + 3 + (k ? split : 0);
		size_t n = k ? body - split : split;
		int sb = 1 << 20;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[k]) != 0)
			abort();
		setsockopt(sv[k][1], SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
		while (n) {
			ssize_t w = send(sv[k][1], p, n, MSG_DONTWAIT);

			if (w <= 0) {	/* no room: not this input */
				for (int j = 0; j <= k; j++) {
					close(sv[j][0]);
					if (j == k)
						close(sv[j][1]);
				}
				return 0;
			}
			p += w;
			n -= (size_t)w;
		}
		close(sv[k][1]);
		fds[k] = sv[k][0];
	}
	memset(&req, 0, sizeof(req));
	req.verb = TM_CTL_QUERY;
	req.count_only = data[2] & 1;
	req.expr = "";
	if (!req.count_only)
		f = open_memstream(&out, &olen);
	memset(&o, 0, sizeof(o));
	o.t = t;
	o.n = 2;
	o.req = &req;
	o.pcap = f;
	o.timeout_ms = 2000;	/* never reached: the sockets end */
	rc = tm_cq_run_fds(&o, fds, res, &sum, err, sizeof(err));
	if (f)
		fclose(f);
	if (rc == 0 && !req.count_only)
		check_pcap((const uint8_t *)out, olen, &sum);
	if (rc == 0 && sum.packets != res[0].packets + res[1].packets)
		abort();
	for (int k = 0; k < 2; k++)
		if (res[k].ok && !tm_cq_json_object(res[k].json,
		    strlen(res[k].json)))
			abort();
	tm_cq_nodes_free(res, 2);
	free(out);
	return 0;
}
