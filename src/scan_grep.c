/* scan_grep: PCRE2 search over a stream of chunks (the only includer of pcre2).
 *
 * The pattern is compiled for 8-bit binary subjects (no UTF, (*UTF) refused) and
 * JIT-compiled for complete and hard-partial matching; pcre2_jit_match is used when the JIT
 * is there, pcre2_match otherwise.
 *
 * Chunk boundaries (pcre2partial(3), "multi-segment matching"): every search runs with
 * PCRE2_PARTIAL_HARD, so a match that needs bytes past the end of what is searched is not
 * reported but comes back as a partial match whose start says where to resume.  The last
 * SCAN_GREP_WINDOW bytes of a feed are kept; the next feed first searches a small stitch
 * buffer (those bytes + the first 2 * SCAN_GREP_WINDOW bytes of the new chunk) for the
 * matches that start before WINDOW bytes into the chunk, then searches the chunk itself in
 * place from there: no copy of the chunk.  A complete match found with PARTIAL_HARD is the
 * match the whole stream would give, so nothing is reported twice or cut short; matches
 * longer than the window are the documented limit.  Holes, non-contiguous feeds and finish
 * end the stream: what is left is searched once without partial matching. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "scan.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define WINDOW ((size_t)SCAN_GREP_WINDOW)
#define HEAD (2 * WINDOW)
#define TEXT_CAP 256u

struct scan_grep {
	struct scan_grep_opts o;
	size_t max;
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	int jit;
	uint64_t count, reported;
	int stopped;                      /* a match error: no more searching */
	/* the tail of the stream so far, then the head of the next chunk */
	unsigned char *stitch;
	size_t carry;                     /* bytes of tail at stitch[0..carry) */
	size_t resume;                    /* matches starting before stitch[resume] are done */
	uint64_t carry_addr;              /* address of stitch[0] */
	int have_carry;
	uint64_t stream_start;
};

struct subject {
	const unsigned char *p;
	size_t len;
	uint64_t addr;                    /* address of p[0] */
	uint32_t opts;                    /* PCRE2_NOTBOL when p is not the stream start */
};

static int run_match(struct scan_grep *g, const struct subject *s, size_t off, uint32_t opts)
{
	if (g->jit)
		return pcre2_jit_match(g->re, s->p, s->len, off, s->opts | opts, g->md, g->mctx);
	return pcre2_match(g->re, s->p, s->len, off, s->opts | opts, g->md, g->mctx);
}

static void report(struct scan_grep *g, uint64_t addr, const unsigned char *text, size_t len)
{
	g->count++;
	if (g->reported < g->max) {
		g->reported++;
		if (g->o.match)
			g->o.match(g->o.ctx, addr, text, len < TEXT_CAP ? len : TEXT_CAP);
	}
}

/* Report the matches of s that start in [from, until); returns the first position not
 * dealt with: a partial match's start (*partial set), the start of a match at or past
 * until, or s->len when nothing more starts in the subject. */
static size_t search(struct scan_grep *g, const struct subject *s, size_t from, size_t until,
		     int partial_ok, int *partial)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
	size_t pos = from;

	*partial = 0;
	while (pos <= s->len && !g->stopped) {
		int rc = run_match(g, s, pos, partial_ok ? PCRE2_PARTIAL_HARD : 0);
		size_t ms, me;
		if (rc == PCRE2_ERROR_PARTIAL) {
			*partial = 1;
			return ov[0];
		}
		if (rc == PCRE2_ERROR_NOMATCH)
			return s->len;
		if (rc < 0) {                 /* match or JIT stack limit: give up, quietly */
			g->stopped = 1;
			return s->len;
		}
		ms = ov[0];
		me = ov[1];
		if (ms >= until)
			return ms;
		report(g, s->addr + ms, s->p + ms, me > ms ? me - ms : 0);
		pos = me > ms ? me : ms + 1;  /* an empty match: advance by one */
	}
	return s->len;
}

/* Keep the tail of subject s (whose bytes before `next` are done) as the new carry. */
static void keep_tail(struct scan_grep *g, const struct subject *s, size_t next)
{
	size_t k = s->len < WINDOW ? s->len : WINDOW, drop = s->len - k;

	memmove(g->stitch, s->p + drop, k);
	g->carry = k;
	g->carry_addr = s->addr + drop;
	/* a partial match that began before the window is lost: the documented limit */
	g->resume = next > drop ? next - drop : 0;
	g->have_carry = 1;
}

/* The stream ends: what is left in the carry is searched without partial matching. */
static void end_stream(struct scan_grep *g)
{
	if (g->have_carry) {
		struct subject s = { g->stitch, g->carry, g->carry_addr,
				     g->carry_addr == g->stream_start ? 0 : PCRE2_NOTBOL };
		int partial;
		search(g, &s, g->resume, s.len + 1, 0, &partial);
	}
	g->have_carry = 0;
	g->carry = g->resume = 0;
}

struct scan_grep *scan_grep_new(const struct scan_grep_opts *o, char *errbuf, size_t errlen)
{
	struct scan_grep *g;
	pcre2_code *re;
	int errcode;
	PCRE2_SIZE erroff;
	uint32_t flags = PCRE2_NEVER_UTF | (o->caseless ? PCRE2_CASELESS : 0);

	if (!o->pattern) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "no pattern");
		return NULL;
	}
	re = pcre2_compile((PCRE2_SPTR)o->pattern, PCRE2_ZERO_TERMINATED, flags, &errcode, &erroff, NULL);
	if (!re) {
		if (errbuf && errlen) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(errcode, msg, sizeof(msg));
			snprintf(errbuf, errlen, "bad regex at offset %zu: %s", (size_t)erroff, (char *)msg);
		}
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	g->o = *o;
	g->max = o->max_matches ? o->max_matches : 1000;
	g->re = re;
	g->md = pcre2_match_data_create_from_pattern(re, NULL);
	g->mctx = pcre2_match_context_create(NULL);
	if (!g->md || !g->mctx) {
		fprintf(stderr, "regionwatch: out of memory (pcre2)\n");
		exit(1);
	}
	if (pcre2_jit_compile(re, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD) == 0) {
		g->jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
		if (g->jstack) {
			pcre2_jit_stack_assign(g->mctx, NULL, g->jstack);
			g->jit = 1;
		}
	}
	g->stitch = xmalloc(WINDOW + HEAD);
	return g;
}

void scan_grep_feed(struct scan_grep *g, uint64_t addr, const unsigned char *data, size_t len)
{
	struct subject chunk = { data, len, addr, PCRE2_NOTBOL };
	size_t from = 0, next;
	int partial;

	if (!len)
		return;
	if (g->have_carry && addr != g->carry_addr + g->carry)
		end_stream(g);
	if (!g->have_carry) {
		g->stream_start = addr;
		chunk.opts = 0;
	} else {
		/* matches starting in the carry or in the chunk's first WINDOW bytes: search the
		 * carry + up to 2 * WINDOW bytes of the chunk, so each fits whole */
		size_t k = g->carry, h = len < HEAD ? len : HEAD;
		int whole = h == len;
		struct subject st = { g->stitch, k + h, g->carry_addr,
				      g->carry_addr == g->stream_start ? 0 : PCRE2_NOTBOL };

		memcpy(g->stitch + k, data, h);
		next = search(g, &st, g->resume, whole ? st.len + 1 : k + WINDOW, 1, &partial);
		if (whole) {
			keep_tail(g, &st, next);
			return;
		}
		/* a partial match before k + WINDOW is longer than the window: let the chunk
		 * search, which sees all of the chunk, take it from where it is */
		from = next >= k ? next - k : 0;
	}
	next = search(g, &chunk, from, len + 1, 1, &partial);
	keep_tail(g, &chunk, next);
}

void scan_grep_hole(struct scan_grep *g, uint64_t addr, uint64_t len)
{
	(void)addr;
	(void)len;
	end_stream(g);
}

void scan_grep_finish(struct scan_grep *g)
{
	end_stream(g);
}

uint64_t scan_grep_count(const struct scan_grep *g)
{
	return g->count;
}

void scan_grep_free(struct scan_grep *g)
{
	if (!g)
		return;
	pcre2_jit_stack_free(g->jstack);
	pcre2_match_context_free(g->mctx);
	pcre2_match_data_free(g->md);
	pcre2_code_free(g->re);
	free(g->stitch);
	free(g);
}
