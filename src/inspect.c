/* inspect: what the monitor's region view shows, read before it is drawn. */
#include "inspect.h"
#include "memread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void inspect_init(struct inspect *in)
{
	memset(in, 0, sizeof(*in));
	in->hex = xmalloc(INSPECT_HEX_WINDOW);
	in->hex_present = xcalloc(INSPECT_HEX_WINDOW / 4096, 1);
}

static void free_census(struct inspect *in)
{
	for (size_t i = 0; i < in->ntops; i++)
		free(in->tops[i].text);
	for (size_t i = 0; i < in->nshapes; i++)
		free(in->shapes[i].text);
	in->ntops = in->nshapes = 0;
	for (size_t i = 0; i < in->nmatches; i++)
		free(in->matches[i].text);
	free(in->matches);
	in->matches = NULL;
	in->nmatches = 0;
	in->matches_total = 0;
	in->have_census = 0;
}

void inspect_free(struct inspect *in)
{
	if (!in)
		return;
	free_census(in);
	free(in->pmap_present);
	free(in->pmap_swapped);
	free(in->hex);
	free(in->hex_present);
	memset(in, 0, sizeof(*in));
}

static void copy_tops(struct inspect_top *dst, size_t *n, const struct scan_top_entry *e, size_t count)
{
	for (size_t i = 0; i < count; i++)
		dst[i] = (struct inspect_top){ xstrndup(e[i].text, e[i].len), e[i].count, e[i].error };
	*n = count;
}

/* Where to start reading so that [from, end) holds about INSPECT_SAMPLE_CAP of resident
 * pages: pagemap in up to 4096 cells, summed from the top. start when all of it fits. */
static uint64_t tail_start(const struct procfs *p, uint64_t start, uint64_t end)
{
	size_t cells = (size_t)((end - start) / 4096);
	uint32_t *present, *swapped;
	uint64_t from = start, bytes = 0;

	if (end - start <= INSPECT_SAMPLE_CAP)
		return start;
	if (cells > 4096)
		cells = 4096;
	present = xcalloc(cells, sizeof(*present));
	swapped = xcalloc(cells, sizeof(*swapped));
	if (!memread_page_map(p, start, end, cells, present, swapped, NULL)) {
		for (size_t c = cells; c-- > 0;) {
			bytes += (uint64_t)present[c] * 4096;
			if (bytes >= INSPECT_SAMPLE_CAP) {
				from = start + (uint64_t)((double)(end - start) * (double)c / (double)cells);
				from &= ~(uint64_t)4095;
				if (from < start)
					from = start;
				break;
			}
		}
	}
	free(present);
	free(swapped);
	return from;
}

int inspect_region(struct inspect *in, const struct procfs *p, const struct snapshot *s,
		   uint64_t start, uint64_t end, const char *pattern, size_t map_cells,
		   int newest, struct rw_err *err)
{
	uint64_t from;
	struct analysis_opts ao;
	struct analysis *an;
	struct memread_stats st;
	struct memread_opts mo;
	struct memread_sink sink;
	struct scan_top_entry e[INSPECT_TOPN];
	int rc;

	free_census(in);
	if (in->start != start || in->end != end)
		in->hex_valid = 0;
	in->start = start;
	in->end = end;
	from = newest ? tail_start(p, start, end) : start;
	in->read_from = from;
	in->read_tail = from > start;
	memset(&ao, 0, sizeof(ao));
	ao.top = INSPECT_TOPN;
	ao.histogram = 1;
	ao.grep = pattern && pattern[0] ? pattern : NULL;
	ao.json = 1;                      /* collect, print nothing */
	ao.base = from;
	ao.size = end - from;
	ao.out = stdout;
	an = analysis_new(&ao, err);
	if (!an)
		return err ? -err->code : -EINVAL;
	memset(&mo, 0, sizeof(mo));
	mo.max_bytes = INSPECT_SAMPLE_CAP;
	sink = (struct memread_sink){ analysis_data, analysis_hole, an };
	rc = memread_range(p, s, from, end, &mo, &sink, &st, err);
	analysis_finish(an);
	in->read_bytes = st.bytes_read;
	in->read_present = st.pages_present;
	in->read_truncated = st.truncated;
	in->strings_found = an->strings_found;
	copy_tops(in->tops, &in->ntops, e, analysis_top_strings(an, e, INSPECT_TOPN));
	copy_tops(in->shapes, &in->nshapes, e, analysis_top_shapes(an, e, INSPECT_TOPN));
	in->hist = an->hist_result;
	if (an->grep) {
		in->matches = an->matches;
		in->nmatches = an->nmatches;
		in->matches_total = scan_grep_count(an->grep);
		an->matches = NULL;
		an->nmatches = 0;
	}
	analysis_free(an);
	in->have_census = 1;
	/* resident map: pagemap only */
	free(in->pmap_present);
	free(in->pmap_swapped);
	in->pmap_n = map_cells ? map_cells : 1;
	in->pmap_present = xcalloc(in->pmap_n, sizeof(*in->pmap_present));
	in->pmap_swapped = xcalloc(in->pmap_n, sizeof(*in->pmap_swapped));
	if (!rc)
		rc = memread_page_map(p, start, end, in->pmap_n, in->pmap_present, in->pmap_swapped, err);
	return rc;
}

int inspect_hex_covers(const struct inspect *in, uint64_t top, uint64_t bytes)
{
	return in->hex_valid && top >= in->hex_base && top + bytes <= in->hex_base + INSPECT_HEX_WINDOW;
}

static void hex_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct inspect *in = ctx;

	if (addr < in->hex_base || addr + len > in->hex_base + INSPECT_HEX_WINDOW)
		return;
	memcpy(in->hex + (addr - in->hex_base), buf, len);
	for (uint64_t a = addr; a < addr + len; a += 4096)
		in->hex_present[(a - in->hex_base) / 4096] = 1;
}

int inspect_hex(struct inspect *in, const struct procfs *p, const struct snapshot *s,
		uint64_t top, struct rw_err *err)
{
	struct memread_stats st;
	struct memread_sink sink = { hex_data, NULL, in };
	uint64_t end;

	/* The window starts on a half-window boundary at or before top, within the area. */
	in->hex_base = top & ~(uint64_t)(INSPECT_HEX_WINDOW / 2 - 1);
	if (in->hex_base > top)
		in->hex_base = top;
	if (in->hex_base < in->start)
		in->hex_base = in->start & ~(uint64_t)4095;
	end = in->hex_base + INSPECT_HEX_WINDOW;
	if (end > in->end)
		end = in->end;
	memset(in->hex, 0, INSPECT_HEX_WINDOW);
	memset(in->hex_present, 0, INSPECT_HEX_WINDOW / 4096);
	in->hex_valid = 1;
	return memread_range(p, s, in->hex_base, end, NULL, &sink, &st, err);
}
