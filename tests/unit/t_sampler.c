/* Unit tests of the sampler on real processes: a cheap sample (maps + PAGEMAP_SCAN) gives
 * every region the Rss, Anonymous and Swap a full smaps read taken right after gives it; the
 * fields it does not refresh are not claimed; VmFlags are carried over, and a mapping new
 * since the last smaps read is marked unknown (memread will not read it); without
 * PAGEMAP_SCAN every sample is a full one. */
#include "tap.h"
#include "memread.h"
#include "sampler.h"
#include "smaps.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHEAP_FIELDS ((1u << RF_SIZE) | (1u << RF_RSS) | (1u << RF_ANONYMOUS) | (1u << RF_SWAP))

/* Start a fixture program (build/fixtures/NAME ARGS...) and wait for its "ready" line. */
static pid_t start_fixture(const char *name, const char *const args[])
{
	const char *build = getenv("RW_BUILD");
	char path[4096], line[512];
	char *argv[16];
	int pfd[2], n = 0;
	ssize_t got = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/fixtures/%s", build ? build : "build", name);
	argv[n++] = path;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	if (pipe(pfd))
		exit(1);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execv(path, argv);
		_exit(127);
	}
	close(pfd[1]);
	while (got < (ssize_t)sizeof(line) - 1) {
		ssize_t r = read(pfd[0], line + got, sizeof(line) - 1 - (size_t)got);
		if (r <= 0)
			break;
		got += r;
		if (memchr(line, '\n', (size_t)got))
			break;
	}
	close(pfd[0]);
	line[got > 0 ? got : 0] = '\0';
	if (strncmp(line, "ready", 5)) {
		printf("Bail out! fixture %s did not start (%s)\n", name, line);
		exit(1);
	}
	return pid;
}

static void stop_fixture(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static struct snapshot *read_smaps(pid_t pid)
{
	char path[64], *buf = NULL;
	size_t len = 0, cap = 0;
	struct snapshot *s = snapshot_new();
	struct rw_err err;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	fd = open(path, O_RDONLY);
	for (;;) {
		ssize_t n;
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (smaps_parse(buf, len, s, &err))
		printf("# smaps of %d: %s\n", (int)pid, err.msg);
	free(buf);
	return s;
}

/* A cheap sample of pid, then a full smaps read: the same regions with the same numbers. */
static void agree(const char *what, pid_t pid)
{
	struct sampler sm;
	struct rw_err err;
	struct snapshot *ref;
	const struct snapshot *cheap;
	size_t bad = 0, nonzero = 0;

	if (sampler_open(&sm, pid, &err)) {
		ok(0, "%s: sampler_open: %s", what, err.msg);
		return;
	}
	sm.full_every = 1000;
	ok(sampler_take(&sm, &err) == 0 && sm.last_full, "%s: the first sample reads smaps", what);
	ok(snapshot_has_field(sm.snap, RF_PSS), "%s: a full sample has Pss", what);
	ok(sampler_take(&sm, &err) == 0 && !sm.last_full, "%s: the second is a cheap one", what);
	cheap = sm.snap;
	ref = read_smaps(pid);
	is_u64(cheap->fields_present, CHEAP_FIELDS, "%s: a cheap sample claims Size, Rss, "
	       "Anonymous and Swap only", what);
	is_u64(cheap->count, ref->count, "%s: as many regions as smaps", what);
	for (size_t i = 0; i < cheap->count && i < ref->count; i++) {
		const struct region *c = &cheap->regions[i], *r = &ref->regions[i];
		nonzero += r->f[RF_RSS] != 0;
		if (c->start != r->start || c->end != r->end || c->f[RF_RSS] != r->f[RF_RSS] ||
		    c->f[RF_ANONYMOUS] != r->f[RF_ANONYMOUS] || c->f[RF_SWAP] != r->f[RF_SWAP] ||
		    c->f[RF_SIZE] != r->f[RF_SIZE]) {
			if (bad++ < 5)
				printf("# %s: %llx-%llx %s: rss %llu/%llu anon %llu/%llu swap %llu/%llu "
				       "(cheap/smaps)\n", what, (unsigned long long)c->start,
				       (unsigned long long)c->end, r->path,
				       (unsigned long long)c->f[RF_RSS], (unsigned long long)r->f[RF_RSS],
				       (unsigned long long)c->f[RF_ANONYMOUS],
				       (unsigned long long)r->f[RF_ANONYMOUS],
				       (unsigned long long)c->f[RF_SWAP], (unsigned long long)r->f[RF_SWAP]);
		}
	}
	ok(!bad && nonzero, "%s: every region's Rss, Anonymous and Swap equal smaps' (%zu regions, "
	   "%zu resident, %zu differ)", what, ref->count, nonzero, bad);
	snapshot_free(ref);
	sampler_close(&sm);
}

/* Our own process: an old mapping keeps its VmFlags, a new one is marked unknown. */
static void test_vmflags_carry(void)
{
	struct sampler sm;
	struct rw_err err;
	char *p;
	long i;

	if (sampler_open(&sm, getpid(), &err)) {
		ok(0, "self: sampler_open: %s", err.msg);
		return;
	}
	sm.full_every = 1000;
	sampler_take(&sm, &err);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 1, 3 * 4096);
	ok(sampler_take(&sm, &err) == 0 && !sm.last_full, "self: a cheap sample");
	i = snapshot_find(sm.snap, (uint64_t)(uintptr_t)p);
	ok(i >= 0 && (sm.snap->regions[i].vmflags_mask & REGION_VMFLAGS_UNKNOWN) &&
	   memread_skip_reason(&sm.snap->regions[i], 0), "self: a new mapping's VmFlags are unknown "
	   "and memread skips it (%s)", i >= 0 ? memread_skip_reason(&sm.snap->regions[i], 0) : "-");
	ok(i >= 0 && sm.snap->regions[i].f[RF_RSS] >= 3 * 4096, "self: its Rss counts the pages written");
	i = snapshot_find(sm.snap, (uint64_t)(uintptr_t)&sm);
	ok(i >= 0 && !(sm.snap->regions[i].vmflags_mask & REGION_VMFLAGS_UNKNOWN) &&
	   strstr(sm.snap->regions[i].vmflags, "rd wr"), "self: the stack keeps its VmFlags (%s)",
	   i >= 0 ? sm.snap->regions[i].vmflags : "-");
	sm.force_full = 1;
	ok(sampler_take(&sm, &err) == 0 && sm.last_full, "self: force_full reads smaps");
	i = snapshot_find(sm.snap, (uint64_t)(uintptr_t)p);
	ok(i >= 0 && !(sm.snap->regions[i].vmflags_mask & REGION_VMFLAGS_UNKNOWN),
	   "self: known again after the full sample");
	munmap(p, 1 << 20);
	sampler_close(&sm);
}

/* No PAGEMAP_SCAN (an fd on which the ioctl fails with ENOTTY): every sample is a full one. */
static void test_fallback(void)
{
	struct sampler sm;
	struct rw_err err;
	int ok_all = 1;

	if (sampler_open(&sm, getpid(), &err)) {
		ok(0, "fallback: sampler_open: %s", err.msg);
		return;
	}
	close(sm.pagemap_fd);
	sm.pagemap_fd = open("/dev/null", O_RDONLY);
	for (int i = 0; i < 4; i++)
		ok_all &= sampler_take(&sm, &err) == 0 && sm.last_full &&
			  snapshot_has_field(sm.snap, RF_PSS);
	ok(ok_all && sm.cheap_ok == 0 && sm.nfull == 4, "fallback: without PAGEMAP_SCAN every "
	   "sample reads smaps (%llu full)", (unsigned long long)sm.nfull);
	sampler_close(&sm);
}

/* The policy: full, then full_every - 1 cheap ones, then full again. */
static void test_policy(void)
{
	struct sampler sm;
	struct rw_err err;
	char kinds[16] = "";

	if (sampler_open(&sm, getpid(), &err)) {
		ok(0, "policy: sampler_open: %s", err.msg);
		return;
	}
	sm.full_every = 4;
	sm.full_seconds = 0;
	for (int i = 0; i < 9; i++) {
		sampler_take(&sm, &err);
		kinds[i] = sm.last_full ? 'F' : 'c';
	}
	is_str(kinds, "FcccFcccF", "policy: one full sample in every full_every");
	/* ... and no sooner than full_seconds after the last one (a short interval does not
	 * make the dear full reads frequent). */
	sm.full_seconds = 3600;
	for (int i = 0; i < 9; i++) {
		sampler_take(&sm, &err);
		kinds[i] = sm.last_full ? 'F' : 'c';
	}
	is_str(kinds, "ccccccccc", "policy: within full_seconds of a full sample, only cheap ones");
	ok(sampler_full_snapshot(&sm, &err) && sm.last_full && !(sm.snap->regions[0].vmflags_mask & REGION_VMFLAGS_UNKNOWN),
	   "sampler_full_snapshot reads smaps when the latest sample was cheap: VmFlags known");
	sampler_close(&sm);
}

int main(void)
{
	const char *const flat[] = { "-s", "64", "-t", "60", NULL };
	const char *const many[] = { "-n", "2000", "-t", "60", NULL };
	const char *const threads[] = { "-t", "60", NULL };
	const char *const special[] = { "-t", "60", NULL };
	pid_t pid;

	pid = start_fixture("flat", flat);
	agree("flat -s 64", pid);
	stop_fixture(pid);
	pid = start_fixture("many_maps", many);
	agree("many_maps -n 2000", pid);
	stop_fixture(pid);
	pid = start_fixture("threads", threads);
	agree("threads", pid);
	stop_fixture(pid);
	pid = start_fixture("special_maps", special);
	agree("special_maps", pid);
	stop_fixture(pid);
	test_vmflags_carry();
	test_fallback();
	test_policy();
	return done_testing();
}
