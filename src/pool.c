/* pool: areas grouped by the allocator that owns them, with their summed RSS series. */
#include "pool.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const char *pool_kind_name(enum pool_kind k)
{
	static const char *const names[POOL_KIND_COUNT] = {
		[POOL_GO_HEAP] = "go-heap", [POOL_MALLOC] = "malloc", [POOL_STACKS] = "stacks",
		[POOL_ANON] = "anon-chunks", [POOL_FILE] = "file",
	};
	return k < POOL_KIND_COUNT ? names[k] : "?";
}

void pool_set_init(struct pool_set *ps)
{
	memset(ps, 0, sizeof(*ps));
}

static void pool_clear(struct pool *p)
{
	free(p->row.rss);
	free(p->row.path);
	free(p->members);
}

void pool_set_free(struct pool_set *ps)
{
	for (size_t i = 0; i < ps->npools; i++)
		pool_clear(&ps->pools[i]);
	free(ps->pools);
	free(ps->owner);
	memset(ps, 0, sizeof(*ps));
}

/* The pool an area goes to, by kind, permissions and path; -1 for none. For POOL_FILE,
 * *path is the file. */
static int classify(const struct area *a, const char **path)
{
	*path = NULL;
	switch (a->kind) {
	case KIND_GO_HEAP:
		return POOL_GO_HEAP;
	case KIND_HEAP:
	case KIND_GLIBC_ARENA:
		return POOL_MALLOC;
	case KIND_STACK:
		return a->path[0] == '[' && strncmp(a->path, "[stack]", 7) ? POOL_STACKS : -1;
	case KIND_ANON:
		/* Private, writable, unnamed: where runtimes put their chunks. */
		return !strcmp(a->perms, "rw-p") && !a->path[0] ? POOL_ANON : -1;
	case KIND_FILE:
		if (a->path[0] == '/') {
			*path = a->path;
			return POOL_FILE;
		}
		return -1;
	default:
		return -1;
	}
}

static const char *const fixed_names[POOL_KIND_COUNT] = {
	[POOL_GO_HEAP] = "[pool: Go heap]",
	[POOL_MALLOC] = "[pool: glibc malloc: [heap] and arenas]",
	[POOL_STACKS] = "[pool: thread stacks]",
	[POOL_ANON] = "[pool: anonymous rw-p mappings]",
};

static struct pool *find_pool(struct pool_set *ps, int kind, const char *path)
{
	for (size_t i = 0; i < ps->npools; i++) {
		struct pool *p = &ps->pools[i];
		if ((int)p->kind == kind && (kind != POOL_FILE || !strcmp(p->name, path)))
			return p;
	}
	if (ps->npools == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->pools = xreallocarray(ps->pools, ps->cap, sizeof(*ps->pools));
	}
	struct pool *p = &ps->pools[ps->npools++];
	memset(p, 0, sizeof(*p));
	p->kind = (enum pool_kind)kind;
	p->name = kind == POOL_FILE ? path : fixed_names[kind];
	return p;
}

static void add_member(struct pool *p, const struct area *a)
{
	if (p->nmembers == p->members_cap) {
		p->members_cap = p->members_cap ? p->members_cap * 2 : 8;
		p->members = xreallocarray(p->members, p->members_cap, sizeof(*p->members));
	}
	p->members[p->nmembers++] = a;
}

/* The row: the members' span, and their RSS summed per sample of the window (a member
 * absent in a sample adds nothing; a sample where all are absent is absent). Members whose
 * RSS did not change in the window add a constant, so a pool of 30,000 flat mappings costs
 * 30,000 steps, not 30,000 times the window. */
static void sum_series(struct pool *p, const struct timeline *tl)
{
	size_t n = timeline_window_samples(tl);
	uint64_t from = tl->seq - n, const_kib = 0, born = UINT64_MAX, changed = 0;
	uint64_t *sum = xcalloc(tl->cap, sizeof(*sum));
	unsigned char *any = xcalloc(tl->cap, 1);
	struct area *r = &p->row;
	char name[160];

	r->rss = xreallocarray(r->rss, tl->cap, sizeof(*r->rss));
	r->start = UINT64_MAX;
	r->end = r->size = 0;
	r->nvmas = 0;
	p->best_member_delta = 0;
	for (size_t i = 0; i < p->nmembers; i++) {
		const struct area *a = p->members[i];
		struct area_stats st;
		if (a->start < r->start)
			r->start = a->start;
		if (a->end > r->end)
			r->end = a->end;
		r->size += a->size;
		r->nvmas += a->nvmas;
		if (a->born_seq < born)
			born = a->born_seq;
		if (a->changed_seq > changed)
			changed = a->changed_seq;
		if (a->born_seq <= from && a->changed_seq <= from) {
			const_kib += timeline_area_rss(tl, a, tl->seq - 1) / 1024;
			continue;
		}
		timeline_area_stats(tl, a, &st);
		if (st.delta > p->best_member_delta)
			p->best_member_delta = st.delta;
		for (uint64_t seq = a->born_seq > from ? a->born_seq : from; seq < tl->seq; seq++) {
			uint64_t v = timeline_area_rss(tl, a, seq);
			if (v != UINT64_MAX) {
				sum[seq % tl->cap] += v / 1024;
				any[seq % tl->cap] = 1;
			}
		}
	}
	for (uint64_t seq = from; seq < tl->seq; seq++) {
		size_t k = (size_t)(seq % tl->cap);
		uint64_t v = sum[k] + const_kib;
		/* a flat member was there all along: its constant counts in every sample */
		r->rss[k] = (!any[k] && !const_kib) ? TL_ABSENT : v >= TL_ABSENT ? TL_ABSENT - 1 : (uint32_t)v;
	}
	r->born_seq = born > from ? born : from;
	r->changed_seq = changed;
	r->last_seq = tl->seq - 1;
	/* Stable across samples, and apart from the timeline's ids (which count from 1). */
	r->id = (1ull << 63) | ((uint64_t)p->kind << 56);
	if (p->kind == POOL_FILE) {
		uint64_t h = 1469598103934665603ull;          /* FNV-1a of the path */
		for (const char *c = p->name; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ull;
		r->id |= h & ((1ull << 56) - 1);
	}
	r->kind = p->nmembers ? p->members[0]->kind : KIND_ANON;
	if (p->kind == POOL_ANON)
		r->kind = KIND_ANON;
	snprintf(r->perms, sizeof(r->perms), "%s", p->nmembers ? p->members[0]->perms : "----");
	if (p->kind == POOL_FILE)
		snprintf(name, sizeof(name), "[pool: %zu mappings of] %s", p->nmembers, p->name);
	else
		snprintf(name, sizeof(name), "%.*s, %zu areas]", (int)strlen(p->name) - 1, p->name,
			 p->nmembers);
	free(r->path);
	r->path = xstrdup(name);
	free(sum);
	free(any);
	timeline_area_stats(tl, r, &p->st);
}

void pool_set_build(struct pool_set *ps, const struct timeline *tl)
{
	if (ps->built_seq == tl->seq && tl->seq)
		return;
	for (size_t i = 0; i < ps->npools; i++)
		pool_clear(&ps->pools[i]);
	ps->npools = 0;
	free(ps->owner);
	ps->owner = xcalloc(tl->nareas + 1, sizeof(*ps->owner));
	ps->nowner = tl->nareas;
	ps->areas = tl->areas;
	for (size_t i = 0; i < tl->nareas; i++) {
		const struct area *a = &tl->areas[i];
		const char *path;
		int kind;
		if (a->last_seq + 1 != tl->seq)
			continue;           /* not in the latest sample */
		kind = classify(a, &path);
		if (kind < 0)
			continue;
		struct pool *p = find_pool(ps, kind, path);
		add_member(p, a);
		ps->owner[i] = (size_t)(p - ps->pools) + 1;
	}
	for (size_t i = 0; i < ps->npools; i++) {
		struct pool *p = &ps->pools[i];
		if (p->nmembers < 2)
			continue;
		sum_series(p, tl);
		/* A row when the growth is spread: more than a quarter beyond its best member. */
		p->shown = p->st.delta > 0 && p->st.score > 0 &&
			   (double)p->st.delta > 1.25 * (double)p->best_member_delta;
	}
	ps->built_seq = tl->seq;
}

const struct pool *pool_set_owner(const struct pool_set *ps, const struct area *a)
{
	size_t i;

	if (!ps->owner || a < ps->areas || a >= ps->areas + ps->nowner)
		return NULL;
	i = (size_t)(a - ps->areas);
	if (!ps->owner[i])
		return NULL;
	return ps->pools[ps->owner[i] - 1].shown ? &ps->pools[ps->owner[i] - 1] : NULL;
}
