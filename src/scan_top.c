/* scan_top: string counts in bounded memory, and string shapes.
 *
 * An open-addressing (linear probing, backward-shift deletion) hash table over at most
 * `capacity` entries, whose text is budgeted as one arena of capacity * 64 bytes.  Strings longer
 * than 256 bytes are counted by their first 256 bytes followed by "..." (259 bytes: no
 * untruncated key has that length, so the mark is unambiguous).
 *
 * Counting is exact until the table is full.  Then Space-Saving (Metwally, Agrawal,
 * El Abbadi, "Efficient computation of frequent and top-k elements in data streams", 2005):
 * a new string replaces the entry with the smallest count c, starting at count c + 1 with
 * error c.  The paper's Stream-Summary (buckets of equal counts in a sorted list) makes
 * both the increment and finding that entry O(1); hash slots carry 31 bits of the hash so
 * probing rarely touches an entry.
 *
 * When long strings fill the arena before the table is full, the smallest entries are
 * dropped until a quarter of the arena is free (so compaction stays amortised O(1)); every
 * later new string then starts at (largest count dropped or replaced) + 1, with that as its
 * error, which keeps the Space-Saving bound: count - error <= true count <= count.
 *
 * The arena is an account, not a place: a text of up to 63 bytes lives in its entry's own
 * 64-byte line (one cache line, beside nothing else), a longer one in a block of its own,
 * and "compaction" only sets the bytes used back to the bytes live.  The account decides
 * which entries are dropped exactly as a contiguous arena would, without copying the
 * live text (3 bytes copied per byte scanned when every string is new).
 *
 * Texts returned by scan_top_result are valid until the next scan_top_add or
 * scan_top_free. */
#include "scan.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_SHAPE512 1
#endif
#define XXH_INLINE_ALL
#include <xxhash.h>

#define KEY_MAX SCAN_TOP_KEY_MAX
#define KEY_MARK "..."
#define KEY_MARK_LEN 3u
#define ARENA_PER_ENTRY 64u
#define NONE UINT32_MAX
#define INLINE 64u
#define QUEUE 8u                          /* strings in flight: a power of two */
#define VICTIM_AHEAD 6u                   /* removals between a victim's prefetch and its use */

struct entry {
	uint64_t count, error, first_addr;
	uint64_t hash;
	char *longtext;                  /* len + 1 > INLINE: its own block, else NULL */
	uint32_t len, size;              /* size: bytes charged to the arena account */
	uint32_t bucket;                 /* NONE: free entry */
	uint32_t prev, next;             /* entries of the same bucket */
};

/* Stream-Summary (the paper's structure): one bucket per distinct count, in a list sorted
 * by count, each holding its entries; increment and "take the smallest" are O(1). */
struct bucket {
	uint64_t count;
	uint32_t head;                   /* first entry */
	uint32_t prev, next;             /* neighbouring counts */
};

struct scan_top {
	size_t cap, n, hiwater;
	struct entry *e;                 /* 64 bytes each, on cache-line boundaries */
	void *e_block;
	uint32_t *free_e;
	size_t nfree_e;
	struct bucket *b;
	uint32_t *free_b;
	size_t nfree_b;
	uint32_t bmin;                   /* bucket with the smallest count */
	struct group *groups;            /* the hash table (below) */
	size_t gmask;                    /* groups - 1 */
	size_t gone;                     /* GONE slots */
	uint64_t rebuilds;               /* times the groups were rebuilt */
	char (*inl)[INLINE];             /* per entry: its text when it fits */
	void *inl_block;
	size_t asize, aused, live;
	uint64_t total;
	uint64_t floor;                  /* largest count ever replaced or dropped */
	int evicted;
	/* strings added but not yet counted: their slots are prefetched while the ones
	 * before them are counted (counting order, and so every count, is unchanged) */
	struct pending {
		uint64_t hash, addr;
		uint64_t repeats;        /* the same key added again right after: counted with it */
		uint32_t len;
		char key[KEY_MAX + KEY_MARK_LEN];
	} queue[QUEUE];
	unsigned qhead, qlen;
	uint32_t ahead;                  /* a victim-to-be, VICTIM_AHEAD removals ahead (a hint) */
};

/* XXH3 (xxHash 0.8, inlined from its header): on the 40..60-byte strings that dominate
 * memory, its independent 16-byte lanes take about a third of the time of a serial
 * multiply chain, and its quality is checked by SMHasher. */
static inline uint64_t hash_bytes(const char *s, size_t n)
{
	return XXH3_64bits(s, n);
}

/* ---- buckets ---------------------------------------------------------------------------- */

/* A new bucket for count, linked between prev and next (either may be NONE). */
static uint32_t bucket_new(struct scan_top *t, uint64_t count, uint32_t prev, uint32_t next)
{
	uint32_t bi = t->free_b[--t->nfree_b];
	struct bucket *b = &t->b[bi];

	b->count = count;
	b->head = NONE;
	b->prev = prev;
	b->next = next;
	if (prev != NONE)
		t->b[prev].next = bi;
	else
		t->bmin = bi;
	if (next != NONE)
		t->b[next].prev = bi;
	return bi;
}

static void bucket_push(struct scan_top *t, uint32_t bi, uint32_t idx)
{
	struct entry *e = &t->e[idx];
	struct bucket *b = &t->b[bi];

	e->bucket = bi;
	e->prev = NONE;
	e->next = b->head;
	if (b->head != NONE)
		t->e[b->head].prev = idx;
	b->head = idx;
}

/* Take idx out of its bucket; an emptied bucket is freed. */
static void bucket_unlink(struct scan_top *t, uint32_t idx)
{
	struct entry *e = &t->e[idx];
	uint32_t bi = e->bucket;
	struct bucket *b = &t->b[bi];

	if (e->prev != NONE)
		t->e[e->prev].next = e->next;
	else
		b->head = e->next;
	if (e->next != NONE)
		t->e[e->next].prev = e->prev;
	e->bucket = NONE;
	if (b->head == NONE) {
		if (b->prev != NONE)
			t->b[b->prev].next = b->next;
		else
			t->bmin = b->next;
		if (b->next != NONE)
			t->b[b->next].prev = b->prev;
		t->free_b[t->nfree_b++] = bi;
	}
}

static void increment(struct scan_top *t, uint32_t idx)
{
	struct entry *e = &t->e[idx];
	uint32_t bi = e->bucket, nb = t->b[bi].next, target;
	uint64_t c = t->b[bi].count + 1;

	e->count = c;
	if (nb != NONE && t->b[nb].count == c) {
		target = nb;
	} else if (t->b[bi].head == idx && e->next == NONE) {
		t->b[bi].count = c;              /* alone in its bucket: the bucket moves up */
		return;
	} else {
		target = bucket_new(t, c, bi, nb);
	}
	bucket_unlink(t, idx);
	bucket_push(t, target, idx);
}

/* n increments at once: the entry ends at the head of the bucket of count + n, where n
 * single steps would leave it; the buckets walked over were made by the adds counted. */
static void increment_by(struct scan_top *t, uint32_t idx, uint64_t n)
{
	struct entry *e = &t->e[idx];
	uint32_t bi = e->bucket, prev = bi, nb = t->b[bi].next, target;
	uint64_t c = t->b[bi].count + n;

	if (n == 1) {
		increment(t, idx);
		return;
	}
	while (nb != NONE && t->b[nb].count < c) {
		prev = nb;
		nb = t->b[nb].next;
	}
	e->count = c;
	if (nb != NONE && t->b[nb].count == c) {
		target = nb;
	} else if (prev == bi && t->b[bi].head == idx && e->next == NONE) {
		t->b[bi].count = c;
		return;
	} else {
		target = bucket_new(t, c, prev, nb);
	}
	bucket_unlink(t, idx);
	bucket_push(t, target, idx);
}

/* Put a new entry with count c in its bucket (c is at most the smallest count + 1). */
static void bucket_insert(struct scan_top *t, uint32_t idx, uint64_t c)
{
	uint32_t prev = NONE, cur = t->bmin;

	while (cur != NONE && t->b[cur].count < c) {
		prev = cur;
		cur = t->b[cur].next;
	}
	if (cur == NONE || t->b[cur].count != c)
		cur = bucket_new(t, c, prev, cur);
	bucket_push(t, cur, idx);
}

/* ---- hash table ------------------------------------------------------------------------- */

/* Groups of eight slots, one cache line each, probed group by group (the layout of
 * Abseil's Swiss tables, without their control bytes): a group's tags are compared with one
 * string's at once, and a probe ends at the first group with an empty slot.  A lookup costs
 * two predictable branches where slot-by-slot linear probing, with backward-shift
 * deletion, mispredicted on the variable length of every probe and every shift (perf: a
 * third of the table's time, with the tables in cache).  A slot freed in a group with no
 * other empty slot becomes GONE: a later probe may have passed that full group, so it
 * must go on past it; GONE slots are reused by inserts, and when there are many the
 * groups are rebuilt from the entries. */
#define GROUP 8u
#define TAG_EMPTY 0u
#define TAG_GONE 2u                       /* real tags are odd */
#define NOT_FOUND SIZE_MAX

struct group {
	uint32_t tag[GROUP];              /* TAG_EMPTY, TAG_GONE, or tag_of(the entry's hash) */
	uint32_t idx[GROUP];              /* entry index */
};

static inline uint32_t tag_of(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1u;  /* the group comes from the low bits */
}

static inline struct group *group_at(const struct scan_top *t, uint64_t h)
{
	return &t->groups[h & t->gmask];
}

/* Bit k set where g's tag k is tag. */
static inline unsigned lanes_eq(const struct group *g, uint32_t tag)
{
#if defined(__SSE2__)
	__m128i x = _mm_set1_epi32((int)tag);
	__m128i a = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)g->tag), x);
	__m128i b = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)(g->tag + 4)), x);
	return (unsigned)_mm_movemask_epi8(_mm_packs_epi32(a, b)) & 0x5555u;
#else
	unsigned m = 0;
	for (unsigned k = 0; k < GROUP; k++)
		m |= (unsigned)(g->tag[k] == tag) << (2 * k);
	return m;
#endif
}
/* lanes_eq's bits are 2k (one per lane of a 16-bit movemask): lane of bit b is b / 2 */

static inline const char *text_of(const struct scan_top *t, const struct entry *e)
{
	return e->longtext ? e->longtext : t->inl[e - t->e];
}

/* The slot (group * GROUP + lane) holding key, or NOT_FOUND; *room is then the first
 * empty or GONE slot on its probe path, where it is inserted. */
static size_t find_slot(const struct scan_top *t, const char *key, size_t len, uint64_t h,
			size_t *room)
{
	size_t gi = h & t->gmask;
	uint32_t tag = tag_of(h);

	*room = NOT_FOUND;
	for (;; gi = (gi + 1) & t->gmask) {
		const struct group *g = &t->groups[gi];
		unsigned m = lanes_eq(g, tag), empty;
		for (; m; m &= m - 1) {
			unsigned k = (unsigned)__builtin_ctz(m) / 2;
			const struct entry *e = &t->e[g->idx[k]];
			if (e->hash == h && e->len == len && equal_short(text_of(t, e), key, len))
				return gi * GROUP + k;
		}
		empty = lanes_eq(g, TAG_EMPTY);
		if (*room == NOT_FOUND) {
			unsigned fr = empty | lanes_eq(g, TAG_GONE);
			if (fr)
				*room = gi * GROUP + (unsigned)__builtin_ctz(fr) / 2;
		}
		if (empty)
			return NOT_FOUND;
	}
}

static void groups_rebuild(struct scan_top *t);

static void slot_remove(struct scan_top *t, uint32_t idx)
{
	uint64_t h = t->e[idx].hash;
	size_t gi = h & t->gmask;
	uint32_t tag = tag_of(h);

	for (;; gi = (gi + 1) & t->gmask) {
		struct group *g = &t->groups[gi];
		for (unsigned m = lanes_eq(g, tag); m; m &= m - 1) {
			unsigned k = (unsigned)__builtin_ctz(m) / 2;
			if (g->idx[k] != idx)
				continue;
			if (lanes_eq(g, TAG_EMPTY)) {
				g->tag[k] = TAG_EMPTY;     /* no probe has passed this group */
			} else {
				g->tag[k] = TAG_GONE;
				if (++t->gone > (t->gmask + 1) * GROUP / 16)
					groups_rebuild(t);
			}
			return;
		}
	}
}

/* Every live entry back into emptied groups: no GONE slot is left. */
static void groups_rebuild(struct scan_top *t)
{
	memset(t->groups, 0, (t->gmask + 1) * sizeof(*t->groups));
	t->gone = 0;
	t->rebuilds++;
	for (size_t i = 0; i < t->hiwater; i++) {
		const struct entry *e = &t->e[i];
		size_t gi = e->hash & t->gmask;
		unsigned fr;
		if (e->bucket == NONE)
			continue;
		while (!(fr = lanes_eq(&t->groups[gi], TAG_EMPTY)))
			gi = (gi + 1) & t->gmask;
		fr = (unsigned)__builtin_ctz(fr) / 2;
		t->groups[gi].tag[fr] = tag_of(e->hash);
		t->groups[gi].idx[fr] = (uint32_t)i;
	}
}

/* ---- entries and arena -------------------------------------------------------------------- */

static void remove_entry(struct scan_top *t, uint32_t idx)
{
	struct entry *e = &t->e[idx];

	if (e->count > t->floor)
		t->floor = e->count;
	t->evicted = 1;
	slot_remove(t, idx);
	bucket_unlink(t, idx);
	t->live -= e->size;
	if (e->longtext) {
		free(e->longtext);
		e->longtext = NULL;
	}
	t->free_e[t->nfree_e++] = idx;
	t->n--;
	/* The next victims are the head of the smallest bucket and the entries after it.
	 * The slot of one VICTIM_AHEAD removals ahead is fetched now (one removal ahead was
	 * too late: perf put half of remove_entry on that load), found by a cursor that
	 * steps once per removal and starts again from the head when its entry left the
	 * bucket.  Only prefetches depend on it. */
	if (t->bmin != NONE) {
		uint32_t head = t->b[t->bmin].head, a = t->ahead;
		__builtin_prefetch(t->inl[head], 1);   /* a new text goes where its text was */
		if (a >= t->hiwater || t->e[a].bucket != t->bmin || (a = t->e[a].next) == NONE) {
			a = head;
			for (unsigned k = 0; k < VICTIM_AHEAD && t->e[a].next != NONE; k++)
				a = t->e[a].next;
		}
		t->ahead = a;
		__builtin_prefetch(group_at(t, t->e[a].hash));
		if (t->e[a].next != NONE)
			__builtin_prefetch(&t->e[t->e[a].next]);
	}
}

/* Room for size bytes in the arena.  When live text would fill more than three quarters
 * of it, the smallest entries go first, so each compaction frees a quarter at least. */
static void arena_alloc(struct scan_top *t, size_t size)
{
	if (t->aused + size > t->asize) {
		while (t->n && t->live + size > t->asize - t->asize / 4)
			remove_entry(t, t->b[t->bmin].head);
		t->aused = t->live;     /* what compacting a real arena would leave */
	}
	t->aused += size;
	t->live += size;
}

/* ---- public ----------------------------------------------------------------------------- */

/* The tables are probed at random (every new string touches a slot, a victim entry and its
 * slot, and a text line: ~10 MiB per table): in 4 KiB pages nearly every probe is also a
 * TLB miss, and each first touch a page fault (12-16 us here, design section 4).  So tables
 * of 2 MiB and more sit on 2 MiB boundaries and ask for transparent huge pages (THP is
 * "madvise" on this machine kind); where that is refused they work as before. */
#define HUGE_PAGE (2u << 20)

static void *table_alloc(size_t size)
{
	void *p;

	if (size < HUGE_PAGE)
		return xmalloc(size);
	size = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (posix_memalign(&p, HUGE_PAGE, size))
		return xmalloc(size);
	madvise(p, size, MADV_HUGEPAGE);
	return p;
}

static void *table_calloc(size_t count, size_t size)
{
	void *p = table_alloc(count * size);

	memset(p, 0, count * size);
	return p;
}

struct scan_top *scan_top_new(size_t capacity)
{
	struct scan_top *t = xcalloc(1, sizeof(*t));
	size_t nslots = 16, ngroups;

	if (capacity < 1)
		capacity = 1;
	if (capacity > UINT32_MAX / 4)
		capacity = UINT32_MAX / 4;
	while (nslots < capacity * 4)
		nslots *= 2;
	t->cap = capacity;
	t->e_block = table_calloc(capacity + 1, sizeof(*t->e));
	t->e = (struct entry *)(void *)(((uintptr_t)t->e_block + 63) & ~(uintptr_t)63);
	t->free_e = xmalloc(capacity * sizeof(*t->free_e));
	t->b = xcalloc(capacity + 1, sizeof(*t->b));
	t->free_b = xmalloc((capacity + 1) * sizeof(*t->free_b));
	for (size_t i = 0; i <= capacity; i++)
		t->free_b[i] = (uint32_t)(capacity - i);
	t->nfree_b = capacity + 1;
	t->bmin = NONE;
	ngroups = nslots / GROUP;
	t->groups = table_calloc(ngroups, sizeof(*t->groups));   /* every tag TAG_EMPTY */
	t->gmask = ngroups - 1;
	t->asize = capacity * ARENA_PER_ENTRY;
	if (t->asize < 4 * (KEY_MAX + KEY_MARK_LEN + 1))
		t->asize = 4 * (KEY_MAX + KEY_MARK_LEN + 1);
	t->inl_block = table_alloc(capacity * INLINE + INLINE);
	t->inl = (char (*)[INLINE])(void *)(((uintptr_t)t->inl_block + INLINE - 1) & ~(uintptr_t)(INLINE - 1));
	return t;
}

/* Count one string, 1 + repeats times (key already cut to KEY_MAX + mark, h its hash). */
static void count_key(struct scan_top *t, const char *key, size_t len, uint64_t h, uint64_t addr,
		      uint64_t repeats)
{
	size_t slot, room;
	uint64_t c;
	uint32_t idx;
	struct entry *e;
	char *text;
	uint64_t rebuilds = t->rebuilds;

	slot = find_slot(t, key, len, h, &room);
	if (slot != NOT_FOUND) {
		increment_by(t, t->groups[slot / GROUP].idx[slot % GROUP], 1 + repeats);
		return;
	}
	/* Space-Saving: when full, the entry with the smallest count c makes room; that
	 * raises floor to c (no count is below floor), and the new entry starts at c + 1
	 * with error c */
	if (t->n == t->cap)
		remove_entry(t, t->b[t->bmin].head);
	arena_alloc(t, len + 1);
	idx = t->nfree_e ? t->free_e[--t->nfree_e] : (uint32_t)t->hiwater++;
	c = t->evicted ? t->floor + 1 : 1;
	e = &t->e[idx];
	*e = (struct entry){ .count = c, .error = c - 1, .first_addr = addr, .hash = h,
			     .len = (uint32_t)len, .size = (uint32_t)(len + 1) };
	text = len + 1 > INLINE ? (e->longtext = xmalloc(len + 1)) : t->inl[idx];
	copy_short(text, key, len);
	text[len] = '\0';
	t->n++;
	bucket_insert(t, idx, c);
	/* removals only free slots, but a rebuild moves them all: then probe again */
	if (t->rebuilds != rebuilds)
		find_slot(t, key, len, h, &room);
	t->groups[room / GROUP].tag[room % GROUP] = tag_of(h);
	t->groups[room / GROUP].idx[room % GROUP] = idx;
	if (repeats)
		increment_by(t, idx, repeats);
}

/* Count the oldest queued string.  The home slot of the one QUEUE / 2 behind it was
 * prefetched when it was added and has arrived by now: when its tag matches, that entry and
 * its text are fetched too, so the comparison that confirms a repeated string does not
 * wait for them (perf put a third of find_slot on that load). */
static void count_oldest(struct scan_top *t)
{
	struct pending *q = &t->queue[t->qhead];

	if (t->qlen > QUEUE / 2) {
		const struct pending *later = &t->queue[(t->qhead + QUEUE / 2) & (QUEUE - 1)];
		const struct group *g = group_at(t, later->hash);
		unsigned m = lanes_eq(g, tag_of(later->hash));
		if (m) {
			uint32_t idx = g->idx[(unsigned)__builtin_ctz(m) / 2];
			__builtin_prefetch(&t->e[idx]);
			__builtin_prefetch(t->inl[idx]);
		}
	}

	count_key(t, q->key, q->len, q->hash, q->addr, q->repeats);
	t->qhead = (t->qhead + 1) & (QUEUE - 1);
	t->qlen--;
}

static void drain(struct scan_top *t)
{
	while (t->qlen)
		count_oldest(t);
}

void scan_top_add(struct scan_top *t, const char *text, size_t len, uint64_t addr)
{
	struct pending *q;

	t->total++;
	/* The same key as the one just added (every shape of a run of records): one more
	 * count for it, without hashing or probing.  Counted in order, as one add. */
	if (t->qlen) {
		q = &t->queue[(t->qhead + t->qlen - 1) & (QUEUE - 1)];
		if (len > KEY_MAX ? q->len == KEY_MAX + KEY_MARK_LEN && !memcmp(q->key, text, KEY_MAX)
				  : q->len == len && equal_short(q->key, text, len)) {
			q->repeats++;
			return;
		}
	}
	if (t->qlen == QUEUE)
		count_oldest(t);
	q = &t->queue[(t->qhead + t->qlen++) & (QUEUE - 1)];
	q->repeats = 0;
	if (len > KEY_MAX) {
		memcpy(q->key, text, KEY_MAX);
		memcpy(q->key + KEY_MAX, KEY_MARK, KEY_MARK_LEN);
		len = KEY_MAX + KEY_MARK_LEN;
		q->hash = hash_bytes(q->key, len);
	} else {
		/* hashed from the caller's bytes: loads from the copy just stored would wait
		 * for the stores (perf put a quarter of scan_top_add on them) */
		q->hash = hash_bytes(text, len);
		copy_short(q->key, text, len);
	}
	q->len = (uint32_t)len;
	q->addr = addr;
	__builtin_prefetch(group_at(t, q->hash));
}

struct rank {
	uint64_t count, error, first_addr;
	uint32_t idx;
};

static int rank_cmp(const void *a, const void *b)
{
	const struct rank *ra = a, *rb = b;

	if (ra->count != rb->count)
		return ra->count > rb->count ? -1 : 1;
	if (ra->error != rb->error)
		return ra->error < rb->error ? -1 : 1;
	if (ra->first_addr != rb->first_addr)
		return ra->first_addr < rb->first_addr ? -1 : 1;
	return 0;
}

/* rank_cmp's order, and the entry's index last: a total order, so the result does not
 * depend on the order the table holds its entries in. */
static int rank_before(const struct rank *a, const struct rank *b)
{
	int c = rank_cmp(a, b);
	return c ? c < 0 : a->idx < b->idx;
}

/* heap[0] is the worst of the best k kept so far (a heap on rank_before, reversed). */
static void heap_down(struct rank *h, size_t k, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		if (l < k && rank_before(&h[w], &h[l]))
			w = l;
		if (r < k && rank_before(&h[w], &h[r]))
			w = r;
		if (w == i)
			return;
		struct rank tmp = h[i];
		h[i] = h[w];
		h[w] = tmp;
		i = w;
	}
}

static int rank_sort_cmp(const void *a, const void *b)
{
	return rank_before(a, b) ? -1 : rank_before(b, a);
}

/* The best n by a bounded heap: one pass over the table, O(entries * log n), where a full
 * sort of the 65536 entries was most of the cost of a census's several calls. */
size_t scan_top_result(struct scan_top *t, struct scan_top_entry *out, size_t n)
{
	struct rank *heap;
	size_t k = 0;

	drain(t);
	if (!t->n || !n)
		return 0;
	if (n > t->n)
		n = t->n;
	heap = xmalloc(n * sizeof(*heap));
	for (size_t i = 0; i < t->hiwater; i++) {
		const struct entry *e = &t->e[i];
		struct rank r;

		if (e->bucket == NONE)
			continue;
		r = (struct rank){ e->count, e->error, e->first_addr, (uint32_t)i };
		if (k < n) {
			size_t c = k++;
			heap[c] = r;
			while (c && rank_before(&heap[(c - 1) / 2], &heap[c])) {   /* sift up */
				struct rank tmp = heap[c];
				heap[c] = heap[(c - 1) / 2];
				heap[(c - 1) / 2] = tmp;
				c = (c - 1) / 2;
			}
		} else if (rank_before(&r, &heap[0])) {
			heap[0] = r;
			heap_down(heap, k, 0);
		}
	}
	qsort(heap, k, sizeof(*heap), rank_sort_cmp);
	for (size_t i = 0; i < k; i++) {
		const struct entry *e = &t->e[heap[i].idx];
		out[i] = (struct scan_top_entry){ .text = text_of(t, e), .len = e->len,
			.count = e->count, .error = e->error, .first_addr = e->first_addr };
	}
	free(heap);
	return k;
}

uint64_t scan_top_total(const struct scan_top *t)
{
	return t->total;
}

uint64_t scan_top_rebuilds(const struct scan_top *t)
{
	return t->rebuilds;
}

void scan_top_free(struct scan_top *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->hiwater; i++)
		free(t->e[i].longtext);
	free(t->e_block);
	free(t->free_e);
	free(t->b);
	free(t->free_b);
	free(t->groups);
	free(t->inl_block);
	free(t);
}

/* ---- shapes ----------------------------------------------------------------------------- */

/* Character classes for shapes. */
enum { SH_OTHER = 0, SH_DIGIT = 1, SH_HEXLETTER = 2, SH_LETTER = 4 };

static unsigned char shape_class[256];

int scan_shape_avx512 = -1;

static void shape_init(void)
{
	/* threads may ask at once: they all find the same answer */
	if (__atomic_load_n(&scan_shape_avx512, __ATOMIC_RELAXED) < 0) {
		int wide = 0;
#if defined(HAVE_SHAPE512)
		__builtin_cpu_init();
		wide = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2") &&
		       __builtin_cpu_supports("bmi2");
#endif
		__atomic_store_n(&scan_shape_avx512, wide, __ATOMIC_RELAXED);
	}
	if (shape_class['0'])
		return;
	for (int c = 0; c < 256; c++) {
		unsigned char k = SH_OTHER;
		if (c >= '0' && c <= '9')
			k = SH_DIGIT;
		else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			k = SH_HEXLETTER;
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			k = SH_LETTER;
		shape_class[c] = k;
	}
}

/* Shape of one maximal alphanumeric run [p, end) into o (room checked by the caller). */
static char *shape_run(const unsigned char *p, const unsigned char *end, unsigned kinds, char *o)
{
	/* all hex digits with at least one decimal digit, or 8+ hex letters ("deadbeef": an id
	 * that happened to draw no digit; few words are 8 letters of a-f), or "0x" + hex
	 * digits: one token */
	if ((!(kinds & SH_LETTER) && ((kinds & SH_DIGIT) || end - p >= 8)) ||
	    (end - p >= 3 && p[0] == '0' && (p[1] | 0x20) == 'x' && (kinds & SH_LETTER))) {
		int hex = 1;
		if (kinds & SH_LETTER)          /* only the 'x' of "0x" may be a non-hex letter */
			for (const unsigned char *q = p + 2; q < end; q++)
				hex &= shape_class[*q] != SH_LETTER;
		if (hex) {
			*o++ = '#';
			return o;
		}
	}
	if (!(kinds & SH_DIGIT)) {
		copy_short(o, p, (size_t)(end - p));
		return o + (end - p);
	}
	while (p < end) {                       /* every run of decimal digits becomes '#' */
		if (shape_class[*p] == SH_DIGIT) {
			*o++ = '#';
			while (p < end && shape_class[*p] == SH_DIGIT)
				p++;
		} else {
			*o++ = (char)*p++;
		}
	}
	return o;
}

static size_t shape_into(const unsigned char *p, const unsigned char *end, char *out)
{
	char *o = out;

	while (p < end) {
		const unsigned char *q = p;
		unsigned kinds = 0;
		if (!shape_class[*p]) {
			*o++ = (char)*p++;
			continue;
		}
		while (q < end && shape_class[*q]) {
			kinds |= shape_class[*q];
			q++;
		}
		o = shape_run(p, q, kinds, o);
		p = q;
	}
	return (size_t)(o - out);
}

#if defined(__SSE2__)
/* Bit masks of 16 bytes: [lo, lo + span] as unsigned bytes. */
static inline unsigned in_range16(__m128i x, unsigned char lo, unsigned char span)
{
	__m128i t = _mm_sub_epi8(x, _mm_set1_epi8((char)lo));
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8((char)span)), t));
}

#define FAST_MAX 256u

/* Bits i where m[i .. i+7] are all set. */
static inline uint64_t runs_at_least8(uint64_t m)
{
	m &= m >> 1;
	m &= m >> 2;
	return m & (m >> 4);
}

/* shape_into for len <= FAST_MAX, the same bytes out: the classes of all bytes come from
 * SSE2 compares as bit masks, runs and their kinds from bit scans; only shape_run's
 * rare case (a run of decimal digits and non-hex letters) looks at bytes one by one. */
/* Bytes [from, to) of p into o, 16 at a time: o has 16 bytes of room past what is kept. */
static inline char *copy16(char *o, const unsigned char *p, size_t from, size_t to)
{
	for (size_t k = from; k < to; k += 16)
		memcpy(o + (k - from), p + k, 16);
	return o + (to - from);
}

/* Next bit at or after i that is set (want 1) or clear (want 0) in m; len if none. */
static inline size_t next_bit(const uint64_t *m, size_t i, size_t len, int want)
{
	while (i < len) {
		uint64_t r = (want ? m[i / 64] : ~m[i / 64]) >> (i % 64);
		if (r)
			return i + (size_t)__builtin_ctzll(r) < len ? i + (size_t)__builtin_ctzll(r) : len;
		i = (i / 64 + 1) * 64;
	}
	return len;
}

/* Bits [a, b) of a word, 0 <= a < b <= 64. */
static inline uint64_t bit_range(unsigned a, unsigned b)
{
	return (b == 64 ? ~0ULL : (1ULL << b) - 1) & (~0ULL << a);
}

/* Masks of the 16 bytes at v that are '0', and 'x' or 'X'. */
static inline void zero_x16(__m128i v, unsigned *z, unsigned *x)
{
	*z = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('0')));
	*x = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
							 _mm_set1_epi8('x')));
}

/* Class masks of the 16 bytes at x: decimal digits, other letters, hex letters. */
static inline void classes16(__m128i x, unsigned *d, unsigned *l, unsigned *h)
{
	__m128i low = _mm_or_si128(x, _mm_set1_epi8(0x20));

	*d = in_range16(x, '0', 9);
	*h = in_range16(low, 'a', 5);
	*l = in_range16(low, 'a', 25) & ~*h;
}

/* shape_fast for len <= 64, where every class is one 64-bit mask: only the runs that
 * change (they hold a digit, or are 8+ hex letters) are visited, found from the digit
 * bits and from the 8-long windows of hex letters, instead of walking every run.
 * The text is loaded where it is, 16 bytes at a time, the last 16 ending at its end (a
 * copy first made the loads wait on the copy's stores: perf put a quarter of scan_shape on
 * them), and the shape is written straight to out (outlen > len: scan_shape checks). */
static size_t shape_word(const unsigned char *p, size_t len, char *out)
{
	char *o = out;
	uint64_t dig = 0, let = 0, hexl = 0, aln, starts, cand, changed = 0;
	size_t kept = 0, b = 0;
	unsigned d, l, h;

	for (; b + 16 <= len; b += 16) {
		classes16(_mm_loadu_si128((const __m128i *)(const void *)(p + b)), &d, &l, &h);
		dig |= (uint64_t)d << b;
		let |= (uint64_t)l << b;
		hexl |= (uint64_t)h << b;
	}
	if (b < len) {
		unsigned shift;
		if (len >= 16) {                /* the last 16 bytes; the ones seen drop out */
			classes16(_mm_loadu_si128((const __m128i *)(const void *)(p + len - 16)), &d, &l, &h);
			shift = (unsigned)(16 - (len - b));
		} else {
			unsigned char pad[16] = { 0 };
			memcpy(pad, p, len);
			classes16(_mm_loadu_si128((const __m128i *)(const void *)pad), &d, &l, &h);
			shift = 0;
		}
		dig |= (uint64_t)((d >> shift) & ((1u << (len - b)) - 1)) << b;
		let |= (uint64_t)((l >> shift) & ((1u << (len - b)) - 1)) << b;
		hexl |= (uint64_t)((h >> shift) & ((1u << (len - b)) - 1)) << b;
	}
	aln = dig | let | hexl;
	starts = aln & ~(aln << 1);
	cand = dig | runs_at_least8(hexl);
	while (cand) {
		unsigned at = (unsigned)__builtin_ctzll(cand);
		uint64_t below = starts & bit_range(0, at + 1), after = ~aln & bit_range(at, 64);
		unsigned st = 63 - (unsigned)__builtin_clzll(below);
		unsigned en = after ? (unsigned)__builtin_ctzll(after) : 64;
		uint64_t run = bit_range(st, en);
		if ((dig & run) || (!(let & run) && en - st >= 8))
			changed |= 1ULL << st;
		cand &= ~run;
	}
	while (changed) {
		unsigned st = (unsigned)__builtin_ctzll(changed);
		uint64_t after = ~aln & bit_range(st, 64), run;
		unsigned en = after ? (unsigned)__builtin_ctzll(after) : 64, kinds;
		if (en > len)
			en = (unsigned)len;
		run = bit_range(st, en);
		kinds = (dig & run ? SH_DIGIT : 0) | (let & run ? SH_LETTER : 0) |
			(hexl & run ? SH_HEXLETTER : 0);
		copy_upto64(o, p + kept, st - kept);
		o += st - kept;
		o = shape_run(p + st, p + en, kinds, o);
		kept = en;
		changed &= changed - 1;
	}
	copy_upto64(o, p + kept, len - kept);
	return (size_t)(o - out) + (len - kept);
}

/* Bits of the runs of r from the lowest bit of s in each run to the run's end (s within
 * r): adding s to r carries from that bit through the ones above it. */
static inline uint64_t fill_up(uint64_t s, uint64_t r)
{
	return (((r + s) ^ r) | s) & r;
}

/* Bits of the runs of r from each bit of x down to the run's start: log-step smearing. */
static inline uint64_t fill_down(uint64_t x, uint64_t m)
{
	x |= (x >> 1) & m;
	m &= m >> 1;
	x |= (x >> 2) & m;
	m &= m >> 2;
	x |= (x >> 4) & m;
	m &= m >> 4;
	x |= (x >> 8) & m;
	m &= m >> 8;
	x |= (x >> 16) & m;
	m &= m >> 16;
	return x | ((x >> 32) & m);
}

/* shape_word without a loop over runs: which bytes collapse to '#' is a bit mask made
 * from the class masks at once.  A run with no letter but a-f and a digit or 8+ bytes
 * collapses whole (its last bit is reached from such a bit by fill_up and not from a
 * letter, and fill_down spreads that back over the run); every other digit collapses with
 * the digits next to it.  Then each run of the mask is one '#', and the bytes between
 * are copied.  Runs that start "0x" are shape_word's (rare: it checks their letters). */
static size_t shape_bits(const unsigned char *p, size_t len, char *out)
{
	char *o = out;
	uint64_t dig = 0, let = 0, hexl = 0, zero = 0, ex = 0, aln, starts, last, whole, c;
	size_t kept = 0, b = 0;
	unsigned d, l, h, z, x;

	for (; b + 16 <= len; b += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + b));
		classes16(v, &d, &l, &h);
		zero_x16(v, &z, &x);
		dig |= (uint64_t)d << b;
		let |= (uint64_t)l << b;
		hexl |= (uint64_t)h << b;
		zero |= (uint64_t)z << b;
		ex |= (uint64_t)x << b;
	}
	if (b < len) {
		unsigned shift, keep;
		__m128i v;
		if (len >= 16) {                /* the last 16 bytes; the ones seen drop out */
			v = _mm_loadu_si128((const __m128i *)(const void *)(p + len - 16));
			shift = (unsigned)(16 - (len - b));
		} else {
			unsigned char pad[16] = { 0 };
			memcpy(pad, p, len);
			v = _mm_loadu_si128((const __m128i *)(const void *)pad);
			shift = 0;
		}
		classes16(v, &d, &l, &h);
		zero_x16(v, &z, &x);
		keep = (1u << (len - b)) - 1;
		dig |= (uint64_t)((d >> shift) & keep) << b;
		let |= (uint64_t)((l >> shift) & keep) << b;
		hexl |= (uint64_t)((h >> shift) & keep) << b;
		zero |= (uint64_t)((z >> shift) & keep) << b;
		ex |= (uint64_t)((x >> shift) & keep) << b;
	}
	aln = dig | let | hexl;
	starts = aln & ~(aln << 1);
	if (starts & zero & (ex >> 1))
		return shape_word(p, len, out);
	last = aln & ~(aln >> 1);
	whole = last & fill_up(dig | runs_at_least8(aln), aln) & ~fill_up(let, aln);
	c = fill_down(whole, aln) | dig;
	while (c) {
		unsigned st = (unsigned)__builtin_ctzll(c);
		uint64_t after = c + (c & -c);       /* the lowest run cleared, its end set */
		unsigned en = after ? (unsigned)__builtin_ctzll(after) : 64;
		copy_upto64(o, p + kept, st - kept);
		o += st - kept;
		*o++ = '#';
		kept = en;
		c &= after;
	}
	copy_upto64(o, p + kept, len - kept);
	return (size_t)(o - out) + (len - kept);
}

#if defined(HAVE_SHAPE512)
/* shape_bits with AVX-512: the text (up to 64 bytes) in one masked load, which does not
 * touch the bytes past its end, each class mask from one compare, and the shape from one
 * compress: every byte outside the collapsing runs, and the first byte of each run, turned
 * into '#' (perf put most of shape_bits on its 16-byte steps and its copies run by run). */
__attribute__((target("avx512f,avx512bw,avx512vbmi2,bmi,bmi2")))
static size_t shape_bits512(const unsigned char *p, size_t len, char *out)
{
	const __mmask64 live = _bzhi_u64(~0ULL, (unsigned)len);
	const __m512i v = _mm512_maskz_loadu_epi8(live, p);
	const __m512i low = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
	const __m512i la = _mm512_sub_epi8(low, _mm512_set1_epi8('a'));
	uint64_t dig = _mm512_mask_cmple_epu8_mask(live, _mm512_sub_epi8(v, _mm512_set1_epi8('0')),
						   _mm512_set1_epi8(9));
	uint64_t hexl = _mm512_mask_cmple_epu8_mask(live, la, _mm512_set1_epi8(5));
	uint64_t let = _mm512_mask_cmple_epu8_mask(live, la, _mm512_set1_epi8(25)) & ~hexl;
	uint64_t zero = _mm512_mask_cmpeq_epi8_mask(live, v, _mm512_set1_epi8('0'));
	uint64_t ex = _mm512_mask_cmpeq_epi8_mask(live, low, _mm512_set1_epi8('x'));
	uint64_t aln = dig | let | hexl, starts = aln & ~(aln << 1), last, whole, c, firsts, keep;

	if (starts & zero & (ex >> 1))
		return shape_word(p, len, out);
	last = aln & ~(aln >> 1);
	whole = last & fill_up(dig | runs_at_least8(aln), aln) & ~fill_up(let, aln);
	c = fill_down(whole, aln) | dig;
	firsts = c & ~(c << 1);
	keep = (~c | firsts) & live;
	_mm512_mask_storeu_epi8(out, _bzhi_u64(~0ULL, (unsigned)__builtin_popcountll(keep)),
				_mm512_maskz_compress_epi8(keep, _mm512_mask_blend_epi8(firsts, v,
							       _mm512_set1_epi8('#'))));
	return (size_t)__builtin_popcountll(keep);
}
#endif

static size_t shape_fast(const unsigned char *p, size_t len, char *out)
{
	uint64_t dig[FAST_MAX / 64 + 1] = { 0 }, let[FAST_MAX / 64 + 1] = { 0 },
		 aln[FAST_MAX / 64 + 1] = { 0 };
	unsigned char src[FAST_MAX + 32];       /* p, padded so 16-byte copies may overrun */
	char tmp[FAST_MAX + 32], *o = tmp;
	size_t i = 0, kept = 0;                  /* bytes [kept, i) are still to be copied */

	memcpy(src, p, len);
	memset(src + len, 0, 16);
	for (size_t b = 0; b < len; b += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(src + b));
		__m128i low = _mm_or_si128(x, _mm_set1_epi8(0x20));
		unsigned d = in_range16(x, '0', 9), h = in_range16(low, 'a', 5);
		unsigned l = in_range16(low, 'a', 25) & ~h;
		dig[b / 64] |= (uint64_t)d << (b % 64);
		let[b / 64] |= (uint64_t)l << (b % 64);
		aln[b / 64] |= (uint64_t)(d | h | l) << (b % 64);
	}
	for (;;) {
		size_t j;
		unsigned kinds = 0;
		i = next_bit(aln, i, len, 1);           /* a run of letters and digits: [i, j) */
		if (i == len)
			break;
		j = next_bit(aln, i, len, 0);
		for (size_t k = i; k < j; k = (k / 64 + 1) * 64) {
			size_t e = j < (k / 64 + 1) * 64 ? j : (k / 64 + 1) * 64;
			uint64_t m = (e - k == 64 ? ~0ULL : (1ULL << (e - k)) - 1) << (k % 64);
			kinds |= (dig[k / 64] & m ? SH_DIGIT : 0) | (let[k / 64] & m ? SH_LETTER : 0) |
				 ((aln[k / 64] & ~dig[k / 64] & ~let[k / 64] & m) ? SH_HEXLETTER : 0);
		}
		/* a run of letters only, not all hex or short, and not "0x...": kept as it is
		 * (shape_run's copy case); the rest goes through shape_run */
		if (!(kinds & SH_DIGIT) && ((kinds & SH_LETTER) || j - i < 8) &&
		    !(j - i >= 3 && src[i] == '0')) {
			i = j;
			continue;
		}
		o = copy16(o, src, kept, i);
		o = shape_run(src + i, src + j, kinds, o);
		kept = i = j;
	}
	o = copy16(o, src, kept, len);
	memcpy(out, tmp, (size_t)(o - tmp));
	return (size_t)(o - tmp);
}
#endif

#if defined(__SSE2__)
static inline size_t shape_small(const unsigned char *p, size_t len, char *out)
{
#if defined(HAVE_SHAPE512)
	if (__atomic_load_n(&scan_shape_avx512, __ATOMIC_RELAXED) > 0)
		return shape_bits512(p, len, out);
#endif
	return shape_bits(p, len, out);
}
#endif

size_t scan_shape(const char *text, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)text;
	char small[1024], *tmp;
	size_t n;

	if (!outlen)
		return 0;
	shape_init();
	/* a shape is never longer than its text */
	if (len < outlen) {
#if defined(__SSE2__)
		n = len <= 64 ? shape_small(p, len, out)
		    : len <= FAST_MAX ? shape_fast(p, len, out) : shape_into(p, p + len, out);
#else
		n = shape_into(p, p + len, out);
#endif
		out[n] = '\0';
		return n;
	}
	/* it may not fit: shape all of it aside, then cut */
	tmp = len <= sizeof(small) ? small : xmalloc(len);
	n = shape_into(p, p + len, tmp);
	if (n > outlen - 1)
		n = outlen - 1;
	memcpy(out, tmp, n);
	out[n] = '\0';
	if (tmp != small)
		free(tmp);
	return n;
}
