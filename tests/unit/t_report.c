/* t_report: the report of a hand-built watch of 6 hours (21,600 samples at 1 s, rows that
 * come and go, 100 trigger events with stacks): history stays within REPORT_POINTS points
 * per line, thinned by halving, events within REPORT_EVENTS_MAX, the file stays small,
 * hostile bytes and markup in names and stacks are escaped, the time axis says hours, and
 * a write into a missing directory fails with the path and the reason, leaving nothing.
 * RW_REPORT_SAMPLE=FILE keeps a copy of the page to look at. */
#include "report.h"
#include "pool.h"
#include "region.h"
#include "watch.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>

#define NROWS 12
#define SAMPLES 21600

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

int main(void)
{
	static char hostile[] = "/tmp/<b>a&b\x1b[31m\xff\xe2\x80\xae.so";
	static const char stacks[] = "thread 1 (rw\x1b[7m):\n  #0 0x401000 leak<int>(x&y)\n  #1 \x9b main\n";
	struct area areas[NROWS * 4];
	struct area_stats st[NROWS];
	const struct area *rows[NROWS];
	const struct pool *pools[NROWS];
	struct pool pl;
	struct watch_view v;
	struct report *r;
	struct rw_err err;
	char dir[] = "/tmp/t_report.XXXXXX", path[256], bad[300];
	char *html;
	size_t len, points, max_points = 0;
	uint64_t stride;
	int rc, bounded = 1;

	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP cannot make a temporary directory\n");
		return 0;
	}
	memset(areas, 0, sizeof(areas));
	memset(&pl, 0, sizeof(pl));
	for (size_t i = 0; i < NROWS * 4; i++) {
		areas[i].id = i + 1;
		areas[i].start = 0x7f0000000000ull + i * 0x100000;
		areas[i].end = areas[i].start + 0x100000;
		areas[i].size = 0x100000;
		areas[i].kind = KIND_ANON;
		areas[i].path = (char *)"";
	}
	areas[0].kind = KIND_HEAP;
	areas[0].path = (char *)"[heap]";
	areas[1].kind = KIND_FILE;
	areas[1].path = hostile;
	pl.kind = POOL_MALLOC;
	pl.name = "glibc malloc";
	pl.members = (const struct area **)rows;   /* any areas: the table lists them */
	pl.nmembers = 2;

	{
		char a0[] = "watch", a1[] = "-p", a2[] = "4242", a3[] = "--report", a4[] = "it's.html";
		char *args[] = { a0, a1, a2, a3, a4, NULL };
		r = report_new(5, args);
	}
	memset(&v, 0, sizeof(v));
	v.pid = 4242;
	v.comm = "le<ak>\x01";
	v.interval = 1;
	v.areas = rows;
	v.st = st;
	v.pools = pools;
	v.n = NROWS;
	v.nareas = NROWS * 4;
	for (uint64_t s = 0; s < SAMPLES; s++) {
		/* rows 4.. change every 1000 samples (new ids), so row histories are recycled */
		for (size_t i = 0; i < NROWS; i++) {
			size_t a = i < 4 ? i : 4 + (i - 4 + (s / 1000) * 3) % (NROWS * 4 - 4);
			rows[i] = &areas[a];
			pools[i] = NULL;
			memset(&st[i], 0, sizeof(st[i]));
			st[i].rss_last = (uint64_t)(NROWS - i) * 1048576 + (i == 0 ? s * 4096 : 0);
			st[i].trend = i == 0 ? TREND_GROWING : TREND_FLAT;
		}
		pools[2] = &pl;
		st[0].rate = 4096;
		st[0].score = 1e6;
		st[0].delta = (int64_t)s * 4096;
		v.seq = s + 1;
		v.elapsed = (double)s;
		v.tot.rss = 200ull * 1048576 + s * 4096;
		v.tot.rss_first = 200ull * 1048576;
		v.tot.anon = 150ull * 1048576 + s * 4096;
		v.tot.rss_rate = 4096;
		v.tot.rss_trend = TREND_GROWING;
		v.window_samples = 120;
		v.window_s = 120;
		report_add_sample(r, &v);
		points = report_points(r, &stride);
		if (points > REPORT_POINTS)
			bounded = 0;
		if (points > max_points)
			max_points = points;
		if (s % 216 == 0)
			report_add_event(r, (double)s, "rss over 200M: <stacks> & \x1b[2J", stacks);
	}
	points = report_points(r, &stride);
	ok(bounded, "never more than %d points (at most %zu)", REPORT_POINTS, max_points);
	ok(points >= REPORT_POINTS / 2 && points <= REPORT_POINTS, "%zu points kept of %d samples",
	   points, SAMPLES);
	is_u64(stride, 64, "one sample in 64 is kept after six halvings (21600 / 512 > 32)");

	v.end = "count";
	snprintf(path, sizeof(path), "%s/r.html", dir);
	rc = report_write(r, &v, path, &err);
	is_u64(rc, 0, "report_write: 0");
	html = slurp(path, &len);
	ok(html != NULL, "the page is there");
	if (!html)
		return done_testing();
	if (getenv("RW_REPORT_SAMPLE")) {
		FILE *fp = fopen(getenv("RW_REPORT_SAMPLE"), "wb");
		if (fp) {
			fwrite(html, 1, len, fp);
			fclose(fp);
		}
	}
	printf("# a 6-hour report: %zu bytes\n", len);
	ok(len < 300 * 1024, "a 6-hour watch makes a small file (%zu bytes)", len);
	ok(count(html, "<svg") == 2, "two charts");
	ok(strstr(html, ">6h</text>") != NULL, "the time axis is in hours");
	ok(strstr(html, "one sample in 64") != NULL, "the resolution is said");
	is_u64(count(html, "<h3 id=\"event-"), REPORT_EVENTS_MAX, "events kept: %d", REPORT_EVENTS_MAX);
	ok(strstr(html, "36 events between the first 8 and the latest were not kept") != NULL,
	   "the events not kept are counted");
	ok(count(html, "stroke-dasharray=\"3 3\"") == 2 * REPORT_EVENTS_MAX && strstr(html, ">E1</text>")
	   && strstr(html, ">E64</text>"), "events are marked on the charts");
	ok(strstr(html, "rss over 200M: &lt;stacks&gt; &amp; \\x1b[2J") != NULL, "an event line, escaped");
	ok(strstr(html, "thread 1 (rw\\x1b[7m):\n  #0 0x401000 leak&lt;int&gt;(x&amp;y)\n  #1 \\x9b main\n") != NULL,
	   "stacks: newlines kept, markup and control bytes escaped");
	ok(strstr(html, "/tmp/&lt;b&gt;a&amp;b\\x1b[31m\\xff\\u202e.so") != NULL, "a hostile path, escaped");
	ok(strstr(html, "(le&lt;ak&gt;\\x01)</title>") != NULL, "comm escaped in the title");
	ok(strstr(html, "regionwatch watch -p 4242 --report &#39;it&#39;&quot;&#39;&quot;&#39;s.html&#39;") != NULL,
	   "the command line, shell-quoted, escaped");
	ok(strstr(html, "pool malloc (2 members)") != NULL, "a pool row with its members count");
	{
		int raw = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)html[i];
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				raw++;
		}
		is_u64(raw, 0, "no raw control byte");
	}
	free(html);

	/* the same report again over the old one: replaced */
	v.end = NULL;
	rc = report_write(r, &v, path, &err);
	html = slurp(path, &len);
	ok(rc == 0 && html && strstr(html, "still running when this was written"),
	   "a second write replaces the file");
	free(html);
	is_u64(dir_entries(dir), 1, "no temporary file beside it");

	snprintf(bad, sizeof(bad), "%s/missing/r.html", dir);
	rc = report_write(r, &v, bad, &err);
	is_u64(rc, -ENOENT, "a missing directory: -ENOENT");
	ok(strstr(err.msg, bad) && strstr(err.msg, strerror(ENOENT)), "the message names the path "
	   "and the reason: %s", err.msg);
	is_u64(dir_entries(dir), 1, "nothing left behind");

	report_free(r);
	report_free(NULL);
	report_add_sample(NULL, &v);
	report_add_event(NULL, 0, "x", NULL);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
