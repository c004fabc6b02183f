/* libFuzzer harness for the smaps / maps / pmap parser and the classifier.
 * Built and run by `make fuzz` (FUZZ_SECONDS bounds the run). */
#include <stddef.h>
#include <stdint.h>

#include "region.h"
#include "smaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot *s = snapshot_new();
	struct rw_err err;

	if (smaps_parse((const char *)data, size, s, &err) == 0) {
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
	snapshot_free(s);
	return 0;
}
