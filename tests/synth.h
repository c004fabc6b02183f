/* tests/synth.h: synthetic snapshots for the unit tests of the timeline and of pools. */
#ifndef RW_SYNTH_H
#define RW_SYNTH_H

#include <stdio.h>
#include <string.h>
#include "smaps.h"
#include "timeline.h"

/* A snapshot from "start end perms rssKiB [path]" lines (hex addresses). */
static __attribute__((unused)) struct snapshot *mk(const char *spec)
{
	static char text[65536];
	size_t o = 0;
	const char *p = spec;
	struct snapshot *s = snapshot_new();
	struct rw_err err;

	while (*p) {
		unsigned long long a, b, rss;
		char perms[8], line[512];
		int n = 0;
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		memcpy(line, p, len);
		line[len] = '\0';
		if (sscanf(line, "%llx %llx %7s %llu %n", &a, &b, perms, &rss, &n) >= 4)
			o += (size_t)snprintf(text + o, sizeof(text) - o,
				"%llx-%llx %s 00000000 00:00 0 %s\nSize: %llu kB\nRss: %llu kB\nAnonymous: %llu kB\n",
				a, b, perms, line + n, (b - a) / 1024, rss, rss);
		p = nl ? nl + 1 : p + len;
	}
	if (smaps_parse(text, o, s, &err))
		printf("Bail out! synthetic snapshot: %s\n", err.msg);
	snapshot_classify(s);
	return s;
}

static __attribute__((unused)) void add(struct timeline *tl, const char *spec, double t)
{
	struct snapshot *s = mk(spec);
	timeline_add(tl, s, t);
	snapshot_free(s);
}

#endif
