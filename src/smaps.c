/* smaps: pure parsers (smaps, maps, pmap -x, pmap -X/-XX) over a text buffer.
 *
 * The kernel's format is documented in Documentation/filesystems/proc.rst ("smaps") and
 * produced by fs/proc/task_mmu.c: a header line per VMA in /proc/PID/maps form, then
 * "Key:   N kB" lines, then "VmFlags: xx yy". We never assume a field order or set,
 * ignore keys we do not know (procps pmap aborts on them), and reject text that is not
 * smaps with the number of the offending line. No sscanf: a cursor walks each line. */
#include "smaps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct line {
	const char *p, *end;   /* [p, end), without the newline (and without a trailing \r) */
	size_t no;             /* 1-based line number */
};

struct lines {
	const char *p, *end;
	size_t no;
};

static int next_line(struct lines *it, struct line *ln)
{
	const char *nl;

	if (it->p >= it->end)
		return 0;
	/* Lines are short (about 28 bytes in smaps): a plain loop beats memchr's call. */
	for (nl = it->p; nl < it->end && *nl != '\n'; nl++)
		;
	if (nl == it->end)
		nl = NULL;
	ln->p = it->p;
	ln->end = nl ? nl : it->end;
	it->p = nl ? nl + 1 : it->end;
	ln->no = ++it->no;
	if (ln->end > ln->p && ln->end[-1] == '\r')
		ln->end--;
	return 1;
}

/* Value of a hex digit, or -1: a table, since the maps lines of 60,000 mappings hold about
 * two million digits a sample. It holds value + 1, so the bytes not listed (0) are not
 * digits, and it needs no initialisation at run time. */
static const unsigned char hex_digit[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(char c)
{
	return (int)hex_digit[(unsigned char)c] - 1;
}

/* Parse hex digits at *pp; at least one; at most 16. */
static int take_hex(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0, d;

	while (p < end && (d = hexval(*p)) >= 0) {
		if (++n > 16)
			return -1;
		v = (v << 4) | (uint64_t)d;
		p++;
	}
	if (!n)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

static int take_dec(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		p++;
		n++;
	}
	if (!n)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

static const char *skip_sp(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *skip_nonsp(const char *p, const char *end)
{
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	return p;
}

static int valid_perms(const char *p)
{
	return (p[0] == 'r' || p[0] == '-') && (p[1] == 'w' || p[1] == '-') &&
	       (p[2] == 'x' || p[2] == '-') && (p[3] == 'p' || p[3] == 's');
}

/* Does the line look like a maps header "START-END ..."? */
static int is_region_header(const struct line *ln)
{
	const char *p = ln->p;
	while (p < ln->end && hexval(*p) >= 0)
		p++;
	return p > ln->p && p < ln->end && *p == '-';
}

static int is_comment_or_blank(const struct line *ln)
{
	const char *p = skip_sp(ln->p, ln->end);
	return p == ln->end || *p == '#';
}

static void parse_meta_line(struct snapshot *s, const struct line *ln);

static int perr(struct rw_err *err, const struct line *ln, const char *what)
{
	return rw_err_set(err, EINVAL, "line %zu: %s", ln->no, what);
}

/* The region just added (the last one) against those before it. /proc/PID/smaps and maps
 * are not read atomically: the kernel fills about a page per read() and drops the mmap lock
 * in between (fs/proc/task_mmu.c, m_start/m_stop), so a VMA that grew or merged between two
 * reads is printed again with the same start and a larger end, overlapping what was already
 * printed. pmap copies that text. The later record is the fresher view of the range: it
 * replaces every earlier record it overlaps, and each replaced record is counted in
 * s->torn (a torn read). A record wholly below the previous one cannot come from such a
 * read (the kernel resumes at or above where it stopped): that is unsorted text. */
#define STREAM_WINDOW_TEXT "256"
_Static_assert(SMAPS_STREAM_WINDOW == 256, "STREAM_WINDOW_TEXT spells SMAPS_STREAM_WINDOW");

static int check_order(struct snapshot *s, const struct region *r, const struct line *ln,
		       size_t emitted, struct rw_err *err)
{
	size_t keep = s->count - 1;

	if (r->end <= r->start)
		return perr(err, ln, "region end is not above its start");
	if (!keep || r->start >= s->regions[keep - 1].end)
		return 0;
	if (r->end <= s->regions[keep - 1].start)
		return perr(err, ln, "region precedes the previous one (not sorted)");
	while (keep && s->regions[keep - 1].end > r->start)
		keep--;
	/* Stream mode: the regions before the window were handed out, and the first of the
	 * window gave the last of them its kind: resolving this record needs them back. */
	if (!keep && emitted)
		return perr(err, ln, "torn record overlaps more than the last " STREAM_WINDOW_TEXT
			    " records (too far back for a streaming read)");
	s->torn += s->count - 1 - keep;
	s->regions[keep] = *r;
	s->count = keep + 1;
	return 0;
}

/* "START-END PERMS OFFSET MAJ:MIN INODE [PATH]" */
static int parse_header(struct snapshot *s, const struct line *ln, const char **last_path,
			size_t *last_path_len, size_t emitted, struct rw_err *err)
{
	const char *p = ln->p, *end = ln->end;
	struct region *r = snapshot_add(s);
	uint64_t v;

	if (take_hex(&p, end, &r->start) || p >= end || *p++ != '-' ||
	    take_hex(&p, end, &r->end))
		return perr(err, ln, "bad address range in region header");
	if (p >= end || *p != ' ')
		return perr(err, ln, "bad region header (expected a space after the range)");
	p = skip_sp(p, end);
	if (end - p < 4 || !valid_perms(p) || (end - p > 4 && p[4] != ' '))
		return perr(err, ln, "bad permissions in region header");
	memcpy(r->perms, p, 4);
	r->perms[4] = '\0';
	p = skip_sp(p + 4, end);
	if (take_hex(&p, end, &r->offset))
		return perr(err, ln, "bad offset in region header");
	p = skip_sp(p, end);
	if (take_hex(&p, end, &v) || v > 0xfffff || p >= end || *p++ != ':')
		return perr(err, ln, "bad device in region header");
	r->dev_major = (uint32_t)v;
	if (take_hex(&p, end, &v) || v > 0xfffff)
		return perr(err, ln, "bad device in region header");
	r->dev_minor = (uint32_t)v;
	p = skip_sp(p, end);
	if (take_dec(&p, end, &r->inode) || (p < end && *p != ' '))
		return perr(err, ln, "bad inode in region header");
	p = skip_sp(p, end);
	if (p < end) {
		size_t n = (size_t)(end - p);
		/* Consecutive VMAs of one file share the path string. */
		if (*last_path && *last_path_len == n && !memcmp(*last_path, p, n)) {
			r->path = *last_path;
		} else {
			r->path = snapshot_strdup(s, p, n);
			*last_path = r->path;
			*last_path_len = n;
		}
	}
	return check_order(s, r, ln, emitted, err);
}

struct keyinfo {
	const char *name;
	size_t len;
	int field;      /* enum region_field, or one of the specials below */
};

#define KEY_VMFLAGS (-2)
#define KEY_THP (-3)

static struct keyinfo keys[RF_COUNT + 2];
static size_t nkeys;

static void init_keys(void)
{
	if (nkeys)
		return;
	for (int f = 0; f < RF_COUNT; f++) {
		if (f == RF_DIRTY)
			continue;
		keys[nkeys].name = region_field_name((enum region_field)f);
		keys[nkeys].len = strlen(keys[nkeys].name);
		keys[nkeys].field = f;
		nkeys++;
	}
	keys[nkeys++] = (struct keyinfo){ "THPeligible", 11, KEY_THP };
	keys[nkeys++] = (struct keyinfo){ "VmFlags", 7, KEY_VMFLAGS };
}

/* Look the key up, trying the entry after the previous hit first: the kernel prints the
 * fields in a fixed order, so this is one comparison per line in practice. */
static int lookup_key(const char *k, size_t len, size_t *hint)
{
	size_t i = *hint;

	for (size_t n = 0; n < nkeys; n++, i++) {
		if (i >= nkeys)
			i = 0;
		if (keys[i].len == len && !memcmp(keys[i].name, k, len)) {
			*hint = i + 1;
			return (int)i;
		}
	}
	return -1;
}

static void parse_vmflags(struct snapshot *s, struct region *r, const char *p, const char *end)
{
	const char *q;

	p = skip_sp(p, end);
	q = end;
	while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	r->vmflags = snapshot_strdup(s, p, (size_t)(q - p));
	while (p < q) {
		const char *t = skip_nonsp(p, q);
		if (t - p == 2)
			r->vmflags_mask |= region_vmflag_bit(p);
		p = skip_sp(t, q);
	}
}

static int parse_field(struct snapshot *s, const struct line *ln, size_t *hint,
		       struct rw_err *err)
{
	const char *p = ln->p, *end = ln->end, *colon;
	struct region *r;
	int ki;
	uint64_t v;

	for (colon = p; colon < end && *colon != ':' && *colon != ' ' && *colon != '\t'; colon++)
		;
	if (colon == end || *colon != ':' || colon == p)
		return perr(err, ln, "not a smaps line (expected 'Key: value' or a region header)");
	if (!s->count)
		return perr(err, ln, "field line before any region header");
	r = &s->regions[s->count - 1];
	ki = lookup_key(p, (size_t)(colon - p), hint);
	if (ki < 0)
		return 0;       /* unknown key: ignored, as the kernel adds fields over time */
	p = skip_sp(colon + 1, end);
	if (keys[ki].field == KEY_VMFLAGS) {
		parse_vmflags(s, r, p, end);
		return 0;
	}
	if (take_dec(&p, end, &v))
		return perr(err, ln, "bad number in field");
	p = skip_sp(p, end);
	if (keys[ki].field == KEY_THP) {
		if (p != end)
			return perr(err, ln, "bad number in field");
		r->thp_eligible = v > 0;
		return 0;
	}
	if (end - p == 2 && p[0] == 'k' && p[1] == 'B') {
		if (v > UINT64_MAX / 1024)
			return perr(err, ln, "number out of range");
		v *= 1024;
	} else if (p != end) {
		return perr(err, ln, "bad number in field (expected 'N kB')");
	}
	r->f[keys[ki].field] = v;
	s->fields_present |= 1u << keys[ki].field;
	return 0;
}

/* A thread's stack pointer and its place among the '# thread' lines. */
struct smaps_sp {
	uint64_t sp;
	size_t idx;
};

static int cmp_sp(const void *x, const void *y)
{
	const struct smaps_sp *a = x, *b = y;
	if (a->sp != b->sp)
		return a->sp < b->sp ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* snapshot_label_stack for one region: of the threads whose sp it holds, the first in the
 * header names it (later calls of snapshot_label_stack change nothing). */
static void stream_label(struct smaps_parser *ps, struct region *r)
{
	struct snapshot *s = ps->s;
	size_t lo = 0, hi, best = SIZE_MAX;

	if (ps->sps_threads != s->nthreads) {
		ps->sps = xreallocarray(ps->sps, s->nthreads, sizeof(*ps->sps));
		ps->nsps = 0;
		for (size_t i = 0; i < s->nthreads; i++)
			if (s->threads[i].sp)
				ps->sps[ps->nsps++] = (struct smaps_sp){ s->threads[i].sp, i };
		qsort(ps->sps, ps->nsps, sizeof(*ps->sps), cmp_sp);
		ps->sps_threads = s->nthreads;
	}
	if (!ps->nsps)
		return;
	hi = ps->nsps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ps->sps[mid].sp >= r->start)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (size_t i = lo; i < ps->nsps && ps->sps[i].sp < r->end; i++)
		if (ps->sps[i].idx < best)
			best = ps->sps[i].idx;
	if (best != SIZE_MAX)
		region_label_stack(s, r, s->threads[best].tid, s->threads[best].comm);
}

/* Hand out the first n regions of the window and drop them. */
static void stream_emit(struct smaps_parser *ps, size_t n)
{
	struct snapshot *s = ps->s;

	for (size_t i = 0; i < n; i++) {
		struct region *r = &s->regions[i];
		const struct region *prev = i ? r - 1 : ps->emitted ? &ps->before : NULL;
		if (!(s->fields_present & (1u << RF_SIZE)))
			r->f[RF_SIZE] = r->end - r->start;      /* maps text: as finish does */
		r->kind = (uint8_t)region_classify(r, prev, i + 1 < s->count ? r + 1 : NULL);
		stream_label(ps, r);
		ps->emit(ps->emit_ctx, r);
		ps->emitted++;
	}
	if (!n)
		return;
	ps->before = s->regions[n - 1];
	ps->before.path = ps->before.vmflags = "";     /* only its span and perms are used */
	memmove(s->regions, s->regions + n, (s->count - n) * sizeof(*s->regions));
	s->count -= n;
	/* The dropped regions' strings are garbage in the pool: keep it at about 1 MiB. */
	if (snapshot_pool_blocks(s) > 16) {
		snapshot_repool(s);
		ps->last_path = NULL;
		ps->last_path_len = 0;
	}
}

void smaps_parser_stream(struct smaps_parser *ps, smaps_region_fn fn, void *ctx)
{
	ps->emit = fn;
	ps->emit_ctx = ctx;
}

/* Complete lines [it->p, it->end) of smaps or maps text; only the last may lack its newline
 * (the end of the text). Lines before the first region that are blank or '#' are our header. */
static int parse_lines(struct smaps_parser *ps, struct lines *it, struct rw_err *err)
{
	struct snapshot *s = ps->s;
	struct line ln;
	int rc;

	for (;;) {
		/* Fast path for the kernel's own layout: the expected key, spaces, digits, " kB".
		 * Anything else falls through to the general line parser below. */
		if (s->count && ps->hint < nkeys) {
			const struct keyinfo *k = &keys[ps->hint];
			const char *p = it->p, *end = it->end;
			if ((size_t)(end - p) > k->len + 4 && k->field >= 0 && p[k->len] == ':' &&
			    !memcmp(p, k->name, k->len)) {
				uint64_t v = 0;
				const char *q = p + k->len + 1;
				int digits = 0;
				while (q < end && *q == ' ')
					q++;
				while (q < end && *q >= '0' && *q <= '9' && digits < 16) {
					v = v * 10 + (uint64_t)(*q - '0');
					q++;
					digits++;
				}
				if (digits && digits < 16 && end - q >= 4 && q[0] == ' ' && q[1] == 'k' &&
				    q[2] == 'B' && q[3] == '\n') {
					s->regions[s->count - 1].f[k->field] = v * 1024;
					s->fields_present |= 1u << k->field;
					ps->any_fields = 1;
					it->p = q + 4;
					it->no++;
					ps->hint++;
					continue;
				}
			}
		}
		if (!next_line(it, &ln))
			return 0;
		if (!ps->in_regions) {
			if (is_comment_or_blank(&ln)) {
				if (ln.p < ln.end && *ln.p == '#')
					parse_meta_line(s, &ln);
				continue;
			}
			ps->in_regions = 1;
		}
		if (ln.p == ln.end)
			continue;
		if (is_region_header(&ln)) {
			if (s->meta.end_seen)
				return perr(err, &ln, "region after the snapshot's closing '# end' line");
			/* The regions before this header are complete; keep a window of them. */
			if (ps->emit && s->count >= 2 * SMAPS_STREAM_WINDOW)
				stream_emit(ps, s->count - SMAPS_STREAM_WINDOW);
			rc = parse_header(s, &ln, &ps->last_path, &ps->last_path_len, ps->emitted, err);
			ps->hint = 0;
		} else if (*ln.p == '#') {
			if (s->meta.version >= 2)
				parse_meta_line(s, &ln);
			continue;
		} else {
			rc = parse_field(s, &ln, &ps->hint, err);
			ps->any_fields = 1;
		}
		if (rc)
			return rc;
	}
}

void smaps_parser_init(struct smaps_parser *ps, struct snapshot *s)
{
	init_keys();
	memset(ps, 0, sizeof(*ps));
	ps->s = s;
}

static void carry_append(struct smaps_parser *ps, const char *p, size_t n)
{
	if (ps->carry_len + n > ps->carry_cap) {
		ps->carry_cap = (ps->carry_len + n) * 2 + 256;
		ps->carry = xrealloc(ps->carry, ps->carry_cap);
	}
	memcpy(ps->carry + ps->carry_len, p, n);
	ps->carry_len += n;
}

static int parse_run(struct smaps_parser *ps, const char *p, const char *end, struct rw_err *err)
{
	struct lines it = { p, end, ps->no };
	int rc = parse_lines(ps, &it, err);

	ps->no = it.no;
	if (rc)
		ps->rc = rc;
	return rc;
}

int smaps_parser_feed(struct smaps_parser *ps, const char *buf, size_t len, struct rw_err *err)
{
	const char *p = buf, *end = buf + len, *nl, *nul;

	if (ps->rc)
		return ps->rc;
	nul = memchr(buf, '\0', len);
	if (nul) {
		/* the line number smaps_parse gives: the lines before this piece, then its own */
		size_t no = ps->no + 1;
		for (const char *q = buf; q < nul; q++)
			no += *q == '\n';
		ps->rc = rw_err_set(err, EINVAL, "line %zu: binary data (NUL byte): not smaps or "
				    "pmap text", no);
		return ps->rc;
	}
	if (ps->carry_len) {
		/* finish the line the previous piece cut */
		nl = memchr(p, '\n', len);
		carry_append(ps, p, nl ? (size_t)(nl + 1 - p) : len);
		if (!nl)
			return 0;
		p = nl + 1;
		if (parse_run(ps, ps->carry, ps->carry + ps->carry_len, err))
			return ps->rc;
		ps->carry_len = 0;
	}
	nl = p < end ? memrchr(p, '\n', (size_t)(end - p)) : NULL;
	if (nl) {
		if (parse_run(ps, p, nl + 1, err))
			return ps->rc;
		p = nl + 1;
	}
	if (p < end)
		carry_append(ps, p, (size_t)(end - p));
	return 0;
}

static int parser_finish(struct smaps_parser *ps, struct rw_err *err);

int smaps_parser_finish(struct smaps_parser *ps, struct rw_err *err)
{
	int rc = parser_finish(ps, err);

	/* after the last regions are handed out: stream_label uses the sorted stack pointers */
	free(ps->sps);
	ps->sps = NULL;
	ps->nsps = ps->sps_threads = 0;
	return rc;
}

static int parser_finish(struct smaps_parser *ps, struct rw_err *err)
{
	struct snapshot *s = ps->s;
	int rc = ps->rc;

	if (!rc && ps->carry_len)
		rc = parse_run(ps, ps->carry, ps->carry + ps->carry_len, err);
	free(ps->carry);
	ps->carry = NULL;
	ps->carry_len = ps->carry_cap = 0;
	if (rc || !ps->in_regions)
		return rc;      /* nothing but our header, or nothing: a snapshot with no regions */
	s->format = ps->any_fields ? SNAP_FMT_SMAPS : SNAP_FMT_MAPS;
	/* A region without a Size line (maps text) still has a size. */
	if (!(s->fields_present & (1u << RF_SIZE)))
		for (size_t i = 0; i < s->count; i++)
			s->regions[i].f[RF_SIZE] = s->regions[i].end - s->regions[i].start;
	s->fields_present |= 1u << RF_SIZE;
	if (s->meta.version >= 2) {
		/* Ours, from version 2: the closing line is written last, so a file without it (or
		 * with other numbers) was cut short or edited. */
		if (!s->meta.end_seen)
			return rw_err_set(err, EINVAL, "line %zu: snapshot cut short: it ends here, "
					  "without its closing '# end' line", ps->no);
		if (s->meta.end_regions != ps->emitted + s->count)
			return rw_err_set(err, EINVAL, "snapshot incomplete: its '# end' line says %zu "
					  "regions, %zu were read", s->meta.end_regions,
					  ps->emitted + s->count);
	}
	if (ps->emit)
		stream_emit(ps, s->count);
	return 0;
}

int smaps_sniff(const char *buf, size_t len, int final)
{
	struct lines it = { buf, buf + len, 0 };
	struct line ln;

	while (next_line(&it, &ln)) {
		if (!final && it.p == buf + len && buf[len - 1] != '\n')
			return -1;      /* cut by the end of what was read so far */
		if (!is_comment_or_blank(&ln))
			return is_region_header(&ln);
	}
	return final ? 1 : -1;  /* only a header, or nothing: the parser says so */
}

/* The smaps text from it->p on, through the incremental parser, in one piece. */
static int parse_smaps(struct snapshot *s, const struct lines *it, int in_regions,
		       struct rw_err *err)
{
	struct smaps_parser ps;
	int rc;

	smaps_parser_init(&ps, s);
	ps.no = it->no;
	ps.in_regions = in_regions;
	rc = smaps_parser_feed(&ps, it->p, (size_t)(it->end - it->p), err);
	if (rc) {
		free(ps.carry);
		return rc;
	}
	return smaps_parser_finish(&ps, err);
}

/* ---- pmap ---------------------------------------------------------------------------- */

/* "PID:   command line" (pmap's first line). The pid may have been edited out of a
 * capture (e.g. "PID:"), so only "word:" is required. */
static int parse_pmap_title(struct snapshot *s, const struct line *ln)
{
	const char *p = ln->p, *w = skip_nonsp(ln->p, ln->end);
	uint64_t pid;

	if (w == p || w[-1] != ':')
		return -1;
	if (!take_dec(&p, ln->end, &pid) && p == w - 1 && pid <= 0x3fffffff)
		s->meta.pid = (int)pid;
	p = skip_sp(w, ln->end);
	s->meta.cmdline = snapshot_strdup(s, p, (size_t)(ln->end - p));
	return 0;
}

static int line_has_word(const struct line *ln, const char *w, const char **at)
{
	size_t n = strlen(w);
	const char *p = ln->p;

	while (p < ln->end) {
		p = skip_sp(p, ln->end);
		const char *t = skip_nonsp(p, ln->end);
		if ((size_t)(t - p) == n && !memcmp(p, w, n)) {
			if (at)
				*at = p;
			return 1;
		}
		p = t;
	}
	return 0;
}

static int looks_like_pmap_header(const struct line *ln)
{
	return line_has_word(ln, "Address", NULL) &&
	       (line_has_word(ln, "Kbytes", NULL) || line_has_word(ln, "Perm", NULL));
}

/* pmap shows "[ anon ]", "[ stack ]"; normalise to the kernel's spelling. */
static const char *pmap_path(struct snapshot *s, const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (n == 8 && !memcmp(p, "[ anon ]", 8))
		return "";
	if (n == 9 && !memcmp(p, "[ stack ]", 9))
		return "[stack]";
	if (n == 8 && !memcmp(p, "[ heap ]", 8))
		return "[heap]";
	return snapshot_strdup(s, p, n);
}

static int take_kb(const char **pp, const char *end, uint64_t *out)
{
	uint64_t v;

	*pp = skip_sp(*pp, end);
	if (*pp < end && **pp == '-' && (*pp + 1 == end || (*pp)[1] == ' ')) {
		(*pp)++;          /* older pmap prints '-' for zero */
		*out = 0;
		return 0;
	}
	if (take_dec(pp, end, &v) || v > UINT64_MAX / 1024 || (*pp < end && **pp != ' '))
		return -1;
	*out = v * 1024;
	return 0;
}

/* Address  Kbytes  RSS  Dirty  Mode  Mapping */
static int parse_pmap_x(struct snapshot *s, struct lines *it, struct rw_err *err)
{
	struct line ln;

	s->format = SNAP_FMT_PMAP_X;
	s->fields_present = (1u << RF_SIZE) | (1u << RF_RSS) | (1u << RF_DIRTY);
	while (next_line(it, &ln)) {
		const char *p = skip_sp(ln.p, ln.end), *end = ln.end;
		struct region *r;
		uint64_t size;

		if (p == end)
			continue;
		if (*p == '-' || (end - p >= 5 && !memcmp(p, "total", 5)))
			break;                          /* the totals footer */
		r = snapshot_add(s);
		if (take_hex(&p, end, &r->start) || p >= end || *p != ' ')
			return perr(err, &ln, "bad address in pmap -x line");
		if (take_kb(&p, end, &size) || take_kb(&p, end, &r->f[RF_RSS]) ||
		    take_kb(&p, end, &r->f[RF_DIRTY]))
			return perr(err, &ln, "bad number in pmap -x line");
		p = skip_sp(p, end);
		if (end - p < 5 || (end - p > 5 && p[5] != ' '))
			return perr(err, &ln, "bad mode in pmap -x line");
		r->perms[0] = p[0] == 'r' ? 'r' : '-';
		r->perms[1] = p[1] == 'w' ? 'w' : '-';
		r->perms[2] = p[2] == 'x' ? 'x' : '-';
		r->perms[3] = p[3] == 's' ? 's' : 'p';
		r->perms[4] = '\0';
		p = skip_sp(p + 5, end);
		r->path = pmap_path(s, p, end);
		r->f[RF_SIZE] = size;
		if (size > UINT64_MAX - r->start)
			return perr(err, &ln, "region size out of range");
		r->end = r->start + size;
		if (check_order(s, r, &ln, 0, err))
			return -EINVAL;
	}
	return 0;
}

#define PMAP_MAX_COLS 64

/* Address Perm Offset Device Inode <smaps fields...> [VmFlags] Mapping */
static int parse_pmap_X(struct snapshot *s, struct lines *it, const struct line *hdr,
			struct rw_err *err)
{
	int col_field[PMAP_MAX_COLS];
	int ncols = 0, has_vmflags = 0;
	size_t mapping_col = 0;
	const char *p = hdr->p;
	struct line ln;

	init_keys();
	s->format = SNAP_FMT_PMAP_XX;
	/* The header names the columns after Inode with the kernel's smaps keys. */
	for (int word = 0; p < hdr->end; word++) {
		const char *w;
		size_t hint = 0;
		int ki;

		p = skip_sp(p, hdr->end);
		if (p >= hdr->end)
			break;
		w = p;
		p = skip_nonsp(p, hdr->end);
		if (word < 5)
			continue;           /* Address Perm Offset Device Inode */
		if ((size_t)(p - w) == 7 && !memcmp(w, "Mapping", 7)) {
			mapping_col = (size_t)(w - hdr->p);
			break;
		}
		if ((size_t)(p - w) == 7 && !memcmp(w, "VmFlags", 7)) {
			has_vmflags = 1;
			continue;
		}
		if (ncols == PMAP_MAX_COLS)
			return perr(err, hdr, "too many columns in pmap header");
		ki = lookup_key(w, (size_t)(p - w), &hint);
		col_field[ncols++] = ki < 0 ? -1 : keys[ki].field;
	}
	if (!mapping_col)
		return perr(err, hdr, "pmap -X header without a Mapping column");
	for (int c = 0; c < ncols; c++)
		if (col_field[c] >= 0)
			s->fields_present |= 1u << col_field[c];
	s->fields_present |= 1u << RF_SIZE;

	while (next_line(it, &ln)) {
		const char *end = ln.end;
		struct region *r;
		uint64_t v;

		p = skip_sp(ln.p, end);
		if (p == end)
			continue;
		if (*p == '=')
			break;                          /* the "====" rule before the totals line */
		r = snapshot_add(s);
		if (take_hex(&p, end, &r->start) || p >= end || *p != ' ')
			return perr(err, &ln, "bad address in pmap -X line");
		p = skip_sp(p, end);
		if (end - p < 4 || !valid_perms(p))
			return perr(err, &ln, "bad permissions in pmap -X line");
		memcpy(r->perms, p, 4);
		p = skip_sp(p + 4, end);
		if (take_hex(&p, end, &r->offset))
			return perr(err, &ln, "bad offset in pmap -X line");
		p = skip_sp(p, end);
		if (take_hex(&p, end, &v) || p >= end || *p++ != ':')
			return perr(err, &ln, "bad device in pmap -X line");
		r->dev_major = (uint32_t)v;
		if (take_hex(&p, end, &v))
			return perr(err, &ln, "bad device in pmap -X line");
		r->dev_minor = (uint32_t)v;
		p = skip_sp(p, end);
		if (take_dec(&p, end, &r->inode))
			return perr(err, &ln, "bad inode in pmap -X line");
		for (int c = 0; c < ncols; c++) {
			p = skip_sp(p, end);
			if (take_dec(&p, end, &v) || (p < end && *p != ' '))
				return perr(err, &ln, "bad number in pmap -X line");
			if (col_field[c] >= 0) {
				if (v > UINT64_MAX / 1024)
					return perr(err, &ln, "number out of range");
				r->f[col_field[c]] = v * 1024;
			}
		}
		/* pmap right-aligns VmFlags under its header and starts Mapping at the header's
		 * Mapping column; use that, since both may contain spaces. */
		{
			const char *mp = ln.p + mapping_col;
			if (mp > end)
				mp = end;
			if (mp < p || (mp > ln.p && mp < end && mp[-1] != ' ')) {
				/* Not aligned (hand-edited text): flags are 2-letter known codes. */
				mp = skip_sp(p, end);
				if (has_vmflags)
					while (end - mp >= 2 && region_vmflag_bit(mp) &&
					       (end - mp == 2 || mp[2] == ' '))
						mp = skip_sp(mp + 2, end);
			}
			if (has_vmflags)
				parse_vmflags(s, r, p, mp);
			p = skip_sp(mp, end);
		}
		r->path = p < end ? pmap_path(s, p, end) : "";
		if (r->f[RF_SIZE] > UINT64_MAX - r->start)
			return perr(err, &ln, "region size out of range");
		r->end = r->start + r->f[RF_SIZE];
		if (check_order(s, r, &ln, 0, err))
			return -EINVAL;
	}
	return 0;
}

/* ---- our header -------------------------------------------------------------------- */

static void parse_meta_line(struct snapshot *s, const struct line *ln)
{
	const char *p = skip_sp(ln->p + 1, ln->end), *k = p, *v;
	size_t klen;
	uint64_t n;

	p = skip_nonsp(p, ln->end);
	klen = (size_t)(p - k);
	v = skip_sp(p, ln->end);
	if (klen == 20 && !memcmp(k, "regionwatch-snapshot", 20)) {
		if (!take_dec(&v, ln->end, &n) && n < 1000)
			s->meta.version = (int)n;
	} else if (klen == 3 && !memcmp(k, "pid", 3)) {
		if (!take_dec(&v, ln->end, &n) && n <= 0x3fffffff)
			s->meta.pid = (int)n;
	} else if (klen == 4 && !memcmp(k, "time", 4)) {
		if (!take_dec(&v, ln->end, &n))
			s->meta.time = (double)n;
	} else if (klen == 11 && !memcmp(k, "start_ticks", 11)) {
		if (!take_dec(&v, ln->end, &n))
			s->meta.start_ticks = n;
	} else if (klen == 4 && !memcmp(k, "comm", 4)) {
		s->meta.comm = snapshot_strdup(s, v, (size_t)(ln->end - v));
	} else if (klen == 7 && !memcmp(k, "cmdline", 7)) {
		s->meta.cmdline = snapshot_strdup(s, v, (size_t)(ln->end - v));
	} else if (klen == 6 && !memcmp(k, "kernel", 6)) {
		s->meta.kernel = snapshot_strdup(s, v, (size_t)(ln->end - v));
	} else if (klen == 3 && !memcmp(k, "end", 3)) {
		/* "# end N regions, M torn" */
		uint64_t regions, torn;
		const char *q = v;
		if (take_dec(&q, ln->end, &regions) || ln->end - q < 9 || memcmp(q, " regions,", 9))
			return;
		q = skip_sp(q + 9, ln->end);
		if (take_dec(&q, ln->end, &torn))
			return;
		s->meta.end_seen = 1;
		s->meta.end_regions = (size_t)regions;
		s->meta.end_torn = (size_t)torn;
	} else if (klen == 6 && !memcmp(k, "thread", 6)) {
		/* "# thread TID 0xSP COMM" */
		uint64_t tid, sp;
		const char *q = v;
		if (take_dec(&q, ln->end, &tid) || tid > 0x3fffffff)
			return;
		q = skip_sp(q, ln->end);
		if (ln->end - q > 2 && q[0] == '0' && q[1] == 'x')
			q += 2;
		if (take_hex(&q, ln->end, &sp))
			return;
		q = skip_sp(q, ln->end);
		if (s->nthreads == s->threads_cap) {
			s->threads_cap = s->threads_cap ? s->threads_cap * 2 : 16;
			s->threads = xreallocarray(s->threads, s->threads_cap, sizeof(*s->threads));
		}
		s->threads[s->nthreads++] = (struct snapshot_thread){ (int)tid, sp,
			snapshot_strdup(s, q, (size_t)(ln->end - q)) };
	}
}

size_t smaps_format_header(char *out, size_t outlen, const struct snapshot_meta *m)
{
	char comm[256], cmd[2048], kern[256];
	int n = snprintf(out, outlen,
			 "%s %d\n# pid %d\n# time %.0f\n# start_ticks %llu\n# comm %s\n"
			 "# cmdline %s\n# kernel %s\n",
			 SMAPS_HEADER_MAGIC, SMAPS_FORMAT_VERSION, m->pid, m->time,
			 m->start_ticks, escape_ctl(m->comm, comm, sizeof(comm)),
			 escape_ctl(m->cmdline, cmd, sizeof(cmd)),
			 escape_ctl(m->kernel, kern, sizeof(kern)));
	return n < 0 ? 0 : (size_t)n;
}

size_t smaps_format_end(char *out, size_t outlen, size_t regions, size_t torn)
{
	int n = snprintf(out, outlen, "# end %zu regions, %zu torn\n", regions, torn);
	return n < 0 ? 0 : (size_t)n;
}

/* One line start (at least the "START-END " part, or the whole line if shorter). */
static void tally_line(struct smaps_tally *t, const char *p, size_t len)
{
	struct line ln = { p, p + len, 0 };
	uint64_t start, end;
	const char *q = p;

	if (!is_region_header(&ln) || take_hex(&q, ln.end, &start) || q >= ln.end || *q++ != '-' ||
	    take_hex(&q, ln.end, &end) || end <= start)
		return;
	/* The rule of check_order: the later record replaces those it overlaps. */
	while (t->n && t->spans[2 * t->n - 1] > start && t->spans[2 * t->n - 2] < end) {
		t->n--;
		t->torn++;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->spans = xreallocarray(t->spans, t->cap, 2 * sizeof(*t->spans));
	}
	t->spans[2 * t->n] = start;
	t->spans[2 * t->n + 1] = end;
	t->n++;
}

void smaps_tally_feed(struct smaps_tally *t, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		if (t->in_line) {
			/* finish the line the last piece cut */
			size_t n = (size_t)(stop - p);
			if (n > sizeof(t->head) - t->head_len)
				n = sizeof(t->head) - t->head_len;
			memcpy(t->head + t->head_len, p, n);
			t->head_len += n;
			if (nl) {
				tally_line(t, t->head, t->head_len);
				t->in_line = 0;
			}
		} else if (nl) {
			size_t n = (size_t)(nl - p);
			tally_line(t, p, n < sizeof(t->head) ? n : sizeof(t->head));
		} else {
			size_t n = (size_t)(end - p);
			if (n > sizeof(t->head))
				n = sizeof(t->head);
			memcpy(t->head, p, n);
			t->head_len = n;
			t->in_line = 1;
		}
		p = nl ? nl + 1 : end;
	}
}

size_t smaps_tally_finish(struct smaps_tally *t)
{
	size_t n;

	if (t->in_line)
		tally_line(t, t->head, t->head_len);
	n = t->n;
	free(t->spans);
	t->spans = NULL;
	t->n = t->cap = 0;
	t->in_line = 0;
	return n;
}

int smaps_parse(const char *buf, size_t len, struct snapshot *s, struct rw_err *err)
{
	struct lines it = { buf, buf + len, 0 };
	struct lines peek;
	struct line ln;
	const char *nul = memchr(buf, '\0', len);

	if (nul) {
		size_t no = 1;
		for (const char *q = buf; q < nul; q++)
			no += *q == '\n';
		return rw_err_set(err, EINVAL, "line %zu: binary data (NUL byte): not smaps or pmap text",
				  no);
	}
	/* Leading '#' lines are our header; blank lines are tolerated. smaps and maps text (and
	 * text of only a header) go to the incremental parser, which reads the header itself. */
	for (;;) {
		peek = it;
		if (!next_line(&peek, &ln) || !is_comment_or_blank(&ln))
			break;
		it = peek;
	}
	if (it.p >= it.end || is_region_header(&ln)) {
		it.p = buf;
		it.no = 0;
		return parse_smaps(s, &it, 0, err);
	}
	for (struct lines h = { buf, it.p, 0 }; next_line(&h, &ln);)
		if (ln.p < ln.end && *ln.p == '#')
			parse_meta_line(s, &ln);
	peek = it;
	next_line(&peek, &ln);
	/* pmap: an optional "PID:   cmd" title, then its column header. Anything else is
	 * parsed as smaps, which names the first line that is not. */
	if (!looks_like_pmap_header(&ln)) {
		struct lines after = peek;
		struct line next;
		int titled = 0;
		while (next_line(&after, &next))
			if (next.p != next.end) {
				titled = looks_like_pmap_header(&next);
				break;
			}
		if (!titled || parse_pmap_title(s, &ln))
			return parse_smaps(s, &it, 1, err);
		it = peek;
		do
			next_line(&it, &ln);
		while (ln.p == ln.end);
	} else {
		it = peek;
	}
	if (line_has_word(&ln, "Kbytes", NULL) && line_has_word(&ln, "RSS", NULL) &&
	    line_has_word(&ln, "Mode", NULL))
		return parse_pmap_x(s, &it, err);
	if (line_has_word(&ln, "Perm", NULL) && line_has_word(&ln, "Mapping", NULL))
		return parse_pmap_X(s, &it, &ln, err);
	if (line_has_word(&ln, "Kbytes", NULL))
		return perr(err, &ln, "plain 'pmap' output has no RSS; capture with pmap -x or -X");
	return perr(err, &ln, "not smaps, maps or pmap -x/-X output");
}
