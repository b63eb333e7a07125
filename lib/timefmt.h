/* timefmt.h - capture timestamps (µs since the epoch) as RFC 3339 UTC text. */
#ifndef SIPSIFT_TIMEFMT_H
#define SIPSIFT_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIME_STRLEN 32 /* "2010-08-15T12:00:00.123456Z" + NUL, with room */

/* "2010-08-15T12:00:00.123456Z"; returns buf. */
const char *time_format_us(uint64_t ts_us, char *buf, size_t n);

#endif
