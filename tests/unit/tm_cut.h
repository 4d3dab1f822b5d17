/* Truncation checks for a terminal layer, whose header end
 * tm_test_truncations() cannot know: every cut of the frame inside
 * [from, to) must record `event` (normally "<layer>.truncated") and flag the
 * packet truncated, not malformed. Header-only helper for the unit tests. */
#ifndef TM_CUT_H
#define TM_CUT_H

#include "tm_test.h"

static inline void tm_test_cuts(const void *bytes, size_t len,
    uint16_t linktype, size_t from, size_t to, const char *event)
{
	for (size_t cut = from; cut < to && cut < len; cut++) {
		const struct tm_packet *p = tm_test_decode_cut(bytes, cut, len,
		    linktype);

		if (!tm_test_has_event(p, event))
			fail_msg("cut at byte %zu of %zu: expected %s, got "
			    "layers %s with %u events", cut, len, event,
			    tm_test_layers(p), p->n_events);
		assert_true(p->flags & TM_PF_TRUNCATED);
		assert_false(p->flags & TM_PF_MALFORMED);
	}
}

#endif
