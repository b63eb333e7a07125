/* timefmt.c - RFC 3339 formatting of capture time (UTC, microseconds). */
#include "timefmt.h"

#include <stdio.h>
#include <time.h>

const char *time_format_us(uint64_t ts_us, char *buf, size_t n)
{
    time_t sec = (time_t)(ts_us / 1000000u);
    struct tm tm;
    if (!gmtime_r(&sec, &tm)) {
        snprintf(buf, n, "1970-01-01T00:00:00.000000Z");
        return buf;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts_us % 1000000u));
    return buf;
}
