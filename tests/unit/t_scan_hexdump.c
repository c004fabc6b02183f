/* Unit tests of scan_hexdump: byte-for-byte agreement with util-linux `hexdump -C`
 * (squeezing, short last lines, the final offset), chunking, zero holes, addresses. */
#include "tap.h"
#include "scan.h"

#include <stdint.h>
#include <unistd.h>

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Feed d in chunks (0: random sizes 1..9000); with zeros_as_holes, chunks that are all zero
 * go through scan_hexdump_zeros. Returns the output (memstream). */
static char *run(const unsigned char *d, size_t n, size_t chunk, int zeros_as_holes, uint64_t base,
		 int base_is_address, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct scan_hexdump *h = scan_hexdump_new(mem, base, base_is_address);
	uint64_t saved = rng_state;

	rng_state = 99;
	for (size_t off = 0; off < n;) {
		size_t c = chunk ? chunk : 1 + (size_t)(rng() % 9000), i;
		if (c > n - off)
			c = n - off;
		for (i = 0; i < c && !d[off + i]; i++)
			;
		if (zeros_as_holes && i == c)
			scan_hexdump_zeros(h, c);
		else
			scan_hexdump_feed(h, d + off, c);
		off += c;
	}
	rng_state = saved;
	scan_hexdump_finish(h);
	scan_hexdump_free(h);
	fclose(mem);
	if (outlen)
		*outlen = len;
	return buf;
}

static void show_diff(const char *got, const char *want)
{
	size_t i = 0, line = 1;

	if (!got || !want)
		return;
	while (got[i] && got[i] == want[i]) {
		if (got[i] == '\n')
			line++;
		i++;
	}
	if (got[i] != want[i])
		printf("#   first difference at byte %zu (line %zu): got '%.60s', want '%.60s'\n", i, line,
		       got + i, want + i);
}

/* Files: mixed data, long zero runs, repeated lines, sizes not a multiple of 16. */
static unsigned char *gen(size_t size, uint64_t seed, int zero_heavy)
{
	unsigned char *d = calloc(1, size ? size : 1);
	size_t o = 0;

	rng_state = seed;
	while (o < size) {
		unsigned kind = (unsigned)(rng() % 6);
		size_t n = 1 + (size_t)(rng() % (zero_heavy ? 200000 : 3000));
		if (n > size - o)
			n = size - o;
		if (kind == 0 || (zero_heavy && kind < 3)) {
			memset(d + o, 0, n);
		} else if (kind == 1) {
			for (size_t i = 0; i < n; i++)
				d[o + i] = (unsigned char)rng();
		} else if (kind == 2) {                 /* the same 16 bytes again and again */
			for (size_t i = 0; i < n; i++)
				d[o + i] = (unsigned char)("0123456789abcdef"[i % 16]);
		} else if (kind == 3) {                 /* one byte repeated */
			memset(d + o, 'A' + (int)(rng() % 3), n);
		} else if (kind == 4) {                 /* text */
			for (size_t i = 0; i < n; i++)
				d[o + i] = (unsigned char)(" abcdefghij\n\t"[rng() % 13]);
		} else {                                /* repeated lines with a shift */
			for (size_t i = 0; i < n; i++)
				d[o + i] = (unsigned char)((i % 17) * 15);
		}
		o += n;
	}
	return d;
}

static void test_against_hexdump(const char *dir)
{
	static const struct { size_t size; int zero_heavy; const char *name; } files[] = {
		{ 0, 0, "empty" }, { 1, 0, "one byte" }, { 15, 0, "15 bytes" }, { 16, 0, "16 bytes" },
		{ 17, 0, "17 bytes" }, { 24, 1, "24 zero bytes" }, { 48, 1, "48 zero bytes" },
		{ 2000003, 0, "mixed, 2000003 bytes" }, { 4u << 20, 1, "long zero runs, 4 MiB" },
		{ 3000001, 1, "long zero runs, 3000001 bytes" },
	};
	static const size_t chunks[] = { 1, 7, 16, 17, 4096, 0, SIZE_MAX };

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[256], cmd[512];
		size_t n = files[f].size, wl;
		unsigned char *d = gen(n, 1000 + f, files[f].zero_heavy);
		char *want;
		int all = 1, all_z = 1;

		snprintf(path, sizeof(path), "%s/f%zu.bin", dir, f);
		tap_write_file(path, d, n);
		snprintf(cmd, sizeof(cmd), "LC_ALL=C hexdump -C '%s'", path);
		want = tap_run_cmd(cmd, &wl, 0);
		ok(want != NULL, "ran hexdump -C on %s", files[f].name);
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			size_t ch = chunks[c] == SIZE_MAX ? (n ? n : 1) : chunks[c];
			char *got;
			if (ch == 1 && n > 100000)
				ch = 3;                         /* keep the run short: 3 is as odd */
			got = run(d, n, ch, 0, 0, 0, NULL);
			if (!want || strcmp(got, want)) {
				all = 0;
				printf("# chunks of %zu:\n", ch);
				show_diff(got, want);
			}
			free(got);
			got = run(d, n, ch, 1, 0, 0, NULL);
			if (!want || strcmp(got, want)) {
				all_z = 0;
				printf("# chunks of %zu, zero chunks as holes:\n", ch);
				show_diff(got, want);
			}
			free(got);
		}
		ok(all, "%s: byte-identical to hexdump -C, chunks of 1/3, 7, 16, 17, 4096, random, whole",
		   files[f].name);
		ok(all_z, "%s: the same with zero chunks fed as holes", files[f].name);
		free(want);
		free(d);
		unlink(path);
	}
}

static void test_format(void)
{
	char *got;

	got = run((const unsigned char *)"Hello\n", 6, 0, 0, 0, 0, NULL);
	is_str(got, "00000000  48 65 6c 6c 6f 0a                                 |Hello.|\n00000006\n",
	       "short line: padding keeps the bars in place");
	free(got);
	got = run((const unsigned char *)"0123456789abcdef0123456789abcdef0123456789abcdefXY", 50, 0, 0, 0, 0, NULL);
	is_str(got, "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n"
	       "*\n"
	       "00000030  58 59                                             |XY|\n"
	       "00000032\n", "repeated lines squeezed to '*', the short last line printed");
	free(got);
	got = run((const unsigned char *)"\x7f\x80\xff \x1f~", 6, 0, 0, 0, 0, NULL);
	is_str(got, "00000000  7f 80 ff 20 1f 7e                                 |... .~|\n00000006\n",
	       "ascii column: 0x20..0x7e as is, the rest '.'");
	free(got);
	got = run((const unsigned char *)"hello", 5, 0, 0, 0x7f3a2c001000ULL, 1, NULL);
	is_str(got, "7f3a2c001000  68 65 6c 6c 6f                                    |hello|\n7f3a2c001005\n",
	       "base_is_address: offsets are base + offset, at least 8 hex digits");
	free(got);
	got = run((const unsigned char *)"hello", 5, 0, 0, 0x7f3a2c001000ULL, 0, NULL);
	is_str(got, "00000000  68 65 6c 6c 6f                                    |hello|\n00000005\n",
	       "without base_is_address: offsets from 0");
	free(got);
}

static void test_big_hole(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct scan_hexdump *h = scan_hexdump_new(mem, 0x7f0000000000ULL, 1);
	static const unsigned char line[16] = "0123456789abcdef";

	scan_hexdump_feed(h, line, 16);
	scan_hexdump_zeros(h, 64ULL << 30);          /* 64 GiB: squeezed in O(1) */
	scan_hexdump_feed(h, line, 5);
	scan_hexdump_zeros(h, 3);
	scan_hexdump_finish(h);
	scan_hexdump_free(h);
	fclose(mem);
	is_str(buf, "7f0000000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n"
	       "7f0000000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"
	       "*\n"
	       "7f1000000010  30 31 32 33 34 00 00 00                           |01234...|\n"
	       "7f1000000018\n", "a 64 GiB hole: one zero line, '*', then the data after it");
	free(buf);

	buf = NULL;
	mem = open_memstream(&buf, &len);
	h = scan_hexdump_new(mem, 0, 0);
	scan_hexdump_zeros(h, 100);
	scan_hexdump_zeros(h, 28);
	scan_hexdump_feed(h, (const unsigned char *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	scan_hexdump_finish(h);
	scan_hexdump_free(h);
	fclose(mem);
	is_str(buf, "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"
	       "*\n00000090\n", "holes and zero data squeeze together, whatever the split");
	free(buf);
}

int main(void)
{
	char tmpl[] = "/tmp/t_scan_hexdump_XXXXXX";

	if (!mkdtemp(tmpl)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_format();
	test_big_hole();
	test_against_hexdump(tmpl);
	rmdir(tmpl);
	return done_testing();
}
