/* metrics: the Prometheus text exposition (format 0.0.4) of a watch view, written to a
 * textfile for node_exporter or served on GET /metrics (design §3; the only includer of
 * libmicrohttpd). It shows what the view holds and decides nothing about what to measure. */
#ifndef RW_METRICS_H
#define RW_METRICS_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include "util.h"
#include "watch.h"

#define METRICS_TOP_DEFAULT 10

/* The exposition of v: process gauges, then the first min(top, v->n) rows. Label values
 * are target bytes made safe as escape_term does (ESCAPE_KEEP_NL), then escaped as the
 * format requires (\\, \", \n). Returns 0 or -errno (a write error on fp). */
int metrics_format(FILE *fp, const struct watch_view *v, size_t top);
/* The same into a malloc'd buffer (*len bytes, NUL-terminated). */
char *metrics_format_dup(const struct watch_view *v, size_t top, size_t *len);
/* Several processes (watch -p A,B or --cgroup): each family once, with the samples of
 * every view in it (the format wants a family's samples together). */
int metrics_format_set(FILE *fp, const struct watch_view *const *vs, size_t nv, size_t top);
char *metrics_format_set_dup(const struct watch_view *const *vs, size_t nv, size_t top,
			     size_t *len);

/* Replace path with buf atomically: a temporary file in path's directory, written, fsynced
 * and renamed into place, so a reader sees the old file or the new one, never a part.
 * Returns 0 or -errno with err filled. */
int metrics_textfile_write(const char *path, const char *buf, size_t len, struct rw_err *err);

/* "A.B.C.D:PORT" or "[IPv6]:PORT", numeric only (a hostname is refused: the listener binds
 * exactly the address named). Returns 0 or -EINVAL with err filled. */
struct metrics_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};
int metrics_parse_addr(const char *s, struct metrics_addr *out, struct rw_err *err);

/* The HTTP endpoint: GET (or HEAD) /metrics serves the latest body set; other paths 404,
 * other methods 405. libmicrohttpd in external-select mode: no thread of ours or its own,
 * requests are answered only inside metrics_server_wait. */
struct metrics_server;
int metrics_server_open(struct metrics_server **out, const struct metrics_addr *addr,
			struct rw_err *err);
/* The body to serve from now on (copied). */
void metrics_server_set(struct metrics_server *ms, const char *buf, size_t len);
/* Answer requests until the monotonic time deadline or until *stop is non-zero. */
void metrics_server_wait(struct metrics_server *ms, double deadline, const volatile sig_atomic_t *stop);
void metrics_server_close(struct metrics_server *ms);

#endif
