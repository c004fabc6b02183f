/* libFuzzer harness for the smaps / maps / pmap parser and the classifier.
 * Built and run by `make fuzz` (FUZZ_SECONDS bounds the run). */
#include <stddef.h>
#include <stdint.h>

#include "region.h"
#include "smaps.h"

struct stream_seen {
	size_t n;
	uint64_t last_end;
	int any;
};

static void stream_check(void *ctx, const struct region *r)
{
	struct stream_seen *seen = ctx;

	if (r->end <= r->start || (seen->any && r->start < seen->last_end))
		__builtin_trap();
	seen->n++;
	seen->last_end = r->end;
	seen->any = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot *s = snapshot_new();
	struct rw_err err;

	int rc0 = smaps_parse((const char *)data, size, s, &err);

	if (rc0 == 0) {
		snapshot_classify(s);
		/* Invariants the rest of the program relies on. */
		for (size_t i = 0; i < s->count; i++) {
			const struct region *r = &s->regions[i];
			if (r->end <= r->start || (i && r->start < s->regions[i - 1].end))
				__builtin_trap();
			if (snapshot_find(s, r->start) != (long)i)
				__builtin_trap();
		}
	}
	/* The incremental parser in pieces of a size taken from the input: what smaps_parse
	 * gives for smaps/maps text (it may differ only where smaps_parse chose pmap). */
	{
		struct snapshot *inc = snapshot_new();
		struct smaps_parser ps;
		struct rw_err e2;
		size_t piece = size ? (size_t)data[0] % 61 + 1 : 1;
		int rc = 0;

		smaps_parser_init(&ps, inc);
		for (size_t o = 0; o < size && !rc; o += piece)
			rc = smaps_parser_feed(&ps, (const char *)data + o,
					       size - o < piece ? size - o : piece, &e2);
		rc = rc ? (smaps_parser_finish(&ps, NULL), rc) : smaps_parser_finish(&ps, &e2);
		if (!rc0 && !rc && (s->format == SNAP_FMT_SMAPS || s->format == SNAP_FMT_MAPS) &&
		    (inc->count != s->count || inc->torn != s->torn))
			__builtin_trap();
		snapshot_free(inc);
	}
	/* Stream mode: regions handed out in address order, never overlapping, and as many as
	 * smaps_parse keeps (it may refuse a torn record that reaches past its window). */
	{
		struct snapshot *win = snapshot_new();
		struct smaps_parser ps;
		struct stream_seen seen = { 0, 0, 0 };
		size_t piece = size > 1 ? (size_t)data[1] % 113 + 1 : 1;
		int rc = 0;

		smaps_parser_init(&ps, win);
		smaps_parser_stream(&ps, stream_check, &seen);
		for (size_t o = 0; o < size && !rc; o += piece)
			rc = smaps_parser_feed(&ps, (const char *)data + o,
					       size - o < piece ? size - o : piece, NULL);
		rc = rc ? (smaps_parser_finish(&ps, NULL), rc) : smaps_parser_finish(&ps, NULL);
		if (!rc0 && !rc && (s->format == SNAP_FMT_SMAPS || s->format == SNAP_FMT_MAPS) &&
		    (seen.n != s->count || win->torn != s->torn || win->count))
			__builtin_trap();
		snapshot_free(win);
	}
	snapshot_free(s);
	return 0;
}
