/* analysis: wires the scan_* analyzers to one stream and to text output. */
#include "analysis.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOP_CAPACITY 65536
/* --histogram alone: the reading thread counts up to this share (percent) of the bytes,
 * in pieces of at most SCAN_HIST_PART_MAX, through a ring of this many parts. */
#define ANALYSIS_EARLY_SHARE 30
#define ANALYSIS_HIST_PARTS 4
#define MAX_MATCHES 1000

/* The string listing goes through a 64 KiB buffer of our own: at 20 million strings a
 * GiB, two stdio calls per string were a fifth of --strings (perf). It is flushed before
 * anything else writes to o.out (the hexdump, the summaries), so the order is unchanged. */
static void out_flush(struct analysis *a)
{
	if (a->olen) {
		fwrite(a->obuf, 1, a->olen, a->o.out);
		a->olen = 0;
	}
}

static void out_put(struct analysis *a, const char *p, size_t n)
{
	if (n > ANALYSIS_OUTBUF - a->olen) {
		out_flush(a);
		if (n >= ANALYSIS_OUTBUF) {
			fwrite(p, 1, n, a->o.out);
			return;
		}
	}
	memcpy(a->obuf + a->olen, p, n);
	a->olen += n;
}

/* v in lowercase hex, right-aligned in width (printf "%*llx "), then a space; returns
 * the length. */
static size_t fmt_hex(char *out, uint64_t v, int width)
{
	char digits[16];
	int n = 0;
	size_t o = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	for (int pad = width - n; pad > 0; pad--)
		out[o++] = ' ';
	while (n)
		out[o++] = digits[--n];
	out[o++] = ' ';
	return o;
}

/* Strings over 1 MiB arrive in pieces (scan.h): a piece that starts where the previous one
 * ended, in the same encoding, continues its line. */
static void on_string(void *ctx, uint64_t addr, const char *text, size_t len, enum scan_enc enc)
{
	struct analysis *a = ctx;
	int cont = a->string_any && addr == a->string_end && (int)enc == a->string_enc;

	a->string_end = addr + (enc == SCAN_ENC_UTF16LE ? 2 * len : len);
	a->string_enc = (int)enc;
	a->string_any = 1;
	if (!cont)
		a->strings_found++;
	if (a->top_strings && !cont) {
		char shape[512];
		size_t n = scan_shape(text, len, shape, sizeof(shape));
		if (a->top_worker)
			scan_top_worker_add(a->top_worker, text, len, addr,
					    (uintptr_t)text - a->feed_lo < a->feed_len &&
					    len <= a->feed_len - ((uintptr_t)text - a->feed_lo));
		else
			scan_top_add(a->top_strings, text, len, addr);
		scan_top_add(a->top_shapes, shape, n, addr);
	}
	if (!a->o.strings)
		return;
	/* strings(1)'s own output, the common case: the newline ending the last one, then
	 * this one, straight into the buffer */
	if (a->o.gnu && !a->o.gnu_radix_hex && !cont && !a->o.json && len <= 64 &&
	    ANALYSIS_OUTBUF - a->olen > 65) {
		char *o = a->obuf + a->olen;
		if (a->string_open)
			*o++ = '\n';
		copy_short(o, text, len);
		a->olen = (size_t)(o + len - a->obuf);
		a->string_open = 1;
		return;
	}
	if (a->o.json) {
		if (cont)
			return;          /* JSON lists the first MiB of a giant string */
		if (a->nlisted == ANALYSIS_MAX_LISTED) {
			a->listed_truncated = 1;
			return;
		}
		if (a->nlisted == a->listed_cap) {
			a->listed_cap = a->listed_cap ? a->listed_cap * 2 : 1024;
			a->listed = xreallocarray(a->listed, a->listed_cap, sizeof(*a->listed));
		}
		a->listed[a->nlisted++] = (struct analysis_string){ addr, xstrndup(text, len), (uint8_t)enc };
		return;
	}
	if (!cont) {
		char hex[32];
		if (a->string_open)
			out_put(a, "\n", 1);
		if (a->o.gnu) {
			/* strings(1) prints offsets with "%7lx " (-t x) and the bytes as they are. */
			if (a->o.gnu_radix_hex)
				out_put(a, hex, fmt_hex(hex, addr - a->o.base, 7));
		} else {
			out_put(a, hex, fmt_hex(hex, addr, 0));
			if (enc == SCAN_ENC_UTF16LE)
				out_put(a, "(utf16) ", 8);
		}
	}
	a->string_open = 1;
	if (a->o.gnu) {
		out_put(a, text, len);
	} else {
		char esc[4096];
		for (size_t off = 0; off < len; off += 1000) {
			size_t n = len - off < 1000 ? len - off : 1000;
			const char *e = escape_ctln(text + off, n, esc, sizeof(esc));
			out_put(a, e, strlen(e));
		}
	}
}

static void on_block(void *ctx, const struct scan_block *b)
{
	struct analysis *a = ctx;
	struct analysis_block_run *r = a->nruns ? &a->runs[a->nruns - 1] : NULL;

	uint64_t span = b->count * SCAN_BLOCK, lim = a->o.base + a->o.size;

	if (r && r->cls == b->cls && r->period == b->period && r->end == b->addr) {
		r->end = b->addr + span;
		if (a->o.size && (r->end > lim || r->end < b->addr))
			r->end = lim;
		r->blocks += b->count;
		if (b->entropy < r->entropy_min)
			r->entropy_min = b->entropy;
		if (b->entropy > r->entropy_max)
			r->entropy_max = b->entropy;
		return;
	}
	if (a->nruns == ANALYSIS_MAX_BLOCK_RUNS) {
		a->runs_dropped++;
		return;
	}
	r = &a->runs[a->nruns++];
	r->start = b->addr;
	r->end = b->addr + span;
	if (a->o.size && (r->end > lim || r->end < b->addr))
		r->end = lim;
	r->cls = b->cls;
	r->period = b->period;
	r->entropy_min = r->entropy_max = b->entropy;
	r->blocks = b->count;
}

static void on_match(void *ctx, uint64_t addr, const unsigned char *text, size_t len)
{
	struct analysis *a = ctx;
	char esc[1100];

	if (a->nmatches >= MAX_MATCHES)
		return;
	if (a->nmatches == a->matches_cap) {
		a->matches_cap = a->matches_cap ? a->matches_cap * 2 : 64;
		a->matches = xreallocarray(a->matches, a->matches_cap, sizeof(*a->matches));
	}
	if (len > 256)
		len = 256;
	escape_ctln((const char *)text, len, esc, sizeof(esc));
	a->matches[a->nmatches++] = (struct analysis_match){ addr, xstrdup(esc) };
}

struct analysis *analysis_new(const struct analysis_opts *o, struct rw_err *err)
{
	struct analysis *a = xcalloc(1, sizeof(*a));

	a->o = *o;
	if (!a->o.min_len)
		a->o.min_len = 4;
	if (!a->o.encodings)
		a->o.encodings = SCAN_ENC_ASCII;
	if (a->o.strings || a->o.top) {
		struct scan_strings_opts so = { a->o.min_len, a->o.encodings, a->o.gnu, on_string, a,
						.borrowed = 1 };   /* on_string takes text by length */
		a->strings = scan_strings_new(&so);
	}
	if (a->o.top) {
		a->top_strings = scan_top_new(TOP_CAPACITY);
		a->top_shapes = scan_top_new(TOP_CAPACITY);
		/* the string table on a thread of its own: the second core counts while this
		 * one scans and shapes (NULL: counted here) */
		a->top_worker = scan_top_worker_new(a->top_strings);
	}
	if (a->o.hexdump && !a->o.json)
		a->hexdump = scan_hexdump_new(a->o.out, a->o.base, !a->o.hexdump_file_offsets);
	if (a->o.histogram) {
		struct scan_hist_opts ho = { a->o.base, on_block, a };
		a->hist = scan_hist_new(&ho);
		a->runs = xcalloc(ANALYSIS_MAX_BLOCK_RUNS, sizeof(*a->runs));
	}
	if (a->o.grep) {
		char msg[256];
		struct scan_grep_opts go = { a->o.grep, 0, MAX_MATCHES, on_match, a };
		a->grep = scan_grep_new(&go, msg, sizeof(msg));
		if (!a->grep) {
			rw_err_set(err, EINVAL, "--grep '%s': %s", a->o.grep, msg);
			analysis_free(a);
			return NULL;
		}
	}
	a->hexdump_next = a->o.base;
	if (a->o.strings && !a->o.json)
		a->obuf = xmalloc(ANALYSIS_OUTBUF);
	return a;
}

/* One feed (buf NULL: a hole) of the histogram, on --top's counting thread
 * (scan_top_worker_call) or here. */
static void hist_job(void *ctx, uint64_t addr, const unsigned char *buf, uint64_t len)
{
	struct analysis *a = ctx;

	if (buf)
		scan_hist_feed(a->hist, addr, buf, (size_t)len);
	else
		scan_hist_hole(a->hist, addr, len);
}

/* With --top, the counting thread runs the histogram, unless it is behind (then this
 * thread does, in order: scan_top_worker_behind). */
static void hist_put(struct analysis *a, uint64_t addr, const unsigned char *buf, uint64_t len)
{
	if (a->top_worker && !scan_top_worker_behind(a->top_worker))
		scan_top_worker_call(a->top_worker, hist_job, a, addr, buf, len);
	else
		hist_job(a, addr, buf, len);
}

static void hist_halves_feed(struct analysis *a, uint64_t addr, const unsigned char *buf, size_t len);

void analysis_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct analysis *a = ctx;

	a->bytes_seen += len;
	if (a->strings) {
		/* strings inside buf go to the counting thread by pointer, until the sync
		 * below */
		a->feed_lo = (uintptr_t)buf;
		a->feed_len = len;
		scan_strings_feed(a->strings, addr, buf, len);
		a->feed_len = 0;
	}
	if (a->hexdump) {
		out_flush(a);
		if (addr > a->hexdump_next)
			scan_hexdump_zeros(a->hexdump, addr - a->hexdump_next);
		scan_hexdump_feed(a->hexdump, buf, len);
		a->hexdump_next = addr + len;
	}
	if (a->hist_halves)
		hist_halves_feed(a, addr, buf, len);
	else if (a->hist && !a->hist_early)
		hist_put(a, addr, buf, len);
	if (a->grep)
		scan_grep_feed(a->grep, addr, buf, len);
}

uint64_t analysis_mark(void *ctx)
{
	struct analysis *a = ctx;

	return scan_top_worker_mark(a->top_worker);
}

void analysis_settle(void *ctx, uint64_t mark)
{
	struct analysis *a = ctx;

	scan_top_worker_settle(a->top_worker, mark);
}

int analysis_split(struct analysis *a)
{
	/* beside strings, hexdump or grep, the histogram is better overlapped with the reads
	 * than added to them; alone, it is shared with the reading thread; with --top it
	 * stays with the two analysing threads (hist_put), not a third busy one */
	a->hist_early = a->hist && !a->top_worker && (a->strings || a->hexdump || a->grep);
	a->hist_halves = a->hist && !a->top_worker && !a->hist_early;
	if (a->hist_halves && !a->parts)
		a->parts = xmalloc(ANALYSIS_HIST_PARTS * sizeof(*a->parts));
	return a->hist_early || a->hist_halves;
}

void analysis_early_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct analysis *a = ctx;
	uint64_t made;

	if (!a->hist_halves) {
		scan_hist_feed(a->hist, addr, buf, len);
		return;
	}
	/* this thread also reads: it takes a piece while it has counted less than its share
	 * of the bytes, and while the ring has room (else the delivering thread counts it) */
	a->early_seen += len;
	if (len > SCAN_HIST_PART_MAX ||
	    (a->early_taken + len) * 100 > a->early_seen * ANALYSIS_EARLY_SHARE)
		return;
	made = atomic_load_explicit(&a->parts_made, memory_order_relaxed);
	if (made - atomic_load_explicit(&a->parts_used, memory_order_acquire) >= ANALYSIS_HIST_PARTS)
		return;
	scan_hist_count(a->o.base, addr, buf, len, &a->parts[made % ANALYSIS_HIST_PARTS]);
	atomic_store_explicit(&a->parts_made, made + 1, memory_order_release);
	a->early_taken += len;
}

void analysis_early_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why)
{
	struct analysis *a = ctx;

	(void)why;
	if (!a->hist_halves)
		scan_hist_hole(a->hist, addr, len);
}

/* The histogram of one piece, with the reading thread's counts when it took the piece.
 * Parts are made in address order, and pieces come in it: a part that starts before this
 * piece ends and is not this piece's (the sink was given the bytes cut otherwise: a short
 * write of dump -o) will never be used, and goes. */
static void hist_halves_feed(struct analysis *a, uint64_t addr, const unsigned char *buf, size_t len)
{
	uint64_t used = atomic_load_explicit(&a->parts_used, memory_order_relaxed);
	uint64_t made = atomic_load_explicit(&a->parts_made, memory_order_acquire);
	const struct scan_hist_part *pt = NULL;

	for (; used < made; used++) {
		const struct scan_hist_part *p = &a->parts[used % ANALYSIS_HIST_PARTS];
		if (p->addr == addr && p->len == len) {
			pt = p;
			break;
		}
		if (p->addr >= addr + len)
			break;                  /* a later piece's */
	}
	scan_hist_feed_counted(a->hist, addr, buf, len, pt);
	if (pt)
		used++;
	atomic_store_explicit(&a->parts_used, used, memory_order_release);
}

void analysis_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why)
{
	struct analysis *a = ctx;

	(void)why;
	a->bytes_hole += len;
	if (a->strings)
		scan_strings_hole(a->strings, addr, len);
	if (a->hexdump) {
		out_flush(a);
		/* A hole reads as zeros, as in the sparse dump file. */
		if (addr > a->hexdump_next)
			scan_hexdump_zeros(a->hexdump, addr - a->hexdump_next);
		scan_hexdump_zeros(a->hexdump, len);
		a->hexdump_next = addr + len;
	}
	if (a->hist && !a->hist_early)
		hist_put(a, addr, NULL, len);
	if (a->grep)
		scan_grep_hole(a->grep, addr, len);
}

size_t analysis_top_strings(struct analysis *a, struct scan_top_entry *out, size_t n)
{
	return a->top_strings ? scan_top_result(a->top_strings, out, n) : 0;
}

size_t analysis_top_shapes(struct analysis *a, struct scan_top_entry *out, size_t n)
{
	return a->top_shapes ? scan_top_result(a->top_shapes, out, n) : 0;
}

static void print_top(struct analysis *a, const char *what, struct scan_top *t, uint64_t total)
{
	struct scan_top_entry *e = xcalloc(a->o.top, sizeof(*e));
	size_t n = scan_top_result(t, e, a->o.top);
	int approx = 0;

	for (size_t i = 0; i < n; i++)
		approx |= e[i].error != 0;
	fprintf(a->o.out, "top %zu %s (of %llu strings of %zu+ bytes; counts %s)\n", a->o.top, what,
		(unsigned long long)total, a->o.min_len,
		approx ? "are upper bounds: the table overflowed, see ERROR" : "exact");
	fprintf(a->o.out, "%10s %s%s\n", "COUNT", approx ? "     ERROR " : "", "STRING");
	for (size_t i = 0; i < n; i++) {
		char esc[1100];
		escape_ctln(e[i].text, e[i].len, esc, sizeof(esc));
		if (approx)
			fprintf(a->o.out, "%10llu %10llu %s\n", (unsigned long long)e[i].count,
				(unsigned long long)e[i].error, esc);
		else
			fprintf(a->o.out, "%10llu %s\n", (unsigned long long)e[i].count, esc);
	}
	free(e);
}

static void print_hist(struct analysis *a)
{
	const struct scan_hist_result *h = &a->hist_result;
	char sz[32];
	int order[256];

	fprintf(a->o.out, "histogram: %s read, entropy %.2f bits/byte, zero pages %llu of %llu",
		fmt_size(h->bytes, sz, sizeof(sz)), h->entropy, (unsigned long long)h->zero_pages,
		(unsigned long long)h->pages);
	if (h->pages)
		fprintf(a->o.out, " (%.1f%%)", 100.0 * (double)h->zero_pages / (double)h->pages);
	fputc('\n', a->o.out);
	for (int i = 0; i < 256; i++)
		order[i] = i;
	for (int i = 1; i < 256; i++) {      /* insertion sort by count, descending */
		int v = order[i], j = i;
		while (j > 0 && h->counts[order[j - 1]] < h->counts[v]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
	fprintf(a->o.out, "  dominant bytes:");
	for (int i = 0; i < 8 && h->bytes && h->counts[order[i]]; i++) {
		int c = order[i];
		fprintf(a->o.out, " 0x%02x", c);
		if (c >= 0x21 && c < 0x7f)
			fprintf(a->o.out, " '%c'", c);
		fprintf(a->o.out, " %.1f%%", 100.0 * (double)h->counts[c] / (double)h->bytes);
		fputc(i < 7 ? ',' : ' ', a->o.out);
	}
	fputc('\n', a->o.out);
	fprintf(a->o.out, "  64 KiB blocks by class (a heuristic guess):");
	for (int c = 0; c <= SCAN_BLOCK_UNREAD; c++)
		if (h->blocks[c])
			fprintf(a->o.out, " %s %llu", scan_block_class_name((enum scan_block_class)c),
				(unsigned long long)h->blocks[c]);
	fputc('\n', a->o.out);
	for (size_t i = 0; i < a->nruns; i++) {
		const struct analysis_block_run *r = &a->runs[i];
		fprintf(a->o.out, "  %llx-%llx %6llu x 64K  %-12s", (unsigned long long)r->start,
			(unsigned long long)r->end, (unsigned long long)r->blocks,
			scan_block_class_name((enum scan_block_class)r->cls));
		if (r->cls == SCAN_BLOCK_PATTERN)
			fprintf(a->o.out, " period %u", r->period);
		if (r->cls != SCAN_BLOCK_UNREAD)
			fprintf(a->o.out, " entropy %.2f-%.2f", r->entropy_min, r->entropy_max);
		fputc('\n', a->o.out);
	}
	if (a->runs_dropped)
		fprintf(a->o.out, "  ... %llu more runs of blocks not listed\n",
			(unsigned long long)a->runs_dropped);
}

void analysis_finish(struct analysis *a)
{
	if (a->strings)
		scan_strings_finish(a->strings);
	scan_top_worker_finish(a->top_worker);   /* the string table is complete */
	a->top_worker = NULL;
	if (a->string_open && a->o.strings && !a->o.json)
		out_put(a, "\n", 1);
	out_flush(a);
	if (a->hexdump) {
		if (a->o.base + a->o.size > a->hexdump_next)
			scan_hexdump_zeros(a->hexdump, a->o.base + a->o.size - a->hexdump_next);
		scan_hexdump_finish(a->hexdump);
	}
	if (a->hist)
		scan_hist_finish(a->hist, &a->hist_result);
	if (a->grep)
		scan_grep_finish(a->grep);
	if (a->o.json)
		return;
	if (a->o.top) {
		print_top(a, "strings", a->top_strings, scan_top_total(a->top_strings));
		print_top(a, "shapes (digit runs and hex ids as #)", a->top_shapes,
			  scan_top_total(a->top_shapes));
	}
	if (a->hist)
		print_hist(a);
	if (a->grep) {
		uint64_t total = scan_grep_count(a->grep);
		fprintf(a->o.out, "matches for /%s/: %llu%s\n", a->o.grep, (unsigned long long)total,
			total > a->nmatches ? " (first ones listed)" : "");
		for (size_t i = 0; i < a->nmatches; i++)
			fprintf(a->o.out, "%llx %s\n", (unsigned long long)a->matches[i].addr,
				a->matches[i].text);
	}
}

void analysis_free(struct analysis *a)
{
	if (!a)
		return;
	scan_strings_free(a->strings);
	scan_top_worker_finish(a->top_worker);
	scan_top_free(a->top_strings);
	scan_top_free(a->top_shapes);
	scan_hexdump_free(a->hexdump);
	scan_hist_free(a->hist);
	scan_grep_free(a->grep);
	for (size_t i = 0; i < a->nlisted; i++)
		free(a->listed[i].text);
	free(a->listed);
	for (size_t i = 0; i < a->nmatches; i++)
		free(a->matches[i].text);
	free(a->matches);
	free(a->runs);
	free(a->parts);
	free(a->obuf);
	free(a);
}
