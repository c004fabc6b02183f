/* out_json: JSON documents through jansson. Integers are bytes; addresses are lowercase hex
 * strings with 0x (design §5). */
#include "out_json.h"
#include "trigger.h"
#include "inspect.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_t *jaddr(uint64_t a)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)a);
	return json_string(buf);
}

/* The end of [start, end): a range that reaches the top of the address space ends at 2^64,
 * which wraps to 0 in 64 bits; the JSON string can say it. */
static json_t *jend(uint64_t start, uint64_t end)
{
	return end == 0 && start != 0 ? json_string("0x10000000000000000") : jaddr(end);
}

/* jansson wants UTF-8; paths are bytes. A string that is valid UTF-8 is kept exactly. In
 * one that is not, each byte outside a valid sequence becomes the text "\xNN" and each
 * backslash "\\", so the bytes can be told apart from a path that spells "\x41". */
static json_t *jstr(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *buf;
	json_t *j;

	j = json_stringn(s, n);
	if (j)
		return j;
	buf = xmalloc(n * 4 + 1);       /* \xNN for a byte is the most it grows */
	for (size_t i = 0; i < n; ) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		int ok = len && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (ok && len > 1 && !json_stringn(s + i, len))
			ok = 0;   /* overlong or surrogate: let jansson judge */
		if (ok && c == '\\') {
			buf[o++] = '\\';
			buf[o++] = '\\';
			i++;
		} else if (ok) {
			memcpy(buf + o, s + i, len);
			o += len;
			i += len;
		} else {
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
			i++;
		}
	}
	j = json_stringn(buf, o);
	free(buf);
	return j ? j : json_string("");
}

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *jknown(int known, uint64_t v)
{
	return known ? jint(v) : json_null();
}

/* jansson's output with JSON_ENSURE_ASCII is ASCII, but it leaves DEL raw inside strings
 * (valid JSON, still a control byte on a terminal): write it as \u007f, which is the same
 * JSON. A raw 0x7f can only occur inside a string. */
static int emit(const char *buf, size_t size, void *data)
{
	FILE *fp = data;

	for (const char *p = buf, *end = buf + size; p < end;) {
		const char *del = memchr(p, 0x7f, (size_t)(end - p));
		size_t n = del ? (size_t)(del - p) : (size_t)(end - p);
		if (n && fwrite(p, 1, n, fp) != n)
			return -1;
		if (!del)
			break;
		if (fputs("\\u007f", fp) < 0)
			return -1;
		p = del + 1;
	}
	return 0;
}

static int dump_flags(FILE *fp, json_t *doc, size_t flags)
{
	int rc = json_dump_callback(doc, emit, fp, flags | JSON_ENSURE_ASCII);
	json_decref(doc);
	if (rc == 0)
		fputc('\n', fp);
	return rc;
}

static int dump(FILE *fp, json_t *doc)
{
	return dump_flags(fp, doc, JSON_COMPACT);
}

static json_t *snapshot_json(const char *name, const struct snapshot *s, size_t regions)
{
	static const char *const fmts[] = { "smaps", "maps", "pmap-x", "pmap-X" };
	json_t *o = json_object();

	json_object_set_new(o, "file", jstr(name));
	json_object_set_new(o, "format", json_string(fmts[s->format]));
	json_object_set_new(o, "pid", s->meta.pid ? json_integer(s->meta.pid) : json_null());
	json_object_set_new(o, "time", s->meta.time > 0 ? json_real(s->meta.time) : json_null());
	json_object_set_new(o, "comm", jstr(s->meta.comm));
	json_object_set_new(o, "regions", jint(regions));
	json_object_set_new(o, "torn_records", jint(s->torn));
	return o;
}

static int emit_str(FILE *fp, const char *text)
{
	return emit(text, strlen(text), fp);
}

/* The document is written in pieces so rows can be written as they are made: the regions
 * array first, then the inputs (their region counts are known at the end) and the totals.
 * Object members have no order in JSON (RFC 8259, section 4). */
int out_json_diff_begin(FILE *fp)
{
	return emit_str(fp, "{\"type\":\"diff\",\"regions\":[");
}

int out_json_diff_row(FILE *fp, const struct diff_row *row, int anon, int swap, int first)
{
	json_t *j = json_object();
	int rc;

	json_object_set_new(j, "start", jaddr(row->start));
	json_object_set_new(j, "end", jaddr(row->end));
	json_object_set_new(j, "perms", json_string(row->perms));
	json_object_set_new(j, "path", jstr(row->rep->path));
	json_object_set_new(j, "kind", json_string(region_kind_name(row->rep->kind)));
	json_object_set_new(j, "status", json_string(diff_status_name(row->status)));
	json_object_set_new(j, "rss_a", jint(row->rss_a));
	json_object_set_new(j, "rss_b", jint(row->rss_b));
	json_object_set_new(j, "delta", json_integer(row->delta));
	json_object_set_new(j, "size_a", jint(row->size_a));
	json_object_set_new(j, "size_b", jint(row->size_b));
	json_object_set_new(j, "anon_a", jknown(anon, row->anon_a));
	json_object_set_new(j, "anon_b", jknown(anon, row->anon_b));
	json_object_set_new(j, "swap_a", jknown(swap, row->swap_a));
	json_object_set_new(j, "swap_b", jknown(swap, row->swap_b));
	json_object_set_new(j, "vmas_a", jint(row->nregions_a));
	json_object_set_new(j, "vmas_b", jint(row->nregions_b));
	rc = first ? 0 : emit_str(fp, ",");
	if (!rc)
		rc = json_dump_callback(j, emit, fp, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	return rc;
}

int out_json_diff_end(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		      const struct diff_totals *t, const struct diff_json_opts *o)
{
	json_t *doc = json_object(), *tot = json_object();
	int anon = t->anon_known, swap = t->swap_known, rc;
	char *text;

	json_object_set_new(doc, "a", snapshot_json(o->name_a, a, t->regions_a));
	json_object_set_new(doc, "b", snapshot_json(o->name_b, b, t->regions_b));
	json_object_set_new(tot, "rss_a", jint(t->rss_a));
	json_object_set_new(tot, "rss_b", jint(t->rss_b));
	json_object_set_new(tot, "rss_delta", json_integer((json_int_t)(t->rss_b - t->rss_a)));
	json_object_set_new(tot, "anon_a", jknown(anon, t->anon_a));
	json_object_set_new(tot, "anon_b", jknown(anon, t->anon_b));
	json_object_set_new(tot, "anon_delta",
			    anon ? json_integer((json_int_t)(t->anon_b - t->anon_a)) : json_null());
	json_object_set_new(tot, "swap_a", jknown(swap, t->swap_a));
	json_object_set_new(tot, "swap_b", jknown(swap, t->swap_b));
	json_object_set_new(tot, "swap_delta",
			    swap ? json_integer((json_int_t)(t->swap_b - t->swap_a)) : json_null());
	json_object_set_new(tot, "size_a", jint(t->size_a));
	json_object_set_new(tot, "size_b", jint(t->size_b));
	json_object_set_new(tot, "vmas_a", jint(t->regions_a));
	json_object_set_new(tot, "vmas_b", jint(t->regions_b));
	json_object_set_new(doc, "totals", tot);
	text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(doc);
	if (!text || text[0] != '{') {
		free(text);
		return -1;
	}
	/* "],"  then the members of that object, with its closing brace */
	rc = emit_str(fp, "],");
	if (!rc)
		rc = emit_str(fp, text + 1);
	free(text);
	if (!rc && fputc('\n', fp) == EOF)
		rc = -1;
	return rc;
}

int out_json_diff(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		  const struct diff_result *r, const struct diff_json_opts *o)
{
	int rc = out_json_diff_begin(fp), first = 1;

	for (size_t i = 0; i < r->count && !rc; i++) {
		if (!diff_row_shown(&r->rows[i], o->all, o->min_delta))
			continue;
		rc = out_json_diff_row(fp, &r->rows[i], r->totals.anon_known, r->totals.swap_known,
				       first);
		first = 0;
	}
	return rc ? rc : out_json_diff_end(fp, a, b, &r->totals, o);
}

#define CONTENT_TEXT_MAX 200   /* bytes of a string or match in the content block */
#define CONTENT_MATCHES_MAX 20

static json_t *jtext(const char *s)
{
	char buf[CONTENT_TEXT_MAX + 1];
	size_t n = strlen(s);

	if (n <= CONTENT_TEXT_MAX)
		return jstr(s);
	memcpy(buf, s, CONTENT_TEXT_MAX);
	buf[CONTENT_TEXT_MAX] = 0;
	return jstr(buf);
}

static json_t *tops_json(const struct inspect_top *t, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "text", jtext(t[i].text));
		json_object_set_new(o, "count", jint(t[i].count));
		json_array_append_new(a, o);
	}
	return a;
}

/* watch --content, one hop: what the pointers of the new pages point at. */
static json_t *pointees_json(const struct inspect_growth *g)
{
	json_t *j = json_object(), *into = json_object(), *map;

	json_object_set_new(j, "targets_sampled", jint(g->hop_sampled));
	json_object_set_new(j, "targets", jint(g->hop_targets));
	json_object_set_new(j, "window", jint(INSPECT_HOP_WINDOW));
	json_object_set_new(j, "read_bytes", jint(g->hop_read_bytes));
	json_object_set_new(j, "window_bytes", jint(g->hop_window_bytes));
	for (int k = 0; k < INSPECT_PTR_COUNT; k++)
		json_object_set_new(into, inspect_ptr_name((enum inspect_ptr)k),
				    json_real(g->hop_targets ? round((double)g->hop_into[k] /
						(double)g->hop_targets * 1e4) / 1e4 : 0));
	json_object_set_new(j, "points_into", into);
	if (g->hop_map_targets) {
		map = json_object();
		json_object_set_new(map, "start", jaddr(g->hop_map_start));
		json_object_set_new(map, "end", jaddr(g->hop_map_end));
		json_object_set_new(map, "kind", jstr(region_kind_name((enum region_kind)g->hop_map_kind)));
		json_object_set_new(map, "path", jtext(g->hop_map_path ? g->hop_map_path : ""));
		json_object_set_new(map, "share", json_real(round((double)g->hop_map_targets /
					(double)g->hop_targets * 1e4) / 1e4));
		json_object_set_new(j, "mapping", map);
	} else {
		json_object_set_new(j, "mapping", json_null());
	}
	json_object_set_new(j, "strings_found", jint(g->hop_strings_found));
	json_object_set_new(j, "top_strings", tops_json(g->hop_tops, g->hop_ntops));
	json_object_set_new(j, "top_shapes", tops_json(g->hop_shapes, g->hop_nshapes));
	return j;
}

/* watch --content: what the row's new pages hold (a few KiB: capped lists and texts). */
static json_t *content_json(const struct inspect_growth *g, uint64_t budget)
{
	json_t *j = json_object(), *tops = json_array(), *shapes = json_array();
	json_t *hist = json_array(), *into = json_object();
	uint64_t nonzero = g->words - g->zero_words;

	json_object_set_new(j, "new_bytes", jint(g->new_bytes));
	json_object_set_new(j, "old_bytes", jint(g->old_bytes));
	json_object_set_new(j, "read_bytes", jint(g->read_bytes));
	json_object_set_new(j, "old_read_bytes", jint(g->old_read_bytes));
	json_object_set_new(j, "budget", jint(budget));
	json_object_set_new(j, "sampled", json_boolean(g->sampled));
	json_object_set_new(j, "areas_unrecorded", jint(g->areas_unrecorded));
	json_object_set_new(j, "exited", json_boolean(g->exited));
	json_object_set_new(j, "strings_found", jint(g->strings_found));
	for (size_t i = 0; i < g->ntops; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "text", jtext(g->tops[i].text));
		json_object_set_new(o, "count", jint(g->tops[i].count));
		json_array_append_new(tops, o);
	}
	json_object_set_new(j, "top_strings", tops);
	for (size_t i = 0; i < g->nshapes; i++) {
		const struct inspect_shape *sh = &g->shapes[i];
		json_t *o = json_object();
		json_object_set_new(o, "text", jtext(sh->text));
		json_object_set_new(o, "count", jint(sh->count));
		json_object_set_new(o, "old_count", jint(sh->old_count));
		json_object_set_new(o, "new_per_mib", json_real(round(sh->new_per_mib * 10) / 10));
		json_object_set_new(o, "old_per_mib", json_real(round(sh->old_per_mib * 10) / 10));
		json_array_append_new(shapes, o);
	}
	json_object_set_new(j, "top_shapes", shapes);
	for (int b = 0; b < 256; b++)
		json_array_append_new(hist, jint(g->hist.counts[b]));
	json_object_set_new(j, "histogram", hist);
	json_object_set_new(j, "entropy", json_real(round(g->hist.entropy * 1000) / 1000));
	json_object_set_new(j, "zero_pages", jint(g->hist.zero_pages));
	json_object_set_new(j, "words", jint(g->words));
	json_object_set_new(j, "zero_words", jint(g->zero_words));
	for (int k = 0; k < INSPECT_PTR_COUNT; k++)
		json_object_set_new(into, inspect_ptr_name((enum inspect_ptr)k),
				    json_real(nonzero ? round((double)g->points_into[k] / (double)nonzero * 1e4) / 1e4 : 0));
	json_object_set_new(j, "points_into", into);
	json_object_set_new(j, "pointer_share", json_real(round(g->ptr_share * 1e4) / 1e4));
	json_object_set_new(j, "pointees", g->hop ? pointees_json(g) : json_null());
	{
		json_t *ms = json_object();
		json_object_set_new(ms, "new", json_real(round(g->ms_new * 1000) / 1000));
		json_object_set_new(ms, "old", json_real(round(g->ms_old * 1000) / 1000));
		json_object_set_new(ms, "hop", json_real(round(g->ms_hop * 1000) / 1000));
		json_object_set_new(j, "wall_ms", ms);
	}
	if (g->grep) {
		json_t *m = json_array();
		for (size_t i = 0; i < g->nmatches && i < CONTENT_MATCHES_MAX; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "addr", jaddr(g->matches[i].addr));
			json_object_set_new(o, "text", jtext(g->matches[i].text));
			json_array_append_new(m, o);
		}
		json_object_set_new(j, "matches_total", jint(g->matches_total));
		json_object_set_new(j, "matches", m);
	}
	return j;
}

static json_t *area_json(const struct area *a, const struct area_stats *st, int full,
			 const struct pool *pool)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", jint(a->id));
	json_object_set_new(j, "start", jaddr(a->start));
	json_object_set_new(j, "end", jaddr(a->end));
	json_object_set_new(j, "perms", json_string(a->perms));
	json_object_set_new(j, "path", jstr(a->path));
	json_object_set_new(j, "kind", json_string(region_kind_name(a->kind)));
	json_object_set_new(j, "size", jint(a->size));
	json_object_set_new(j, "rss", jint(st->rss_last));
	json_object_set_new(j, "rss_first", jint(st->rss_first));
	json_object_set_new(j, "rss_last", jint(st->rss_last));
	json_object_set_new(j, "delta", json_integer(st->delta));
	json_object_set_new(j, "rate_bytes_per_s", json_real(st->rate));
	json_object_set_new(j, "trend", json_string(trend_name(st->trend)));
	json_object_set_new(j, "score", json_real(st->score));
	if (full) {
		json_object_set_new(j, "rss_min", jint(st->rss_min));
		json_object_set_new(j, "rss_max", jint(st->rss_max));
		json_object_set_new(j, "monotonic", json_real(st->monotonic));
		json_object_set_new(j, "r2", json_real(st->r2));
		json_object_set_new(j, "samples", jint(st->samples));
		json_object_set_new(j, "vmas", jint(a->nvmas));
	}
	if (pool) {
		/* A pool's row: its members, by address (their own rows are not listed). */
		json_t *m = json_array();
		json_object_set_new(j, "pool", json_string(pool_kind_name(pool->kind)));
		for (size_t i = 0; i < pool->nmembers; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "start", jaddr(pool->members[i]->start));
			json_object_set_new(o, "end", jaddr(pool->members[i]->end));
			if (full)
				json_object_set_new(o, "path", jstr(pool->members[i]->path));
			json_array_append_new(m, o);
		}
		json_object_set_new(j, "members", m);
	}
	return j;
}

static void watch_common(json_t *doc, const struct watch_view *v)
{
	json_object_set_new(doc, "pid", json_integer(v->pid));
	json_object_set_new(doc, "comm", jstr(v->comm));
	json_object_set_new(doc, "seq", jint(v->seq));
	json_object_set_new(doc, "elapsed_s", json_real(v->elapsed));
	json_object_set_new(doc, "window_s", json_real(v->window_s));
	json_object_set_new(doc, "window_samples", jint(v->window_samples));
	json_object_set_new(doc, "rss", jint(v->tot.rss));
	json_object_set_new(doc, "rss_first", jint(v->tot.rss_first));   /* window start */
	json_object_set_new(doc, "anon_first", jint(v->tot.anon_first));
	json_object_set_new(doc, "anon", jint(v->tot.anon));
	json_object_set_new(doc, "swap", jint(v->tot.swap));
	json_object_set_new(doc, "rss_rate", json_real(v->tot.rss_rate));
	json_object_set_new(doc, "anon_rate", json_real(v->tot.anon_rate));
	json_object_set_new(doc, "swap_rate", json_real(v->tot.swap_rate));
	if (v->lim.kind) {
		json_t *l = json_object();
		json_object_set_new(l, "kind", json_string(v->lim.kind == 1 ? "cgroup" : "memavailable"));
		json_object_set_new(l, "limit", v->lim.kind == 1 ? jint(v->lim.limit) : json_null());
		json_object_set_new(l, "headroom", jint(v->lim.headroom));
		json_object_set_new(l, "time_to_limit_s",
				    v->tot.rss_rate > 0 && v->tot.rss_trend == TREND_GROWING && v->window_samples >= 3
					    ? json_real((double)v->lim.headroom / v->tot.rss_rate)
					    : json_null());
		json_object_set_new(doc, "limit", l);
	} else {
		json_object_set_new(doc, "limit", json_null());
	}
	json_object_set_new(doc, "cost_ms", json_real(round(v->cost_ms * 1000) / 1000));
	json_object_set_new(doc, "torn_records", jint(v->torn));
	if (v->go) {
		json_t *g = json_object();
		char verdict[200];
		json_object_set_new(g, "version", v->go->version[0] ? json_string(v->go->version) : json_null());
		json_object_set_new(g, "stripped", json_boolean(v->go->stripped));
		json_object_set_new(g, "goroutines", v->goroutines >= 0 ? json_integer(v->goroutines) : json_null());
		json_object_set_new(g, "goroutines_first",
				    v->goroutines_first >= 0 ? json_integer(v->goroutines_first) : json_null());
		json_object_set_new(g, "heap_rate", json_real(v->go_heap_rate));
		json_object_set_new(g, "native_rate", json_real(v->native_rate));
		watch_go_verdict(v, verdict, sizeof(verdict));
		json_object_set_new(g, "verdict", verdict[0] ? json_string(verdict) : json_null());
		json_object_set_new(doc, "go", g);
	} else {
		json_object_set_new(doc, "go", json_null());
	}
	json_object_set_new(doc, "interval_s", json_real(v->interval));
	json_object_set_new(doc, "interval_stretched", json_boolean(v->stretched));
	json_object_set_new(doc, "max_cost_pct", json_real(v->max_cost));
}

int out_json_watch_sample(FILE *fp, const struct watch_view *v)
{
	json_t *doc = json_object(), *areas = json_array();

	json_object_set_new(doc, "type", json_string("sample"));
	watch_common(doc, v);
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(areas, area_json(v->areas[i], &v->st[i], 0,
						       v->pools ? v->pools[i] : NULL));
	json_object_set_new(doc, "areas", areas);
	return dump(fp, doc);
}

int out_json_watch_cgroup(FILE *fp, const char *path, uint64_t seq, size_t nprocs)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "type", json_string("cgroup"));
	json_object_set_new(doc, "cgroup", jstr(path));
	json_object_set_new(doc, "sample", jint(seq));
	json_object_set_new(doc, "processes", jint(nprocs));
	return dump(fp, doc);
}

int out_json_watch_summary(FILE *fp, const struct watch_view *v)
{
	json_t *doc = json_object(), *areas = json_array();

	json_object_set_new(doc, "type", json_string("summary"));
	watch_common(doc, v);
	json_object_set_new(doc, "end", json_string(v->end));
	json_object_set_new(doc, "exited", json_boolean(!strcmp(v->end, "exited")));
	json_object_set_new(doc, "areas_total", jint(v->nareas));
	json_object_set_new(doc, "areas_vanished", jint(v->vanished));
	if (v->content_asked) {
		json_t *c = json_object();
		json_object_set_new(c, "rows", jint(v->ncontent));
		json_object_set_new(c, "budget", jint(v->content_budget));
		json_object_set_new(c, "note", v->content_note ? json_string(v->content_note) : json_null());
		json_object_set_new(doc, "content", c);
	}
	json_object_set_new(doc, "areas", areas);
	/* The areas are written one at a time into the document's empty "areas" array (the last
	 * member): a tree of 60,000 area objects would take ~190 MiB. */
	{
		char *head = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
		size_t hl = head ? strlen(head) : 0;
		int rc = 0;

		json_decref(doc);
		if (hl < 2 || head[hl - 2] != ']' || head[hl - 1] != '}') {
			free(head);
			return -1;
		}
		rc = emit(head, hl - 2, fp);
		free(head);
		for (size_t i = 0; i < v->n && !rc; i++) {
			json_t *aj = area_json(v->areas[i], &v->st[i], 1, v->pools ? v->pools[i] : NULL);
			for (size_t k = 0; k < v->ncontent; k++)
				if (v->content_rows[k] == i)
					json_object_set_new(aj, "content",
							    content_json(&v->content[k], v->content_budget));
			if (i)
				fputc(',', fp);
			rc = json_dump_callback(aj, emit, fp, JSON_COMPACT | JSON_ENSURE_ASCII);
			json_decref(aj);
		}
		fputs("]}\n", fp);
		return rc;
	}
}

static json_t *read_json(const struct dump_info *d)
{
	json_t *j = json_object(), *why = json_object();

	if (d->pid)
		json_object_set_new(j, "pid", json_integer(d->pid));
	if (d->comm)
		json_object_set_new(j, "comm", jstr(d->comm));
	if (d->file)
		json_object_set_new(j, "file", jstr(d->file));
	{
		json_t *r = json_object();
		json_object_set_new(r, "start", jaddr(d->start));
		json_object_set_new(r, "end", jend(d->start, d->end));
		if (d->perms)
			json_object_set_new(r, "perms", json_string(d->perms));
		if (d->path)
			json_object_set_new(r, "path", jstr(d->path));
		if (d->kind)
			json_object_set_new(r, "kind", json_string(d->kind));
		json_object_set_new(j, "region", r);
	}
	if (d->time > 0)
		json_object_set_new(j, "time", json_real(d->time));
	if (d->st) {
		uint64_t skipped = 0;
		json_object_set_new(j, "bytes_read", jint(d->st->bytes_read));
		json_object_set_new(j, "pages_present", jint(d->st->pages_present));
		for (int h = 0; h < MEMREAD_HOLE_COUNT; h++) {
			json_object_set_new(why, memread_hole_name((enum memread_hole)h), jint(d->st->pages[h]));
			skipped += d->st->pages[h];
		}
		json_object_set_new(j, "pages_skipped", jint(skipped));
		json_object_set_new(j, "pages_skipped_by_reason", why);
		json_object_set_new(j, "runs_total", jint(d->st->runs));
		json_object_set_new(j, "syscalls", jint(d->st->syscalls));
		json_object_set_new(j, "pagemap_scan", json_boolean(d->st->used_pagemap_scan));
		json_object_set_new(j, "proc_mem_fallback", json_boolean(d->st->used_proc_mem));
	} else {
		json_decref(why);
	}
	json_object_set_new(j, "read_ms", json_real(round(d->read_ms * 1000) / 1000));
	json_object_set_new(j, "frozen", json_boolean(d->freeze_ms >= 0));
	if (d->freeze_ms >= 0)
		json_object_set_new(j, "frozen_ms", json_real(round(d->freeze_ms * 1000) / 1000));
	json_object_set_new(j, "exited", json_boolean(d->exited));
	return j;
}

static json_t *top_json(struct analysis *a, int shapes)
{
	json_t *arr = json_array();
	struct scan_top_entry *e = xcalloc(a->o.top, sizeof(*e));
	size_t n = shapes ? analysis_top_shapes(a, e, a->o.top) : analysis_top_strings(a, e, a->o.top);

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		char *t = xstrndup(e[i].text, e[i].len);
		json_object_set_new(o, shapes ? "shape" : "string", jstr(t));
		json_object_set_new(o, "count", jint(e[i].count));
		json_object_set_new(o, "error", jint(e[i].error));
		json_object_set_new(o, "first_address", jaddr(e[i].first_addr));
		json_array_append_new(arr, o);
		free(t);
	}
	free(e);
	return arr;
}

int out_json_dump(FILE *fp, const struct dump_info *d, struct analysis *a)
{
	json_t *doc = read_json(d);

	json_object_set_new(doc, "type", json_string(d->pid ? "dump" : "analyze"));
	if (a && (a->o.strings || a->o.top))
		json_object_set_new(doc, "strings_found", jint(a->strings_found));
	if (a && a->o.strings) {
		json_t *arr = json_array();
		for (size_t i = 0; i < a->nlisted; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "address", jaddr(a->listed[i].addr));
			json_object_set_new(o, "text", jstr(a->listed[i].text));
			json_object_set_new(o, "encoding", json_string(a->listed[i].enc == SCAN_ENC_UTF16LE ? "utf16le" : "ascii"));
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "strings", arr);
		json_object_set_new(doc, "strings_truncated", json_boolean(a->listed_truncated));
	}
	if (a && a->o.top) {
		json_object_set_new(doc, "top_strings", top_json(a, 0));
		json_object_set_new(doc, "top_shapes", top_json(a, 1));
	}
	if (a && a->hist) {
		const struct scan_hist_result *h = &a->hist_result;
		json_t *counts = json_array(), *blocks = json_object(), *runs = json_array();
		for (int i = 0; i < 256; i++)
			json_array_append_new(counts, jint(h->counts[i]));
		json_object_set_new(doc, "histogram", counts);
		json_object_set_new(doc, "entropy", json_real(round(h->entropy * 10000) / 10000));
		json_object_set_new(doc, "bytes_counted", jint(h->bytes));
		json_object_set_new(doc, "pages", jint(h->pages));
		json_object_set_new(doc, "zero_pages", jint(h->zero_pages));
		for (int c = 0; c <= SCAN_BLOCK_UNREAD; c++)
			json_object_set_new(blocks, scan_block_class_name((enum scan_block_class)c), jint(h->blocks[c]));
		json_object_set_new(doc, "blocks", blocks);
		for (size_t i = 0; i < a->nruns; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "start", jaddr(a->runs[i].start));
			json_object_set_new(o, "end", jend(a->runs[i].start, a->runs[i].end));
			json_object_set_new(o, "class", json_string(scan_block_class_name((enum scan_block_class)a->runs[i].cls)));
			if (a->runs[i].cls == SCAN_BLOCK_PATTERN)
				json_object_set_new(o, "period", jint(a->runs[i].period));
			json_object_set_new(o, "entropy_min", json_real(round(a->runs[i].entropy_min * 100) / 100));
			json_object_set_new(o, "entropy_max", json_real(round(a->runs[i].entropy_max * 100) / 100));
			json_array_append_new(runs, o);
		}
		json_object_set_new(doc, "block_runs", runs);
		json_object_set_new(doc, "block_runs_truncated", json_boolean(a->runs_dropped > 0));
	}
	if (a && a->grep) {
		json_t *arr = json_array();
		for (size_t i = 0; i < a->nmatches; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "address", jaddr(a->matches[i].addr));
			json_object_set_new(o, "text", jstr(a->matches[i].text));
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "matches", arr);
		json_object_set_new(doc, "matches_total", jint(scan_grep_count(a->grep)));
	}
	return dump(fp, doc);
}

int out_json_manifest(FILE *fp, const struct dump_info *d)
{
	json_t *doc = read_json(d), *runs = json_array();

	json_object_set_new(doc, "type", json_string("dump-manifest"));
	json_object_set_new(doc, "layout", json_string("file offset = address - region.start; "
						       "pages not read are holes (zeros)"));
	for (size_t i = 0; i < d->nruns; i++) {
		json_t *r = json_array();
		json_array_append_new(r, jaddr(d->runs[2 * i]));
		json_array_append_new(r, jaddr(d->runs[2 * i + 1]));
		json_array_append_new(runs, r);
	}
	json_object_set_new(doc, "runs_read", runs);
	json_object_set_new(doc, "runs_read_truncated", json_boolean(d->runs_total > d->nruns));
	return dump_flags(fp, doc, JSON_INDENT(1)) ? -1 : 0;
}

/* stacks (appended here, so its include sits with it). */
#include "unwind.h"

/* stacks --json: one document, threads in the order given. */
int out_json_stacks(FILE *fp, int pid, const char *comm, double frozen_ms,
		    const struct unwind_thread *threads, size_t count)
{
	json_t *doc = json_object(), *arr = json_array();

	json_object_set_new(doc, "type", json_string("stacks"));
	json_object_set_new(doc, "pid", json_integer(pid));
	json_object_set_new(doc, "comm", jstr(comm ? comm : ""));
	json_object_set_new(doc, "frozen_ms", json_real(round(frozen_ms * 1000) / 1000));
	for (size_t i = 0; i < count; i++) {
		const struct unwind_thread *t = &threads[i];
		json_t *j = json_object(), *frames = json_array();
		char state[2] = { t->task.state, '\0' };
		int reported = t->stop != UNWIND_STOP_END && !unwind_stop_truncated(t->stop);

		json_object_set_new(j, "tid", json_integer(t->task.tid));
		json_object_set_new(j, "comm", jstr(t->task.comm));
		json_object_set_new(j, "state", jstr(state));
		json_object_set_new(j, "sp", t->sp ? jaddr(t->sp) : json_null());
		if (t->stack_end) {
			json_t *s = json_object();
			json_object_set_new(s, "start", jaddr(t->stack_start));
			json_object_set_new(s, "end", jaddr(t->stack_end));
			json_object_set_new(j, "stack", s);
		} else {
			json_object_set_new(j, "stack", json_null());
		}
		for (size_t k = 0; k < t->count; k++) {
			const struct unwind_frame *f = &t->frames[k];
			json_t *o = json_object();
			json_object_set_new(o, "ip", jaddr(f->ip));
			json_object_set_new(o, "function", f->function ? jstr(f->function) : json_null());
			json_object_set_new(o, "offset", f->function ? jint(f->offset) : json_null());
			json_object_set_new(o, "module", f->module ? jstr(f->module) : json_null());
			json_array_append_new(frames, o);
		}
		json_object_set_new(j, "frames", frames);
		json_object_set_new(j, "truncated", json_boolean(unwind_stop_truncated(t->stop)));
		json_object_set_new(j, "truncated_by", unwind_stop_truncated(t->stop)
				    ? json_string(unwind_stop_name(t->stop)) : json_null());
		json_object_set_new(j, "error", reported || t->stop == UNWIND_STOP_SKIPPED
				    ? jstr(t->reason) : json_null());
		json_array_append_new(arr, j);
	}
	json_object_set_new(doc, "threads", arr);
	return dump(fp, doc);
}

int out_json_growth(FILE *fp, const struct inspect_growth *g, uint64_t budget)
{
	return dump(fp, content_json(g, budget));
}

int out_json_trigger_event(FILE *fp, const struct trigger_event *ev)
{
	json_t *doc = json_object(), *acts = json_array(), *files = json_array();
	const struct trigger_expr *e = ev->expr;

	json_object_set_new(doc, "type", json_string("event"));
	json_object_set_new(doc, "event", json_string("trigger"));
	json_object_set_new(doc, "n", jint(ev->n));
	json_object_set_new(doc, "pid", json_integer(ev->pid));
	json_object_set_new(doc, "comm", jstr(ev->comm));
	json_object_set_new(doc, "seq", jint(ev->seq));
	json_object_set_new(doc, "elapsed_s", json_real(ev->elapsed));
	json_object_set_new(doc, "expr", jstr(e->text));
	json_object_set_new(doc, "scope", json_string(e->process ? "process" : "row"));
	json_object_set_new(doc, "metric", json_string(trigger_metric_name(e->metric)));
	json_object_set_new(doc, "value", e->metric == TRIGGER_RSS || e->metric == TRIGGER_GROWTH
					       ? json_integer((json_int_t)ev->value) : json_real(ev->value));
	json_object_set_new(doc, "threshold", e->metric == TRIGGER_RSS || e->metric == TRIGGER_GROWTH
						   ? json_integer((json_int_t)e->threshold)
						   : json_real(e->threshold));
	json_object_set_new(doc, "unit", json_string(trigger_unit(e->metric)));
	json_object_set_new(doc, "window_s", e->metric == TRIGGER_GROWTH ? json_real(e->window) : json_null());
	json_object_set_new(doc, "covered_s", e->metric == TRIGGER_GROWTH ? json_real(ev->covered) : json_null());
	json_object_set_new(doc, "row", ev->row ? area_json(ev->row, ev->st, 0, ev->pool) : json_null());
	for (size_t i = 0; i < ev->nactions; i++)
		json_array_append_new(acts, json_string(ev->actions[i]));
	json_object_set_new(doc, "actions", acts);
	json_object_set_new(doc, "dir", ev->dir ? jstr(ev->dir) : json_null());
	for (size_t i = 0; i < ev->nfiles; i++)
		json_array_append_new(files, jstr(ev->files[i]));
	json_object_set_new(doc, "files", files);
	json_object_set_new(doc, "note", ev->note[0] ? jstr(ev->note) : json_null());
	return dump(fp, doc);
}
