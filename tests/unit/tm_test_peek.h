/* tm_test_truncations() for frames in which one layer chooses its successor
 * by peeking at the successor's first bytes (raw IP's version nibble, the
 * IP packet inside GTP-U, the IPv6 header Teredo checks). Cut inside those
 * bytes, the successor is unknown, so the peeking layer reports itself
 * truncated; tm_test_truncations() would expect the successor's event
 * there. Every other cut is checked exactly as tm_test_truncations() does. */
#ifndef TM_TEST_PEEK_H
#define TM_TEST_PEEK_H

#include <stdio.h>
#include <string.h>
#include "tm_test.h"

static void tm_test_truncations_peek(const void *bytes, size_t len,
    uint16_t linktype, const char *peeker, size_t peeked)
{
	struct tm_layer full[TM_MAX_LAYERS];
	unsigned n_full, k, pk;
	const struct tm_packet *p = tm_test_decode(bytes, len, linktype);
	char pev[128];

	n_full = p->n_layers;
	memcpy(full, p->layers, sizeof(full));
	for (pk = 0; pk + 1 < n_full; pk++)
		if (strcmp(tm_dissector_name(tm_test_registry(),
		    full[pk].dissector), peeker) == 0)
			break;
	if (pk + 1 >= n_full)
		fail_msg("no layer %s with a successor in %s", peeker,
		    tm_test_layers(p));
	snprintf(pev, sizeof(pev), "%s.truncated", peeker);
	for (size_t cut = 0; cut < len; cut++) {
		char ev[128];

		p = tm_test_decode_cut(bytes, cut, len, linktype);
		if (cut >= full[pk + 1].offset &&
		    cut < full[pk + 1].offset + peeked) {
			if (!tm_test_has_event(p, pev))
				fail_msg("cut at byte %zu of %zu: expected %s, "
				    "got layers %s", cut, len, pev,
				    tm_test_layers(p));
			assert_true(p->flags & TM_PF_TRUNCATED);
			continue;
		}
		for (k = 0; k + 1 < n_full; k++)
			if (cut >= full[k].offset && cut < full[k + 1].offset)
				break;
		if (k + 1 >= n_full)
			continue;
		snprintf(ev, sizeof(ev), "%s.truncated", tm_dissector_name(
		    tm_test_registry(), full[k].dissector));
		if (!tm_test_has_event(p, ev))
			fail_msg("cut at byte %zu of %zu: expected %s, got "
			    "layers %s with %u events", cut, len, ev,
			    tm_test_layers(p), p->n_events);
		assert_true(p->flags & TM_PF_TRUNCATED);
	}
}

#endif
