/* Sizes and times as people read them, for summaries and stats. */
#ifndef TM_TEXTFMT_H
#define TM_TEXTFMT_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.5 MiB" (powers of 1024). */
void tm_fmt_size(char *buf, size_t len, uint64_t v);

/* RFC 3339 in UTC with nanoseconds: "2025-11-24T16:00:06.123456789Z";
 * "-inf" / "+inf" for INT64_MIN / INT64_MAX. */
void tm_fmt_time(char *buf, size_t len, int64_t ns);

#endif
