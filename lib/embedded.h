/*
 * embedded.h - files compiled into the binary (tools/embed.sh): the bundled
 * rules and the E.164 table, so `sipsift` needs no data folder at run time.
 * Each file's bytes are followed by a NUL that is not counted in len.
 */
#ifndef SIPSIFT_EMBEDDED_H
#define SIPSIFT_EMBEDDED_H

#include <stddef.h>
#include <string.h>

struct embedded_file {
    const char *name; /* base name, e.g. "sipsift.rules" */
    const unsigned char *data;
    size_t len;
};

extern const struct embedded_file embedded_files[]; /* ends with a NULL name */

static inline const struct embedded_file *embedded_get(const char *name)
{
    for (const struct embedded_file *f = embedded_files; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

#endif
