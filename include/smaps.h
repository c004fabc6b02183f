/* smaps: pure parser of smaps / maps / pmap -x / pmap -X / -XX text into a snapshot,
 * and the writer of our snapshot header. No I/O. */
#ifndef RW_SMAPS_H
#define RW_SMAPS_H

#include <stddef.h>
#include "region.h"
#include "util.h"

/* Parse [buf, buf+len) into s (which must be fresh from snapshot_new()).
 * The format is detected from the text. '#' lines before the first region are our header
 * (see smaps_format_header). Returns 0, or -EINVAL with err->msg naming the line. */
int smaps_parse(const char *buf, size_t len, struct snapshot *s, struct rw_err *err);

/* Format our snapshot header ('#' lines, newline-terminated) into out.
 * Returns the length it needed (like snprintf). */
size_t smaps_format_header(char *out, size_t outlen, const struct snapshot_meta *m);

#define SMAPS_HEADER_MAGIC "# regionwatch-snapshot"
#define SMAPS_FORMAT_VERSION 1

#endif
