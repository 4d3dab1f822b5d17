/* The service's counters for `tm stats` (svc_stats.h). */
#define _GNU_SOURCE
#include "svc_stats.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktfmt.h"
#include "store.h"
#include "textfmt.h"

void tm_svc_stats_take(struct tm_svc_stats *st, struct tm_capture *cap,
    struct tm_tracker *trk, const struct tm_svc_counters *cnt, pcap_t *p,
    const struct tm_classes *cs)
{
	const struct tm_rules *rs = tm_tracker_rules(trk);
	struct tm_conntab *ct = tm_tracker_conns(trk);
	struct pcap_stat ps;

	st->frames = cnt->frames;
	st->bytes = cnt->bytes;
	st->wire_bytes = cnt->wire_bytes;
	memcpy(st->events, cnt->events, sizeof(st->events));
	st->trk = *tm_tracker_stats(trk);
	st->conns = *tm_conntab_stats(ct);
	st->conns_max = tm_conntab_max(ct);
	st->conn_memory = tm_conntab_memory(ct);
	st->clock = tm_tracker_clock(trk);
	tm_capture_get_stats(cap, &st->cap);
	st->ncls = tm_capture_n_classes(cap);
	st->cls = calloc(st->ncls ? st->ncls : 1, sizeof(*st->cls));
	if (!st->cls)
		st->ncls = 0;
	for (size_t i = 0; i < st->ncls; i++) {
		struct tm_svc_class *c = &st->cls[i];

		tm_capture_class_stats(cap, i, &c->s);
		snprintf(c->name, sizeof(c->name), "%s", c->s.name);
		c->s.name = NULL;
		if (i < cs->n) {
			c->cutoff = cs->v[i].cutoff;
			c->snaplen = cs->v[i].snaplen;
		}
	}
	st->have_pcap = 0;
	if (p && pcap_stats(p, &ps) == 0) {
		st->have_pcap = 1;
		st->ps_recv = ps.ps_recv;
		st->ps_drop = ps.ps_drop;
		st->ps_ifdrop = ps.ps_ifdrop;
	}
	st->nrules = rs->n;
	for (unsigned i = 0; i < rs->n; i++) {
		st->rules[i].id = rs->v[i].id;
		st->rules[i].cutoff = rs->v[i].cutoff;
		st->rules[i].until = rs->v[i].until;
		snprintf(st->rules[i].text, sizeof(st->rules[i].text), "%s",
		    rs->v[i].text ? rs->v[i].text : "");
	}
}

int tm_svc_stats_store(struct tm_svc_stats *st, const char *store)
{
	struct tm_recover_opts ro;
	struct tm_recover_stats rst;
	struct tm_catalog cat = { 0 };
	char err[512];

	memset(&ro, 0, sizeof(ro));
	ro.readonly = 1;
	if (tm_store_recover(store, &ro, &cat, &rst, err, sizeof(err)))
		return -1;
	free(st->cls);
	st->cls = calloc(cat.n ? cat.n : 1, sizeof(*st->cls));
	if (!st->cls) {
		tm_catalog_free(&cat);
		return -1;
	}
	st->ncls = cat.n;
	st->cap.store_bytes = cat.bytes;
	for (size_t i = 0; i < cat.n; i++) {
		const struct tm_seg_class *sc = &cat.cls[i];
		struct tm_svc_class *c = &st->cls[i];

		snprintf(c->name, sizeof(c->name), "%s", sc->name);
		c->cutoff = 0;
		c->min_ts = INT64_MAX;
		c->max_ts = INT64_MIN;
		for (size_t k = sc->head; k < sc->n; k++) {
			c->segs++;
			c->seg_bytes += sc->v[k].pcap_bytes + sc->v[k].idx_bytes;
			c->seg_packets += sc->v[k].n_packets;
			if (sc->v[k].min_ts < c->min_ts)
				c->min_ts = sc->v[k].min_ts;
			if (sc->v[k].max_ts > c->max_ts)
				c->max_ts = sc->v[k].max_ts;
		}
		st->cap.store_segments += c->segs;
	}
	tm_catalog_free(&cat);
	return 0;
}

void tm_svc_stats_free(struct tm_svc_stats *st)
{
	free(st->cls);
	st->cls = NULL;
	st->ncls = 0;
}

/* ---- formatting ------------------------------------------------------------ */

static void json_size(FILE *f, uint64_t v)
{
	if (v == TM_CUTOFF_NONE)
		fputs("null", f);
	else
		fprintf(f, "%" PRIu64, v);
}

static uint64_t ring_drops(const struct tm_svc_stats *st)
{
	return st->cap.dropped;
}

static void format_json(FILE *f, const struct tm_svc_stats *st,
    const struct tm_svc_info *in)
{
	int first;

	fprintf(f, "{\"capturing\":%s,\"store\":", in->capturing ? "true" :
	    "false");
	tm_json_str(f, in->store);
	fputs(",\"source\":", f);
	if (in->source)
		tm_json_str(f, in->source);
	else
		fputs("null", f);
	fputs(",\"config\":", f);
	if (in->conf_file)
		tm_json_str(f, in->conf_file);
	else
		fputs("null", f);
	fprintf(f, ",\"uptime_s\":%.3f", (double)in->uptime_ns / 1e9);
	if (in->capturing) {
		fprintf(f, ",\"packets\":{\"seen\":%" PRIu64 ",\"bytes\":%"
		    PRIu64 ",\"wire_bytes\":%" PRIu64 ",\"stored\":%" PRIu64
		    ",\"stored_bytes\":%" PRIu64 ",\"cut_off\":%" PRIu64
		    ",\"dropped_rings\":%" PRIu64, st->frames, st->bytes,
		    st->wire_bytes, st->cap.packets, st->cap.bytes,
		    st->frames - st->trk.stored_pkts, ring_drops(st));
		if (st->have_pcap)
			fprintf(f, ",\"received_kernel\":%" PRIu64
			    ",\"dropped_kernel\":%" PRIu64
			    ",\"dropped_interface\":%" PRIu64, st->ps_recv,
			    st->ps_drop, st->ps_ifdrop);
		else
			fputs(",\"dropped_kernel\":null,"
			    "\"dropped_interface\":null", f);
		fputc('}', f);
		if (st->clock != INT64_MIN)
			fprintf(f, ",\"latest_packet_ns\":%" PRId64, st->clock);
	}
	fputs(",\"classes\":[", f);
	for (size_t i = 0; i < st->ncls; i++) {
		const struct tm_svc_class *c = &st->cls[i];

		fprintf(f, "%s{\"name\":", i ? "," : "");
		tm_json_str(f, c->name);
		if (in->capturing) {
			fputs(",\"cutoff\":", f);
			json_size(f, c->cutoff);
			fprintf(f, ",\"snaplen\":%" PRIu32 ",\"packets\":%"
			    PRIu64 ",\"bytes\":%" PRIu64 ",\"dropped\":%"
			    PRIu64 ",\"dropped_bytes\":%" PRIu64
			    ",\"segments\":%" PRIu64 ",\"segment_bytes\":%"
			    PRIu64 ",\"index_bytes\":%" PRIu64
			    ",\"deleted\":%" PRIu64 ",\"ring_bytes\":%" PRIu64
			    "}", c->snaplen, c->s.packets, c->s.bytes,
			    c->s.dropped, c->s.dropped_bytes, c->s.segments,
			    c->s.pcap_bytes, c->s.idx_bytes, c->s.deleted,
			    c->s.ring_bytes);
		} else {
			fprintf(f, ",\"segments\":%" PRIu64 ",\"disk_bytes\":%"
			    PRIu64 ",\"packets\":%" PRIu64, c->segs,
			    c->seg_bytes, c->seg_packets);
			if (c->segs)
				fprintf(f, ",\"first_ns\":%" PRId64
				    ",\"last_ns\":%" PRId64, c->min_ts,
				    c->max_ts);
			fputc('}', f);
		}
	}
	fputc(']', f);
	if (in->capturing) {
		uint64_t rings = 0;

		for (size_t i = 0; i < st->ncls; i++)
			rings += st->cls[i].s.ring_bytes;
		fprintf(f, ",\"connections\":{\"live\":%" PRIu64 ",\"peak\":%"
		    PRIu64 ",\"max\":%" PRIu32 ",\"created\":%" PRIu64
		    ",\"ended\":{", st->conns.live, st->conns.peak,
		    st->conns_max, st->conns.created);
		for (int r = TM_END_FIN; r <= TM_END_EOF; r++)
			fprintf(f, "%s\"%s\":%" PRIu64, r == TM_END_FIN ? "" :
			    ",", tm_end_reason_name((enum tm_end_reason)r),
			    st->conns.ended[r]);
		fprintf(f, "},\"port_reuse\":%" PRIu64 "}", st->trk.port_reuse);
		fprintf(f, ",\"ndpi\":{\"flows\":%" PRIu64 ",\"detected\":%"
		    PRIu64 ",\"undetected\":%" PRIu64 ",\"pool_full\":%"
		    PRIu64 "}", st->trk.ndpi_flows, st->trk.ndpi_detected,
		    st->trk.ndpi_undetected, st->trk.ndpi_pool_full);
		fprintf(f, ",\"memory\":{\"rings_bytes\":%" PRIu64
		    ",\"connections_bytes\":%zu}", rings, st->conn_memory);
		fprintf(f, ",\"flows\":{\"records\":%" PRIu64 ",\"dropped\":%"
		    PRIu64 ",\"bytes\":%" PRIu64 "}", st->cap.flows,
		    st->cap.flows_dropped, st->cap.flow_bytes);
	}
	fprintf(f, ",\"disk\":{\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64
	    "}", st->cap.store_segments, st->cap.store_bytes);
	if (in->capturing) {
		fputs(",\"events\":{", f);
		first = 1;
		for (unsigned i = 0; i < TM_MAX_EVENT_IDS; i++) {
			const char *n;

			if (!st->events[i])
				continue;
			n = in->reg ? tm_event_name(in->reg, i) : NULL;
			fprintf(f, "%s", first ? "" : ",");
			if (n) {
				tm_json_str(f, n);
			} else {
				fprintf(f, "\"event.%u\"", i);
			}
			fprintf(f, ":%" PRIu64, st->events[i]);
			first = 0;
		}
		fputs("},\"cutoff_rules\":[", f);
		for (unsigned i = 0; i < st->nrules; i++) {
			const struct tm_svc_rule *r = &st->rules[i];

			fprintf(f, "%s{\"id\":%" PRIu32 ",\"expr\":", i ? "," :
			    "", r->id);
			tm_json_str(f, r->text);
			fputs(",\"cutoff\":", f);
			json_size(f, r->cutoff);
			if (r->until == INT64_MAX)
				fputs(",\"until_ns\":null}", f);
			else
				fprintf(f, ",\"until_ns\":%" PRId64 "}",
				    r->until);
		}
		fputc(']', f);
	}
	fputc('}', f);
}

static void format_text(FILE *f, const struct tm_svc_stats *st,
    const struct tm_svc_info *in)
{
	char a[32], b[32], c1[48], c2[48];
	int64_t up = in->uptime_ns / 1000000000;

	fprintf(f, "%s %s, store %s, up %" PRId64 "h%02" PRId64 "m%02" PRId64
	    "s\n", in->capturing ? "capturing from" : "serving",
	    in->capturing && in->source ? in->source : "(no capture)",
	    in->store, up / 3600, up / 60 % 60, up % 60);
	if (in->capturing) {
		tm_fmt_size(a, sizeof(a), st->wire_bytes);
		fprintf(f, "packets      %" PRIu64 " seen (%s), %" PRIu64
		    " stored, %" PRIu64 " cut off\n", st->frames, a,
		    st->cap.packets, st->frames - st->trk.stored_pkts);
		if (st->have_pcap)
			fprintf(f, "dropped      %" PRIu64 " by the kernel, %"
			    PRIu64 " by the interface, %" PRIu64 " by the "
			    "rings\n", st->ps_drop, st->ps_ifdrop,
			    ring_drops(st));
		else
			fprintf(f, "dropped      %" PRIu64 " by the rings\n",
			    ring_drops(st));
	}
	for (size_t i = 0; i < st->ncls; i++) {
		const struct tm_svc_class *c = &st->cls[i];

		if (in->capturing) {
			tm_fmt_size(a, sizeof(a), c->s.pcap_bytes + c->s.idx_bytes);
			tm_fmt_size(b, sizeof(b), c->s.ring_bytes);
			fprintf(f, "class %-10s %" PRIu64 " packets stored, %"
			    PRIu64 " dropped, %" PRIu64 " segments (%s), "
			    "ring %s, cutoff ", c->name, c->s.packets,
			    c->s.dropped, c->s.segments, a, b);
			if (c->cutoff == TM_CUTOFF_NONE)
				fputs("none\n", f);
			else
				fprintf(f, "%" PRIu64 "\n", c->cutoff);
		} else {
			tm_fmt_size(a, sizeof(a), c->seg_bytes);
			fprintf(f, "class %-10s %" PRIu64 " segments, %" PRIu64
			    " packets, %s", c->name, c->segs, c->seg_packets,
			    a);
			if (c->segs) {
				tm_fmt_time(c1, sizeof(c1), c->min_ts);
				tm_fmt_time(c2, sizeof(c2), c->max_ts);
				fprintf(f, ", %s .. %s", c1, c2);
			}
			fputc('\n', f);
		}
	}
	if (in->capturing) {
		tm_fmt_size(a, sizeof(a), st->conn_memory);
		fprintf(f, "connections  %" PRIu64 " live (peak %" PRIu64
		    ", max %" PRIu32 "), %" PRIu64 " created, %" PRIu64
		    " evicted, table %s\n", st->conns.live, st->conns.peak,
		    st->conns_max, st->conns.created,
		    st->conns.ended[TM_END_EVICTED], a);
		fprintf(f, "flows        %" PRIu64 " records, %" PRIu64
		    " dropped\n", st->cap.flows, st->cap.flows_dropped);
	}
	tm_fmt_size(a, sizeof(a), st->cap.store_bytes);
	fprintf(f, "disk         %" PRIu64 " segments published, %s\n",
	    st->cap.store_segments, a);
	if (in->capturing) {
		int any = 0;

		for (unsigned i = 0; i < TM_MAX_EVENT_IDS; i++) {
			const char *n;

			if (!st->events[i])
				continue;
			n = in->reg ? tm_event_name(in->reg, i) : NULL;
			fprintf(f, "%s%s %" PRIu64, any ? ", " : "events       ",
			    n ? n : "?", st->events[i]);
			any = 1;
		}
		if (any)
			fputc('\n', f);
		for (unsigned i = 0; i < st->nrules; i++) {
			const struct tm_svc_rule *r = &st->rules[i];

			fprintf(f, "cutoff rule  #%" PRIu32 " '%s': ", r->id,
			    r->text);
			if (r->cutoff == TM_CUTOFF_NONE)
				fputs("none", f);
			else
				fprintf(f, "%" PRIu64, r->cutoff);
			if (r->until != INT64_MAX) {
				tm_fmt_time(c1, sizeof(c1), r->until);
				fprintf(f, " until %s", c1);
			}
			fputc('\n', f);
		}
	}
}

char *tm_svc_stats_format(const struct tm_svc_stats *st,
    const struct tm_svc_info *info, int json)
{
	char *buf = NULL, *out = NULL;
	size_t len = 0, olen = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (json)
		format_json(f, st, info);
	else
		format_text(f, st, info);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (json)
		return buf;
	/* {"text":"..."} */
	f = open_memstream(&out, &olen);
	if (!f) {
		free(buf);
		return NULL;
	}
	fputs("{\"text\":", f);
	tm_json_str(f, buf);
	fputc('}', f);
	free(buf);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
