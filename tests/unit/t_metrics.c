/* t_metrics: the Prometheus exposition of a hand-built watch view: names, HELP/TYPE, the
 * --metrics-top bound, a pool row's kind, and label escaping of hostile target bytes. */
#include "metrics.h"
#include "region.h"
#include "tap.h"

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every line is a comment or NAME{labels} VALUE, with no raw control byte anywhere. */
static int well_formed(const char *s)
{
	for (const char *p = s; *p; ) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			return 0;
		if (*p != '#') {
			const char *q = p;
			while (q < nl && (*q == '_' || (*q >= 'a' && *q <= 'z')))
				q++;
			if (q == p || *q != '{')
				return 0;
			for (int inq = 0; q < nl; q++) {
				if (*q == '\\' && inq)
					q++;
				else if (*q == '"')
					inq = !inq;
				else if (*q == '}' && !inq)
					break;
			}
			if (q >= nl || q[1] != ' ' || q + 2 >= nl)
				return 0;
		}
		for (const char *c = p; c < nl; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return 0;
		p = nl + 1;
	}
	return 1;
}

int main(void)
{
	static char hostile[] = "/tmp/a\"b\\c\nd\xff" "e\x1b[31m";
	struct area areas[12];
	struct area_stats st[12];
	const struct area *rows[12];
	const struct pool *pools[12];
	struct pool pl;
	struct watch_view v;
	char *text;
	size_t len;

	memset(areas, 0, sizeof(areas));
	memset(st, 0, sizeof(st));
	memset(&pl, 0, sizeof(pl));
	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < 12; i++) {
		areas[i].start = 0x400000 + i * 0x10000;
		areas[i].end = areas[i].start + 0x10000;
		areas[i].kind = KIND_ANON;
		areas[i].path = (char *)"";
		st[i].rss_last = 4096 * (i + 1);
		st[i].rate = 0;
		st[i].trend = TREND_FLAT;
		rows[i] = &areas[i];
		pools[i] = NULL;
	}
	areas[0].kind = KIND_HEAP;
	areas[0].path = (char *)"[heap]";
	areas[0].start = 0x55aa00000000ull;
	st[0].rate = 2097152.5;
	st[0].score = 1.5e6;
	st[0].trend = TREND_GROWING;
	areas[1].path = hostile;
	pl.kind = POOL_MALLOC;
	pl.name = "glibc malloc";
	pools[2] = &pl;
	v.pid = 4242;
	v.comm = "le\"ak\x01y";
	v.tot.rss = 123456789;
	v.tot.anon = 98765;
	v.cost_ms = 1.5;
	v.areas = rows;
	v.st = st;
	v.pools = pools;
	v.n = 12;
	v.triggers_total = 7;

	text = metrics_format_dup(&v, 10, &len);
	ok(len == strlen(text), "length matches the text");
	ok(well_formed(text), "every sample line is name{labels} value, no raw control bytes");
	if (!well_formed(text))
		printf("# %s", text);
	is_u64(count(text, "\nregionwatch_area_rss_bytes{"), 10, "--metrics-top 10 of 12 rows: 10 area_rss_bytes samples");
	is_u64(count(text, "\nregionwatch_area_growing{"), 10, "10 area_growing samples");
	ok(strstr(text, "# TYPE regionwatch_process_rss_bytes gauge\n") != NULL, "process_rss_bytes is a gauge");
	ok(strstr(text, "# TYPE regionwatch_process_anon_bytes gauge\n") != NULL, "process_anon_bytes is a gauge");
	ok(strstr(text, "# TYPE regionwatch_sample_cost_seconds gauge\n") != NULL, "sample_cost_seconds is a gauge");
	ok(strstr(text, "# TYPE regionwatch_triggers_total counter\n") != NULL, "triggers_total is a counter");
	ok(strstr(text, "# HELP regionwatch_triggers_total ") && strstr(text, "watch --trigger"), "triggers HELP names watch --trigger");
	ok(strstr(text, "regionwatch_triggers_total{pid=\"4242\",comm=\"le\\\"ak\\\\x01y\"} 7\n") != NULL, "triggers_total is the view's count");
	ok(strstr(text, "# TYPE regionwatch_area_growth_bytes_per_second gauge\n") != NULL, "growth rate is a gauge");
	ok(strstr(text, "# TYPE regionwatch_area_score gauge\n") != NULL, "score is a gauge");
	is_u64(count(text, "# HELP "), 8, "eight families, each with HELP");
	is_u64(count(text, "# TYPE "), 8, "and TYPE");
	ok(strstr(text, "regionwatch_process_rss_bytes{pid=\"4242\",comm=\"le\\\"ak\\\\x01y\"} 123456789\n") != NULL,
	   "process RSS with comm escaped (quote, control byte as \\\\x01)");
	ok(strstr(text, "regionwatch_sample_cost_seconds{pid=\"4242\",comm=\"le\\\"ak\\\\x01y\"} 0.0015\n") != NULL,
	   "cost in seconds");
	ok(strstr(text, "regionwatch_area_growing{pid=\"4242\",comm=\"le\\\"ak\\\\x01y\",area=\"0x55aa00000000\",kind=\"heap\",path=\"[heap]\"} 1\n") != NULL,
	   "the growing heap: labels pid, comm, area (0x hex), kind, path; value 1");
	ok(strstr(text, "regionwatch_area_growth_bytes_per_second{pid=\"4242\",comm=\"le\\\"ak\\\\x01y\",area=\"0x55aa00000000\",kind=\"heap\",path=\"[heap]\"} 2097152.5\n") != NULL,
	   "growth rate in bytes per second");
	ok(strstr(text, "path=\"/tmp/a\\\"b\\\\\\\\c\\nd\\\\xffe\\\\x1b[31m\"}") != NULL,
	   "hostile path: quote \\\", backslash as escape_term's \\\\ then escaped, newline \\n, 0xff and ESC as \\xNN");
	ok(strstr(text, "area=\"0x420000\",kind=\"malloc\",path=\"glibc malloc\"") != NULL,
	   "a pool row: kind is the pool kind, path its name");
	ok(strstr(text, "area=\"0x4a0000\"") == NULL && strstr(text, "area=\"0x490000\"") != NULL,
	   "row 10 is the last one exported");
	ok(strstr(text, "\x1b") == NULL && strstr(text, "\xff") == NULL, "no raw ESC or invalid UTF-8 byte");
	free(text);

	v.n = 3;
	text = metrics_format_dup(&v, 10, &len);
	is_u64(count(text, "\nregionwatch_area_score{"), 3, "fewer rows than K: all of them");
	free(text);
	v.n = 0;
	text = metrics_format_dup(&v, 10, &len);
	ok(well_formed(text) && strstr(text, "# TYPE regionwatch_area_score gauge\n"), "no rows: families still declared, well formed");
	free(text);
	return done_testing();
}
