/* dumpfile: the sparse dump file and its manifest, for dump -o and the trigger action. */
#include "dumpfile.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

void dumpfile_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct dumpfile *d = ctx;

	if (d->fd >= 0 && !d->write_errno) {
		off_t off = (off_t)(addr - d->base);
		while (len) {
			ssize_t n = pwrite(d->fd, buf, len, off);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				d->write_errno = errno;
				break;
			}
			if (d->an)
				analysis_data(d->an, addr, buf, (size_t)n);
			buf += n;
			len -= (size_t)n;
			off += n;
			addr += (uint64_t)n;
		}
		if (d->an && len)
			analysis_data(d->an, addr, buf, len);
		return;
	}
	if (d->an)
		analysis_data(d->an, addr, buf, len);
}

void dumpfile_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why)
{
	struct dumpfile *d = ctx;
	if (d->an)
		analysis_hole(d->an, addr, len, why);
}

uint64_t dumpfile_mark(void *ctx)
{
	struct dumpfile *d = ctx;
	return d->an ? analysis_mark(d->an) : 0;
}

void dumpfile_settle(void *ctx, uint64_t mark)
{
	struct dumpfile *d = ctx;
	if (d->an)
		analysis_settle(d->an, mark);
}

void dumpfile_run(void *ctx, uint64_t start, uint64_t end)
{
	struct dumpfile *d = ctx;

	d->runs_total++;
	if (d->nruns == DUMPFILE_MANIFEST_MAX_RUNS)
		return;
	if (d->nruns == d->runs_cap) {
		d->runs_cap = d->runs_cap ? d->runs_cap * 2 : 64;
		d->runs = xreallocarray(d->runs, d->runs_cap, 2 * sizeof(*d->runs));
	}
	d->runs[2 * d->nruns] = start;
	d->runs[2 * d->nruns + 1] = end;
	d->nruns++;
}

int dumpfile_write_manifest(const char *path, const struct dump_info *info, int force,
			    struct rw_err *err)
{
	char mpath[PATH_MAX], tmp[PATH_MAX + 16];
	FILE *fp;
	int fd, e;

	snprintf(mpath, sizeof(mpath), "%s.json", path);
	fd = tmpfile_open(mpath, 0600, tmp, sizeof(tmp));
	if (fd < 0)
		return rw_err_set(err, -fd, "%s: %s", mpath, strerror(-fd));
	fp = fdopen(fd, "w");
	if (!fp || out_json_manifest(fp, info) || fflush(fp) || fsync(fd)) {
		e = errno ? errno : EIO;
		tmpfile_discard(tmp);
		if (fp)
			fclose(fp);
		else
			close(fd);
		return rw_err_set(err, e, "writing %s: %s", mpath, strerror(e));
	}
	e = tmpfile_commit(fd, tmp, mpath, force);
	fclose(fp);
	if (e) {
		tmpfile_discard(tmp);
		return rw_err_set(err, -e, "%s: %s", mpath, strerror(-e));
	}
	return 0;
}

void dumpfile_info(struct dump_info *info, const struct snapshot *snap, const char *out,
		   uint64_t start, uint64_t end, const struct dumpfile *d,
		   const struct memread_stats *st)
{
	long ri = snapshot_find(snap, start);
	const struct region *reg = ri >= 0 ? &snap->regions[ri] : NULL;

	memset(info, 0, sizeof(*info));
	info->pid = snap->meta.pid;
	info->comm = snap->meta.comm;
	info->file = out;
	info->start = start;
	info->end = end;
	info->perms = reg ? reg->perms : NULL;
	info->path = reg ? reg->path : NULL;
	info->kind = reg ? region_kind_name((enum region_kind)reg->kind) : NULL;
	info->time = now_wall();
	info->st = st;
	info->runs = d->runs;
	info->nruns = d->nruns;
	info->runs_total = d->runs_total;
	info->exited = st->exited;
}

int dumpfile_commit(struct dumpfile *d, char *tmp, const char *out, const struct dump_info *info,
		    int force, struct rw_err *err)
{
	int e;

	if (!d->write_errno && ftruncate(d->fd, (off_t)(info->end - info->start)) < 0)
		d->write_errno = errno;
	if (!d->write_errno && fsync(d->fd) < 0)
		d->write_errno = errno;
	if (d->write_errno)
		return rw_err_set(err, d->write_errno, "writing %s: %s (nothing was kept)", out,
				  strerror(d->write_errno));
	e = tmpfile_commit(d->fd, tmp, out, force);
	if (e)
		return rw_err_set(err, -e, "%s: %s", out, strerror(-e));
	tmp[0] = '\0';
	close(d->fd);
	d->fd = -1;
	e = dumpfile_write_manifest(out, info, force, err);
	if (e) {
		unlink(out);
		if (err)
			snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
				 " (the dump was removed)");
		return e;
	}
	return 0;
}

void dumpfile_ranges_add(struct dumpfile_ranges *rs, uint64_t start, uint64_t end)
{
	if (rs->n && start <= rs->r[rs->n - 1][1]) {       /* touching or overlapping: join */
		if (end > rs->r[rs->n - 1][1])
			rs->r[rs->n - 1][1] = end;
		return;
	}
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 8;
		rs->r = xreallocarray(rs->r, rs->cap, sizeof(*rs->r));
	}
	rs->r[rs->n][0] = start;
	rs->r[rs->n][1] = end;
	rs->n++;
}

int dumpfile_ranges_add_area(struct dumpfile_ranges *rs, const struct snapshot *snap, uint64_t addr)
{
	char spec[32];
	uint64_t s, e;
	size_t first;

	if (snapshot_find(snap, addr) < 0)
		return 0;
	snprintf(spec, sizeof(spec), "0x%llx", (unsigned long long)addr);
	if (memread_resolve(snap, spec, &s, &e, &first, NULL))
		return 0;
	dumpfile_ranges_add(rs, s, e);
	return 1;
}

void dumpfile_ranges_free(struct dumpfile_ranges *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

int dumpfile_read_ranges(const struct procfs *p, const struct snapshot *snap,
			 const struct dumpfile_ranges *rs, const struct memread_opts *mo,
			 const struct memread_sink *sink, struct memread_stats *st, struct rw_err *err)
{
	struct memread_stats one;
	int r = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < rs->n && !r; i++) {
		if (i && sink->hole)
			sink->hole(sink->ctx, rs->r[i - 1][1], rs->r[i][0] - rs->r[i - 1][1],
				   MEMREAD_HOLE_UNMAPPED);
		r = memread_range(p, snap, rs->r[i][0], rs->r[i][1], mo, sink, &one, err);
		st->bytes_read += one.bytes_read;
		st->pages_present += one.pages_present;
		for (int h = 0; h < MEMREAD_HOLE_COUNT; h++)
			st->pages[h] += one.pages[h];
		st->runs += one.runs;
		st->syscalls += one.syscalls;
		st->used_pagemap_scan |= one.used_pagemap_scan;
		st->used_proc_mem |= one.used_proc_mem;
		st->exited |= one.exited;
		st->truncated |= one.truncated;
		if (one.truncated)
			st->stopped_at = one.stopped_at;
	}
	return r;
}
