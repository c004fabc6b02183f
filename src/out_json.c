/* out_json: JSON documents through jansson. Integers are bytes; addresses are lowercase hex
 * strings with 0x (design §5). */
#include "out_json.h"
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

/* jansson wants UTF-8; paths are bytes. Invalid sequences become "\xNN" text. */
static json_t *jstr(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *buf;
	json_t *j;

	j = json_stringn(s, n);
	if (j)
		return j;
	buf = xmalloc(n * 4 + 1);
	for (size_t i = 0; i < n; ) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		int ok = len && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (ok && len > 1 && !json_stringn(s + i, len))
			ok = 0;   /* overlong or surrogate: let jansson judge */
		if (ok) {
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

static json_t *snapshot_json(const char *name, const struct snapshot *s)
{
	static const char *const fmts[] = { "smaps", "maps", "pmap-x", "pmap-X" };
	json_t *o = json_object();

	json_object_set_new(o, "file", jstr(name));
	json_object_set_new(o, "format", json_string(fmts[s->format]));
	json_object_set_new(o, "pid", s->meta.pid ? json_integer(s->meta.pid) : json_null());
	json_object_set_new(o, "time", s->meta.time > 0 ? json_real(s->meta.time) : json_null());
	json_object_set_new(o, "comm", jstr(s->meta.comm));
	json_object_set_new(o, "regions", jint(s->count));
	return o;
}

static int dump(FILE *fp, json_t *doc)
{
	int rc = json_dumpf(doc, fp, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(doc);
	if (rc == 0)
		fputc('\n', fp);
	return rc;
}

int out_json_diff(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		  const struct diff_result *r, const struct diff_json_opts *o)
{
	json_t *doc = json_object(), *rows = json_array(), *tot = json_object();
	const struct diff_totals *t = &r->totals;
	int anon = t->anon_known, swap = t->swap_known;

	json_object_set_new(doc, "type", json_string("diff"));
	json_object_set_new(doc, "a", snapshot_json(o->name_a, a));
	json_object_set_new(doc, "b", snapshot_json(o->name_b, b));
	for (size_t i = 0; i < r->count; i++) {
		const struct diff_row *row = &r->rows[i];
		json_t *j;

		if (!diff_row_shown(row, o->all, o->min_delta))
			continue;
		j = json_object();
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
		json_array_append_new(rows, j);
	}
	json_object_set_new(doc, "regions", rows);
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
	return dump(fp, doc);
}

static json_t *area_json(const struct area *a, const struct area_stats *st, int full)
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
				    v->tot.rss_rate > 0 && v->window_samples >= 3
					    ? json_real((double)v->lim.headroom / v->tot.rss_rate)
					    : json_null());
		json_object_set_new(doc, "limit", l);
	} else {
		json_object_set_new(doc, "limit", json_null());
	}
	json_object_set_new(doc, "cost_ms", json_real(round(v->cost_ms * 1000) / 1000));
}

int out_json_watch_sample(FILE *fp, const struct watch_view *v)
{
	json_t *doc = json_object(), *areas = json_array();

	json_object_set_new(doc, "type", json_string("sample"));
	watch_common(doc, v);
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(areas, area_json(v->areas[i], &v->st[i], 0));
	json_object_set_new(doc, "areas", areas);
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
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(areas, area_json(v->areas[i], &v->st[i], 1));
	json_object_set_new(doc, "areas", areas);
	return dump(fp, doc);
}
