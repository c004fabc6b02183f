/* goinfo: what a Go program's executable says about it, read from /proc/PID/exe (an ELF
 * file on disk, not the target's memory): the Go version from its build info, whether it
 * has a symbol table, and where runtime.allglen (the number of goroutines ever created and
 * not freed: the length of runtime.allgs) lives. The goroutine count is then one 8-byte
 * read of the target, from a page pagemap reports present. Nothing of the runtime's
 * private structures beyond that one word. */
#ifndef RW_GOINFO_H
#define RW_GOINFO_H

#include <stdint.h>
#include "procfs.h"
#include "region.h"

struct goinfo {
	int is_go;                    /* a .go.buildinfo section was found */
	char version[32];             /* "go1.19.8", or "" when the build info has none */
	int stripped;                 /* no .symtab: no goroutine count */
	uint64_t allglen_addr;        /* runtime.allglen in the target, 0 when unknown */
};

/* Read the executable of p (its mappings in s give the load address of a PIE). Never fails:
 * gi->is_go is 0 for anything that is not a Go program or cannot be read. */
void goinfo_open(const struct procfs *p, const struct snapshot *s, struct goinfo *gi);

/* The build info of an ELF file image (f, len bytes): is_go and version only (the unit
 * tests' entry; goinfo_open does this and more). */
void goinfo_parse(const unsigned char *f, size_t len, struct goinfo *gi);

/* The goroutine count (runtime.allglen): 0 and *count, or -errno (-ENODATA: the page is
 * not present, so it is not read). */
int goinfo_goroutines(const struct procfs *p, const struct snapshot *s, const struct goinfo *gi,
		      uint64_t *count);

#endif
