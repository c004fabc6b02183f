/* pool: the areas one allocator owns, as one row (design §4 "Pool"), so that growth spread
 * over many mappings is ranked where it belongs: the Go heap, glibc malloc ([heap] and
 * every non-main arena), thread stacks, anonymous rw-p mappings (the equal-sized chunks of
 * V8, CPython's obmalloc, jemalloc/tcmalloc extents), and the mappings of one file. Found
 * from kinds, paths and permissions only, never from a runtime's private structures: a
 * heuristic, said so where it is shown. No I/O. */
#ifndef RW_POOL_H
#define RW_POOL_H

#include <stddef.h>
#include <stdint.h>
#include "timeline.h"

enum pool_kind { POOL_GO_HEAP, POOL_MALLOC, POOL_STACKS, POOL_ANON, POOL_FILE, POOL_KIND_COUNT };

struct pool {
	enum pool_kind kind;
	const char *name;              /* "glibc malloc", or the file's path */
	struct area row;               /* the summed series as an area: span of the members,
	                                * rss ring of their summed RSS; id 0 */
	struct area_stats st;
	const struct area **members;   /* into the timeline, by address */
	size_t nmembers, members_cap;
	int64_t best_member_delta;     /* the largest growth of one member over the window */
	int shown;                     /* ranked as a row (its growth is spread over members) */
};

struct pool_set {
	struct pool *pools;
	size_t npools, cap;
	uint64_t built_seq;            /* timeline seq the set was built for (0: never) */
	size_t *owner;                 /* per timeline area: 1 + its pool's index, or 0 */
	size_t nowner;
	const struct area *areas;      /* the timeline's area array owner[] indexes */
};

void pool_set_init(struct pool_set *ps);
void pool_set_free(struct pool_set *ps);

/* Group the areas present in the latest sample into pools, sum their series and decide
 * which pools are rows: those whose growth over the window exceeds what their best member
 * grew by more than a quarter, with at least two growing members (one member that explains
 * the pool's growth is ranked as itself). Cheap to call again for the same sample. */
void pool_set_build(struct pool_set *ps, const struct timeline *tl);

/* The pool an area belongs to, if that pool is shown as a row; else NULL. */
const struct pool *pool_set_owner(const struct pool_set *ps, const struct area *a);

const char *pool_kind_name(enum pool_kind k);

#endif
