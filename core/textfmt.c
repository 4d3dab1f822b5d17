/* Sizes and times as people read them (textfmt.h). */
#include "textfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

void tm_fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int i = 0;

	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else
		snprintf(buf, len, "%.1f %s", d, u[i]);
}

void tm_fmt_time(char *buf, size_t len, int64_t ns)
{
	int64_t s = ns / 1000000000, frac = ns % 1000000000;
	time_t t;
	struct tm tmv;

	if (ns == INT64_MIN || ns == INT64_MAX) {
		snprintf(buf, len, ns == INT64_MIN ? "-inf" : "+inf");
		return;
	}
	if (frac < 0) {
		frac += 1000000000;
		s--;
	}
	t = (time_t)s;
	gmtime_r(&t, &tmv);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
	    tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour,
	    tmv.tm_min, tmv.tm_sec, (long long)frac);
}
