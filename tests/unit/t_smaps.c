/* Unit tests of the smaps / pmap parser and the kind classifier. */
#include "tap.h"
#include <errno.h>
#include "region.h"
#include "smaps.h"

static struct snapshot *parse_str(const char *text, int *rc, struct rw_err *err)
{
	struct snapshot *s = snapshot_new();
	*rc = smaps_parse(text, strlen(text), s, err);
	if (!*rc)
		snapshot_classify(s);
	return s;
}

static struct snapshot *parse_file(const char *rel)
{
	size_t len;
	char *buf = tap_slurp(rel, &len);
	struct snapshot *s = snapshot_new();
	struct rw_err err;
	int rc = smaps_parse(buf, len, s, &err);
	ok(rc == 0, "%s parses%s%s", rel, rc ? ": " : "", rc ? err.msg : "");
	free(buf);
	snapshot_classify(s);
	return s;
}

static const struct region *find(const struct snapshot *s, uint64_t addr)
{
	long i = snapshot_find(s, addr);
	return i < 0 ? NULL : &s->regions[i];
}

static void expect_error(const char *name, const char *text, const char *want_line)
{
	struct rw_err err = { 0, "" };
	int rc;
	struct snapshot *s = parse_str(text, &rc, &err);
	ok(rc < 0 && strstr(err.msg, want_line), "malformed %s rejected with '%s' (%s)", name,
	   want_line, err.msg);
	snapshot_free(s);
}

static void test_real_smaps(void)
{
	struct snapshot *s = parse_file("fixtures/smaps/shared_leaker.smaps");
	const struct region *r;

	is_u64(s->count, 12, "leaker smaps: 12 regions");
	ok(s->format == SNAP_FMT_SMAPS, "detected as smaps");
	r = &s->regions[0];
	is_u64(r->start, 0x55c8b889b000ULL, "first region start");
	is_u64(r->end, 0x55c8b88bc000ULL, "first region end");
	is_str(r->path, "[heap]", "heap path");
	is_str(region_kind_name(r->kind), "heap", "heap kind");
	is_u64(r->f[RF_SIZE], 132 * 1024, "Size in bytes");
	is_u64(r->f[RF_RSS], 8 * 1024, "Rss in bytes");
	is_u64(r->f[RF_PSS_DIRTY], 8 * 1024, "Pss_Dirty in bytes");
	ok(r->thp_eligible == 0, "THPeligible kept");
	is_str(r->vmflags, "rd wr mr mw me ac", "VmFlags text kept (trailing space dropped)");
	ok(region_has_vmflag(r, "ac") && !region_has_vmflag(r, "dd"), "VmFlags bits");
	ok(snapshot_has_field(s, RF_ANONYMOUS) && snapshot_has_field(s, RF_SWAP), "fields present");
	r = find(s, 0x7f7b88000000ULL);
	ok(r && r->kind == KIND_GLIBC_ARENA, "64 MiB-aligned rw prefix is glibc-arena");
	r = find(s, 0x7f7b881fd000ULL);
	ok(r && r->kind == KIND_GLIBC_ARENA && r->perms[0] == '-', "its ---p tail is glibc-arena");
	snapshot_free(s);
}

static void test_real_pmap_x(void)
{
	struct snapshot *s = parse_file("fixtures/smaps/shared_leaker.pmap_x");
	const struct region *r;

	ok(s->format == SNAP_FMT_PMAP_X, "detected as pmap -x");
	is_u64(s->count, 32, "32 rows (footer skipped)");
	r = find(s, 0x7f7b88000000ULL);
	ok(r != NULL, "arena row found");
	if (r) {
		is_u64(r->end - r->start, 2024 * 1024, "end = start + Kbytes");
		is_u64(r->f[RF_RSS], 2024 * 1024, "RSS in bytes");
		is_str(r->path, "", "[ anon ] is an empty path");
		is_str(r->perms, "rw-p", "mode rw--- becomes rw-p");
		is_str(region_kind_name(r->kind), "glibc-arena", "arena kind from layout");
	}
	r = find(s, 0x7f7b98a26000ULL);
	ok(r && !strcmp(r->path, "libc.so.6") && !strcmp(r->perms, "r-xp"), "file row");
	ok(!snapshot_has_field(s, RF_ANONYMOUS), "pmap -x has no Anonymous column");
	snapshot_free(s);
}

static void test_real_go(void)
{
	struct snapshot *s = parse_file("fixtures/smaps/shared_go_t10s.smaps");
	size_t go = 0;

	for (size_t i = 0; i < s->count; i++)
		go += s->regions[i].kind == KIND_GO_HEAP;
	is_u64(go, s->count, "every mapping at 0xc000000000.. is go-heap");
	snapshot_free(s);
}

static const char special_smaps[] =
	"# regionwatch-snapshot 1\n"
	"# pid 4242\n"
	"# time 1795377719\n"
	"# start_ticks 777\n"
	"# comm my prog\n"
	"# cmdline ./my prog --x\n"
	"# kernel 6.18.0\n"
	"7f0000000000-7f0000001000 rw-s 00000000 00:01 1234                       /memfd:rw-test (deleted)\n"
	"Size:                  4 kB\n"
	"Rss:                   4 kB\n"
	"Shared_Dirty:          4 kB\n"
	"FutureField:     what ever 12 x\n"
	"VmFlags: rd wr sh mr mw me ms zz \n"
	"7f0000001000-7f0000003000 r--p 00001000 fe:01 99                         /tmp/rw test dir/a file.bin (deleted)\r\n"
	"Size:                  8 kB\r\n"
	"Rss:                   0 kB\r\n"
	"7f0000003000-7f0000005000 rw-p 00000000 00:00 0                          [anon:rw test name]\n"
	"Size:                  8 kB\n"
	"Rss:                   8 kB\n"
	"Anonymous:             8 kB\n"
	"ProtectionKey:         0\n"
	"7f0000005000-7f0000006000 ---p 00000000 00:00 0 \n"
	"Size:                  4 kB\n"
	"Rss:                   0 kB\n"
	"\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
	"Rss:                  12 kB\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
	"Rss:                   0 kB\n";

static void test_special_paths(void)
{
	int rc;
	struct rw_err err;
	struct snapshot *s = parse_str(special_smaps, &rc, &err);

	ok(rc == 0, "special paths parse%s%s", rc ? ": " : "", rc ? err.msg : "");
	is_u64(s->count, 6, "six regions");
	is_u64(s->meta.pid, 4242, "header pid");
	is_u64(s->meta.start_ticks, 777, "header start_ticks");
	is_str(s->meta.comm, "my prog", "header comm");
	is_str(s->meta.cmdline, "./my prog --x", "header cmdline");
	is_u64(s->meta.version, 1, "header version");
	is_str(s->regions[0].path, "/memfd:rw-test (deleted)", "memfd path");
	is_str(region_kind_name(s->regions[0].kind), "memfd", "memfd kind");
	ok(region_has_vmflag(&s->regions[0], "sh"), "sh flag");
	is_str(s->regions[0].vmflags, "rd wr sh mr mw me ms zz", "unknown flag kept in text");
	is_str(s->regions[1].path, "/tmp/rw test dir/a file.bin (deleted)",
	       "path with spaces and (deleted), CRLF stripped");
	is_str(region_kind_name(s->regions[1].kind), "file", "deleted file is kind file");
	is_u64(s->regions[1].offset, 0x1000, "offset");
	is_u64(s->regions[1].dev_major, 0xfe, "dev major");
	is_u64(s->regions[1].inode, 99, "inode");
	is_str(s->regions[2].path, "[anon:rw test name]", "[anon:...] name");
	is_str(region_kind_name(s->regions[2].kind), "anon", "named anon is anon");
	is_str(s->regions[3].path, "", "no path");
	is_str(region_kind_name(s->regions[3].kind), "guard", "---p without RSS is guard");
	is_str(region_kind_name(s->regions[4].kind), "stack", "[stack]");
	is_str(region_kind_name(s->regions[5].kind), "special", "[vsyscall]");
	snapshot_free(s);
}

static void test_maps_and_empty(void)
{
	int rc;
	struct rw_err err;
	struct snapshot *s = parse_str("00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon\n"
				       "00e03000-00e24000 rw-p 00000000 00:00 0           [heap]\n", &rc, &err);

	ok(rc == 0 && s->count == 2 && s->format == SNAP_FMT_MAPS, "/proc/PID/maps text parses as maps");
	is_u64(s->regions[1].f[RF_SIZE], 0x21000, "maps: size from the range");
	snapshot_free(s);
	s = parse_str("", &rc, &err);
	ok(rc == 0 && s->count == 0, "empty text: no regions, no error (the loader reports it)");
	snapshot_free(s);
	s = parse_str("# regionwatch-snapshot 1\n# pid 1\n", &rc, &err);
	ok(rc == 0 && s->count == 0 && s->meta.pid == 1, "header only: no regions");
	snapshot_free(s);
}

static const char pmap_X[] =
	"2532:   sleep 100\n"
	"         Address Perm   Offset Device  Inode Size  Rss  Pss Pss_Dirty Referenced Anonymous KSM LazyFree ShmemPmdMapped FilePmdMapped Shared_Hugetlb Private_Hugetlb Swap SwapPss Locked THPeligible Mapping\n"
	"    556bfce4a000 r--p 00000000  fe:00 247101    8    8    8         0          8         0   0        0              0             0              0               0    0       0      0           0 sleep\n"
	"    556c29408000 rw-p 00000000  00:00      0  132    4    4         4          4         4   0        0              0             0              0               0    0       0      0           0 [heap]\n"
	"    7fb374492000 rw-p 00000000  00:00      0   16   12   12        12         12        12   0        0              0             0              0               0    4       4      0           0 \n"
	"                                             ==== ==== ==== ========= ========== ========= === ======== ============== ============= ============== =============== ==== ======= ====== =========== \n"
	"                                              156   24   24        16         24        16   0        0              0             0              0               0    4       4      0           0 KB \n";

static const char pmap_XX[] =
	"2532:   sleep 100\n"
	"         Address Perm   Offset Device  Inode Size KernelPageSize MMUPageSize  Rss  Pss Pss_Dirty Shared_Clean Shared_Dirty Private_Clean Private_Dirty Referenced Anonymous KSM LazyFree AnonHugePages ShmemPmdMapped FilePmdMapped Shared_Hugetlb Private_Hugetlb Swap SwapPss Locked THPeligible              VmFlags Mapping\n"
	"    556bfce4a000 r--p 00000000  fe:00 247101    8              4           4    8    8         0            0            0             8             0          8         0   0        0             0              0             0              0               0    0       0      0           0          rd mr mw me sleep\n"
	"    556c29408000 rw-p 00000000  00:00      0  132              4           4    4    4         4            0            0             0             4          4         4   0        0             0              0             0              0               0    0       0      0           0    rd wr mr mw me ac [heap]\n"
	"    7fb374400000 r--p 00000000  fe:00    333    4              4           4    4    4         0            0            0             4             0          4         0   0        0             0              0             0              0               0    0       0      0           0          rd mr mw me my file name\n"
	"                                             ==== ============== =========== ==== ==== ========= ============ ============ ============= ============= ========== ========= === ======== ============= ============== ============= ============== =============== ==== ======= ====== =========== \n"
	"                                              144             12          12   16   16         4            0            0            16             4         16         4   0        0             0              0             0              0               0    0       0      0           0 KB \n";

static void test_pmap_X(void)
{
	int rc;
	struct rw_err err;
	struct snapshot *s = parse_str(pmap_X, &rc, &err);

	ok(rc == 0, "pmap -X parses%s%s", rc ? ": " : "", rc ? err.msg : "");
	ok(s->format == SNAP_FMT_PMAP_XX && s->count == 3, "pmap -X: 3 regions, totals skipped");
	is_u64(s->meta.pid, 2532, "pmap title pid");
	is_str(s->meta.cmdline, "sleep 100", "pmap title command");
	is_u64(s->regions[1].end - s->regions[1].start, 132 * 1024, "end from Size");
	is_u64(s->regions[1].f[RF_ANONYMOUS], 4096, "Anonymous column");
	is_str(s->regions[1].path, "[heap]", "[heap] mapping");
	is_u64(s->regions[2].f[RF_SWAP], 4096, "Swap column");
	is_str(s->regions[2].path, "", "anonymous row: empty mapping");
	ok(snapshot_has_field(s, RF_PSS) && !snapshot_has_field(s, RF_PRIVATE_DIRTY),
	   "fields present follow the header");
	snapshot_free(s);

	s = parse_str(pmap_XX, &rc, &err);
	ok(rc == 0, "pmap -XX parses%s%s", rc ? ": " : "", rc ? err.msg : "");
	is_u64(s->count, 3, "pmap -XX: 3 regions");
	is_str(s->regions[0].vmflags, "rd mr mw me", "VmFlags column");
	is_str(s->regions[0].path, "sleep", "mapping after VmFlags");
	is_str(s->regions[1].vmflags, "rd wr mr mw me ac", "VmFlags column (6 flags)");
	ok(region_has_vmflag(&s->regions[1], "ac"), "VmFlags bits from pmap -XX");
	is_str(s->regions[2].path, "my file name", "mapping with spaces");
	is_u64(s->regions[1].f[RF_PRIVATE_DIRTY], 4096, "Private_Dirty column");
	snapshot_free(s);
}

static void test_malformed(void)
{
	expect_error("address", "7f00zz-7f01 rw-p 0 00:00 0\n", "line 1:");
	expect_error("truncated header", "Size: 4 kB\n", "line 1: field line before any region");
	expect_error("end<start", "2000-1000 rw-p 00000000 00:00 0\n", "line 1: region end");
	expect_error("bad perms", "1000-2000 rwzp 00000000 00:00 0\n", "line 1: bad permissions");
	expect_error("bad number", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nRss:  12x kB\n",
		     "line 3: bad number");
	expect_error("bad unit", "1000-2000 rw-p 00000000 00:00 0\nRss:  12 MB\n", "line 2:");
	expect_error("overflow", "1000-2000 rw-p 00000000 00:00 0\nRss:  99999999999999999999 kB\n",
		     "line 2:");
	expect_error("kB overflow", "1000-2000 rw-p 00000000 00:00 0\nRss:  18446744073709551615 kB\n",
		     "line 2: number out of range");
	expect_error("unsorted", "3000-4000 rw-p 00000000 00:00 0\n1000-2000 rw-p 00000000 00:00 0\n",
		     "line 2: region precedes");
	expect_error("garbage line", "1000-2000 rw-p 00000000 00:00 0\nhello world\n", "line 2: not a smaps line");
	expect_error("text", "hello\nworld\n", "line 1: not a smaps line");
	expect_error("plain pmap", "1: x\nAddress Kbytes Mode Offset Device Mapping\n", "plain 'pmap'");
	expect_error("17-digit address", "10000000000000000-10000000000000001 rw-p 0 00:00 0\n", "line 1");
	{
		static const char bin[] = "1000-2000 rw-p 00000000 00:00 0\nSi\0ze: 4 kB\n";
		struct snapshot *s = snapshot_new();
		struct rw_err err;
		int rc = smaps_parse(bin, sizeof(bin) - 1, s, &err);
		ok(rc < 0 && strstr(err.msg, "line 2: binary data"), "NUL byte rejected (%s)", err.msg);
		snapshot_free(s);
	}
}

static void test_bad_fixtures(void)
{
	/* Hand-made malformed files (fixtures/smaps/README.md): each is rejected naming the
	 * line of its defect; none crashes. */
	static const struct { const char *name; const char *line; } bad[] = {
		{ "bad_truncated_header.smaps", "line 26:" },
		{ "bad_addr.smaps", "line 26:" },
		{ "bad_end_before_start.smaps", "line 26:" },
		{ "bad_number.smaps", "line 30:" },
		{ "bad_field_before_header.smaps", "line 1:" },
		{ "bad_long_line.smaps", "line 51:" },
		{ "bad_order.smaps", "line 26:" },
		{ "bad_binary.smaps", "line 1:" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rel[256];
		size_t len;
		char *buf;
		struct snapshot *s = snapshot_new();
		struct rw_err err = { 0, "" };
		int rc;

		snprintf(rel, sizeof(rel), "fixtures/smaps/bad/%s", bad[i].name);
		buf = tap_slurp(rel, &len);
		rc = smaps_parse(buf, len, s, &err);
		ok(rc < 0 && !strncmp(err.msg, bad[i].line, strlen(bad[i].line)), "%s rejected at %s (%s)",
		   bad[i].name, bad[i].line, err.msg);
		free(buf);
		snapshot_free(s);
	}
}

static void test_edge_and_captures(void)
{
	static const char *const edge[] = { "valid_base.smaps", "no_final_newline.smaps", "long_path.smaps" };
	struct snapshot *s, *x, *X, *XX;

	for (size_t i = 0; i < 3; i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "fixtures/smaps/edge/%s", edge[i]);
		s = parse_file(rel);
		is_u64(s->count, 3, "%s: 3 regions", edge[i]);
		if (i == 1)
			is_str(s->regions[2].vmflags, "rd wr mr mw me gd ac", "last line without newline parsed");
		if (i == 2) {
			ok(strlen(s->regions[1].path) > 3790 &&
			   !strcmp(s->regions[1].path + strlen(s->regions[1].path) - 10, " (deleted)"),
			   "3,800-character path with spaces and (deleted) kept whole");
		}
		snapshot_free(s);
	}
	/* The same process as smaps, pmap -x, pmap -X and pmap -XX: same regions. */
	s = parse_file("fixtures/smaps/special_for_pmap.smaps");
	x = parse_file("fixtures/smaps/special.pmap_x");
	X = parse_file("fixtures/smaps/special.pmap_X");
	XX = parse_file("fixtures/smaps/special.pmap_XX");
	is_u64(x->count, s->count, "pmap -x: as many regions as smaps");
	is_u64(X->count, s->count, "pmap -X: as many regions as smaps");
	is_u64(XX->count, s->count, "pmap -XX: as many regions as smaps");
	{
		int same = x->count == s->count && X->count == s->count && XX->count == s->count;
		for (size_t i = 0; same && i < s->count; i++)
			same = x->regions[i].start == s->regions[i].start &&
			       x->regions[i].end == s->regions[i].end &&
			       X->regions[i].end == s->regions[i].end &&
			       XX->regions[i].start == s->regions[i].start &&
			       !strcmp(XX->regions[i].perms, s->regions[i].perms) &&
			       !strcmp(XX->regions[i].vmflags, s->regions[i].vmflags);
		ok(same, "all four agree on ranges, perms and VmFlags");
	}
	{
		long i = snapshot_find(XX, 0x7f8fc0496000ULL);
		ok(i >= 0 && !strcmp(XX->regions[i].path, "memfd:rw-test (deleted)"), "pmap -XX memfd row");
		ok(i >= 0 && XX->regions[i].kind == KIND_MEMFD, "memfd kind from a pmap basename");
		i = snapshot_find(s, 0x7f8fc06a2000ULL);
		ok(i >= 0 && strstr(s->regions[i].path, "/file with spaces.bin"), "smaps path with spaces");
		i = snapshot_find(X, 0x7f8fc06a2000ULL);
		ok(i >= 0 && !strcmp(X->regions[i].path, "file with spaces.bin"), "pmap -X basename with spaces");
		i = snapshot_find(s, 0x7f8fb0000000ULL);
		ok(i >= 0 && s->regions[i].kind == KIND_GLIBC_ARENA, "thread arena in special.smaps");
	}
	snapshot_free(s);
	snapshot_free(x);
	snapshot_free(X);
	snapshot_free(XX);
	s = parse_file("fixtures/smaps/python.smaps");
	is_u64(s->count, 117, "python: 117 regions");
	snapshot_free(s);
	s = parse_file("fixtures/smaps/c_threads.smaps");
	{
		long i = snapshot_find(s, 0x7f4b6c000000ULL);
		ok(i >= 0 && s->regions[i].kind == KIND_GLIBC_ARENA, "c_threads: arena classified");
		i = snapshot_find(s, 0x7f4b73400000ULL);
		ok(i >= 0 && s->regions[i].kind == KIND_ANON, "c_threads: 256 MiB flat buffer is anon");
	}
	snapshot_free(s);
}

/* Inputs found by the fuzzer, parsed from exact-size buffers (no NUL after the text), so
 * ASan catches any read past the end. */
static void test_fuzz_regressions(void)
{
	/* Each found by the fuzzer in CI; parsed from a buffer of exactly its size (ASan sees a
	 * read past it), and the result is what the text says. */
	static const struct { const char *name, *err; } cases[] = {
		/* pmap -x: its third line is neither a row nor the footer */
		{ "crash-pmap-x-total-past-end.txt", "line 3: bad address in pmap -x line" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[256];
		size_t len;
		char *buf, *exact;
		struct snapshot *s = snapshot_new();
		struct rw_err err = { 0, "" };
		int rc;
		snprintf(rel, sizeof(rel), "fixtures/smaps/fuzz/%s", cases[i].name);
		buf = tap_slurp(rel, &len);
		exact = malloc(len ? len : 1);
		memcpy(exact, buf, len);
		rc = smaps_parse(exact, len, s, &err);
		ok(rc == -EINVAL && !strcmp(err.msg, cases[i].err),
		   "fuzz regression %s: refused with '%s' (%s)", cases[i].name, cases[i].err, err.msg);
		free(exact);
		free(buf);
		snapshot_free(s);
	}
}

static void test_header_roundtrip(void)
{
	struct snapshot_meta m = { .version = 1, .pid = 99, .time = 1795377719.0, .start_ticks = 12345,
				   .comm = "a\nb", .cmdline = "cmd  x", .kernel = "6.18" };
	char buf[1024];
	size_t n = smaps_format_header(buf, sizeof(buf), &m);
	int rc;
	struct rw_err err;
	struct snapshot *s;

	ok(n > 0 && n < sizeof(buf), "header formatted");
	strcat(buf, "1000-2000 rw-p 00000000 00:00 0\nRss: 4 kB\n");
	/* Format 2 closes with its end line; without it the file was cut short. */
	s = parse_str(buf, &rc, &err);
	ok(rc < 0 && strstr(err.msg, "line 9: snapshot cut short"), "format 2 without '# end': refused at its last line (%s)",
	   err.msg);
	snapshot_free(s);
	smaps_format_end(buf + strlen(buf), sizeof(buf) - strlen(buf), 1, 0);
	s = parse_str(buf, &rc, &err);
	ok(rc == 0 && s->meta.pid == 99 && s->meta.start_ticks == 12345 && s->meta.version == 2,
	   "header round-trips");
	is_str(s->meta.comm, "a\\x0ab", "control bytes in comm are escaped");
	is_str(s->meta.cmdline, "cmd  x", "cmdline kept");
	snapshot_free(s);
	strcat(buf, "2000-3000 rw-p 00000000 00:00 0\n");
	s = parse_str(buf, &rc, &err);
	ok(rc < 0 && strstr(err.msg, "region after the snapshot's closing"), "a region after '# end': refused (%s)",
	   err.msg);
	snapshot_free(s);
	{
		char two[1024];
		n = smaps_format_header(two, sizeof(two), &m);
		strcat(two, "1000-2000 rw-p 00000000 00:00 0\n");
		smaps_format_end(two + strlen(two), sizeof(two) - strlen(two), 2, 0);
		s = parse_str(two, &rc, &err);
		ok(rc < 0 && strstr(err.msg, "says 2 regions, 1 were read"), "'# end' with another count: refused (%s)",
		   err.msg);
		snapshot_free(s);
	}
}

/* Torn /proc reads (design §5 "Torn read"): a later record overlapping earlier ones
 * replaces them and is counted; never an error. */
static void test_torn(void)
{
	struct snapshot *s;
	const struct region *r;
	struct rw_err err = { 0, "" };
	int rc;

	/* cat /proc/PID/smaps of a Go program: the heap at 0xc000000000 printed twice. */
	s = parse_file("fixtures/smaps/torn/go_repeated_vma.smaps");
	is_u64(s->torn, 1, "Go capture: 1 torn record");
	is_u64(s->count, 26, "Go capture: 27 records, 26 regions");
	r = find(s, 0xc000000000);
	ok(r && r->start == 0xc000000000 && r->end == 0xc006c00000,
	   "Go heap: the later, larger record kept (c000000000-c006c00000)");
	r = find(s, 0xc006c00000);
	ok(r && r->start == 0xc006c00000 && !strcmp(r->perms, "---p"), "its ---p tail follows");
	snapshot_free(s);

	/* pmap -x of a growing glibc thread arena: the arena three times. */
	s = parse_file("fixtures/smaps/torn/pmap_x_repeated_vma.pmap_x");
	is_u64(s->torn, 2, "pmap -x capture: 2 torn records");
	r = find(s, 0x7f00e8000000);
	ok(r && r->end == 0x7f00e8000000 + 23936ull * 1024 && r->f[RF_RSS] == 23936ull * 1024,
	   "arena: the last of three records kept (23936 kB)");
	ok(r && r + 1 < s->regions + s->count && r[1].start == r->end, "the arena's ---p tail follows");
	snapshot_free(s);

	s = parse_file("fixtures/smaps/torn/overlap_into_heap.smaps");
	is_u64(s->torn, 1, "a record starting inside [heap]: 1 torn");
	is_u64(s->count, 2, "... 2 regions left");
	snapshot_free(s);

	/* One record overlapping the two before it replaces both; its own fields are kept. */
	s = parse_str("1000-2000 rw-p 0 00:00 0\nRss: 4 kB\n2000-3000 rw-p 0 00:00 0\nRss: 4 kB\n"
		      "1800-4000 rw-p 0 00:00 0\nRss: 8 kB\n4000-5000 r--p 0 00:00 0\n", &rc, &err);
	ok(rc == 0, "overlap of two records parses (%s)", rc ? err.msg : "ok");
	is_u64(s->torn, 2, "... 2 torn");
	is_u64(s->count, 2, "... 2 regions");
	ok(s->count == 2 && s->regions[0].start == 0x1800 && s->regions[0].f[RF_RSS] == 8192 &&
	   s->regions[1].start == 0x4000, "... the later record with its fields, then the next");
	snapshot_free(s);

	/* The same record twice. */
	s = parse_str("1000-2000 rw-p 0 00:00 0\n1000-2000 rw-p 0 00:00 0\n", &rc, &err);
	ok(rc == 0 && s->torn == 1 && s->count == 1, "a record printed twice: 1 region, 1 torn");
	snapshot_free(s);
	/* reset clears the count */
	s = snapshot_new();
	rc = smaps_parse("1000-2000 rw-p 0 00:00 0\n1000-3000 rw-p 0 00:00 0\n", 50, s, &err);
	snapshot_reset(s);
	is_u64(s->torn, 0, "snapshot_reset clears the torn count");
	snapshot_free(s);

	/* A record wholly below the previous one is not a torn read: unsorted text. */
	expect_error("record below the previous one",
		     "3000-4000 rw-p 0 00:00 0\n1000-2000 rw-p 0 00:00 0\n", "line 2: region precedes");
}

static int same_snapshot(const struct snapshot *a, const struct snapshot *b)
{
	if (a->count != b->count || a->torn != b->torn || a->fields_present != b->fields_present ||
	    a->format != b->format || a->meta.version != b->meta.version ||
	    a->meta.pid != b->meta.pid || a->meta.end_seen != b->meta.end_seen ||
	    a->nthreads != b->nthreads || strcmp(a->meta.comm, b->meta.comm))
		return 0;
	for (size_t i = 0; i < a->count; i++) {
		const struct region *x = &a->regions[i], *y = &b->regions[i];
		if (x->start != y->start || x->end != y->end || x->offset != y->offset ||
		    x->inode != y->inode || x->dev_major != y->dev_major ||
		    x->dev_minor != y->dev_minor || strcmp(x->perms, y->perms) ||
		    strcmp(x->path, y->path) || strcmp(x->vmflags, y->vmflags) ||
		    x->vmflags_mask != y->vmflags_mask || x->thp_eligible != y->thp_eligible ||
		    memcmp(x->f, y->f, sizeof(x->f)))
			return 0;
	}
	return 1;
}

/* The incremental parser fed in pieces of every size from 1 byte (records, lines and
 * "kB\n" cut anywhere) gives what smaps_parse gives for the whole text: the same regions,
 * torn records, header, and the same error naming the same line. */
static void test_incremental(void)
{
	static const char *const files[] = {
		"fixtures/smaps/c_threads.smaps", "fixtures/smaps/special.smaps",
		"fixtures/smaps/go_leak.smaps", "fixtures/smaps/torn/go_repeated_vma.smaps",
		"fixtures/smaps/torn/overlap_into_heap.smaps", "fixtures/smaps/edge/long_path.smaps",
		"fixtures/smaps/edge/no_final_newline.smaps", "fixtures/smaps/bad/bad_number.smaps",
		"fixtures/smaps/bad/bad_long_line.smaps", "fixtures/smaps/bad/bad_order.smaps",
		"fixtures/smaps/bad/bad_binary.smaps", "fixtures/smaps/bad/empty.smaps",
		"fixtures/smaps/bad/bad_field_before_header.smaps",
	};
	static const size_t pieces[] = { 1, 2, 3, 7, 29, 64, 4095, 4096, 1 << 20 };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *buf = tap_slurp(files[i], &len);
		struct snapshot *whole = snapshot_new();
		struct rw_err ew = { 0, "" };
		int rcw = smaps_parse(buf, len, whole, &ew), all = 1;

		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			struct snapshot *inc = snapshot_new();
			struct smaps_parser ps;
			struct rw_err ei = { 0, "" };
			int rci = 0;

			smaps_parser_init(&ps, inc);
			for (size_t o = 0; o < len && !rci; o += pieces[k])
				rci = smaps_parser_feed(&ps, buf + o, len - o < pieces[k] ? len - o : pieces[k], &ei);
			rci = rci ? (smaps_parser_finish(&ps, NULL), rci) : smaps_parser_finish(&ps, &ei);
			if (rci != rcw || strcmp(ei.msg, ew.msg) || (!rcw && !same_snapshot(whole, inc))) {
				if (all)
					printf("# %s in pieces of %zu: rc %d '%s', whole: rc %d '%s'\n", files[i],
					       pieces[k], rci, ei.msg, rcw, ew.msg);
				all = 0;
			}
			snapshot_free(inc);
		}
		ok(all, "incremental parse of %s in pieces of 1..1M bytes = smaps_parse (%s)", files[i],
		   rcw ? ew.msg : "ok");
		snapshot_free(whole);
		free(buf);
	}
}

/* Stream mode hands out what smaps_parse + snapshot_classify give: collect its regions. */
static void collect(void *ctx, const struct region *r)
{
	struct snapshot *out = ctx;
	struct region *d = snapshot_add(out);

	*d = *r;
	d->path = snapshot_strdup(out, r->path, strlen(r->path));
	d->vmflags = snapshot_strdup(out, r->vmflags, strlen(r->vmflags));
}

/* rc of a stream parse of buf in pieces of piece bytes; out gets the regions, and the
 * counts and meta of the parser's snapshot (for same_snapshot). */
static int stream_parse(const char *buf, size_t len, size_t piece, struct snapshot *out,
			struct rw_err *err)
{
	struct snapshot *win = snapshot_new();
	struct smaps_parser ps;
	int rc = 0;

	smaps_parser_init(&ps, win);
	smaps_parser_stream(&ps, collect, out);
	for (size_t o = 0; o < len && !rc; o += piece)
		rc = smaps_parser_feed(&ps, buf + o, len - o < piece ? len - o : piece, err);
	rc = rc ? (smaps_parser_finish(&ps, NULL), rc) : smaps_parser_finish(&ps, err);
	ok(win->count == 0 || rc, "stream: no region left in the window") ;
	out->torn = win->torn;
	out->fields_present = win->fields_present;
	out->format = win->format;
	out->meta.version = win->meta.version;
	out->meta.pid = win->meta.pid;
	out->meta.end_seen = win->meta.end_seen;
	out->meta.comm = snapshot_strdup(out, win->meta.comm, strlen(win->meta.comm));
	out->nthreads = win->nthreads;
	snapshot_free(win);
	return rc;
}

static int same_kinds(const struct snapshot *a, const struct snapshot *b)
{
	for (size_t i = 0; i < a->count && i < b->count; i++)
		if (a->regions[i].kind != b->regions[i].kind)
			return 0;
	return a->count == b->count;
}

/* Synthetic smaps text: n regions of 4 KiB, one page apart, glibc arenas and guards among
 * them, a thread whose sp is in region 701, and a torn record every 97 regions (the region
 * printed again, grown into the gap after it). */
static char *big_text(size_t n, int reach_back, size_t *len)
{
	size_t cap = n * 160 + 4096, o = 0;
	char *t = xmalloc(cap);
	uint64_t base = 0x7f0000000000ULL;

	o += (size_t)snprintf(t + o, cap - o, "# regionwatch-snapshot 1\n# pid 7\n"
			      "# thread 8 0x%llx worker\n",
			      (unsigned long long)(base + 701 * 0x2000 + 16));
	for (size_t i = 0; i < n; i++) {
		uint64_t s = base + i * 0x2000;
		const char *perms = i % 50 == 3 ? "---p" : "rw-p";
		o += (size_t)snprintf(t + o, cap - o, "%llx-%llx %s 00000000 00:00 0 %s\n"
				      "Size: 4 kB\nRss: %zu kB\nAnonymous: 0 kB\n",
				      (unsigned long long)s, (unsigned long long)(s + 0x1000), perms,
				      i % 7 ? "" : "/lib/x.so", (i % 3) * 4);
		if (i % 97 == 50)
			o += (size_t)snprintf(t + o, cap - o, "%llx-%llx rw-p 00000000 00:00 0 \n"
					      "Size: 8 kB\nRss: 8 kB\n", (unsigned long long)s,
					      (unsigned long long)(s + 0x1800));
	}
	if (reach_back)     /* covers everything from region 1 on */
		o += (size_t)snprintf(t + o, cap - o, "%llx-%llx rw-p 00000000 00:00 0 \nRss: 4 kB\n",
				      (unsigned long long)(base + 0x2000),
				      (unsigned long long)(base + n * 0x2000));
	*len = o;
	return t;
}

static void test_stream(void)
{
	static const char *const files[] = {
		"fixtures/smaps/c_threads.smaps", "fixtures/smaps/special.smaps",
		"fixtures/smaps/go_leak.smaps", "fixtures/smaps/torn/go_repeated_vma.smaps",
		"fixtures/smaps/torn/overlap_into_heap.smaps", "fixtures/smaps/edge/long_path.smaps",
		"fixtures/smaps/edge/no_final_newline.smaps", "fixtures/smaps/bad/bad_number.smaps",
		"fixtures/smaps/bad/bad_order.smaps", "fixtures/smaps/bad/bad_binary.smaps",
		"fixtures/smaps/bad/bad_field_before_header.smaps", "fixtures/smaps/c_threads_b.smaps",
		NULL, NULL,
	};
	static const size_t pieces[] = { 1, 29, 4096, 1 << 20 };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *buf = files[i] ? tap_slurp(files[i], &len) : big_text(5000, 0, &len);
		const char *name = files[i] ? files[i] : "synthetic 5000 regions";
		struct snapshot *whole = snapshot_new();
		struct rw_err ew = { 0, "" };
		int rcw = smaps_parse(buf, len, whole, &ew), all = 1;

		if (!files[i] && i + 1 == sizeof(files) / sizeof(files[0])) {
			/* the same with a torn record reaching back over every earlier one */
			free(buf);
			buf = big_text(5000, 1, &len);
			name = "synthetic, a record reaching back past the window";
		}
		snapshot_classify(whole);
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			struct snapshot *out = snapshot_new();
			struct rw_err es = { 0, "" };
			int rcs = stream_parse(buf, len, pieces[k], out, &es);
			if (files[i] || i + 2 == sizeof(files) / sizeof(files[0])) {
				if (rcs != rcw || strcmp(es.msg, ew.msg) ||
				    (!rcw && (!same_snapshot(whole, out) || !same_kinds(whole, out)))) {
					if (all)
						printf("# %s in pieces of %zu: rc %d '%s', whole: rc %d '%s'\n",
						       name, pieces[k], rcs, es.msg, rcw, ew.msg);
					all = 0;
				}
			} else if (!rcs || !strstr(es.msg, "too far back")) {
				all = 0;
			}
			snapshot_free(out);
		}
		ok(all, "stream parse of %s = smaps_parse + classify (%s)", name,
		   rcw ? ew.msg : "ok");
		if (!files[i] && i + 2 == sizeof(files) / sizeof(files[0])) {
			ok(whole->torn == 5000 / 97 + 1, "synthetic: %zu torn records", whole->torn);
			long at = snapshot_find(whole, 0x7f0000000000ULL + 701 * 0x2000 + 16);
			ok(at >= 0 && !strcmp(whole->regions[at].path, "[stack tid 8 worker]"),
			   "synthetic: the thread's stack is named");
		}
		snapshot_free(whole);
		free(buf);
	}
}

int main(void)
{
	test_real_smaps();
	test_real_pmap_x();
	test_real_go();
	test_special_paths();
	test_maps_and_empty();
	test_pmap_X();
	test_malformed();
	test_bad_fixtures();
	test_torn();
	test_edge_and_captures();
	test_header_roundtrip();
	test_fuzz_regressions();
	test_incremental();
	test_stream();
	return done_testing();
}
