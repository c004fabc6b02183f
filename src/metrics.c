/* metrics: Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/) of a watch view, to a
 * textfile (node_exporter's textfile collector reads *.prom) or on GET /metrics through
 * libmicrohttpd. What is measured is the view's business; this file only spells it. */
#include "metrics.h"
#include "region.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

/* libmicrohttpd 0.9.71 made the handlers' int an enum. */
#if MHD_VERSION >= 0x00097002
#define METRICS_MHD_RESULT enum MHD_Result
#else
#define METRICS_MHD_RESULT int
#endif

/* A label value: the target's bytes made terminal-safe and valid UTF-8 by escape_term
 * (control bytes and invalid UTF-8 as \xNN, a backslash as \\; newline kept, since the
 * format has its own escape for it), then escaped as the format requires: \\, \", \n. */
static void put_label_value(FILE *fp, const char *s)
{
	size_t n = s ? strlen(s) : 0, cap = n * 4 + 1;   /* \xNN per byte is the most it grows */
	char *safe = xmalloc(cap);

	escape_term(s ? s : "", n, safe, cap, ESCAPE_KEEP_NL, 1);
	for (const char *p = safe; *p;) {
		size_t run = strcspn(p, "\\\"\n");    /* written as it is, in one piece */
		fwrite(p, 1, run, fp);
		p += run;
		if (!*p)
			break;
		fputs(*p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n", fp);
		p++;
	}
	free(safe);
}

static void put_double(FILE *fp, double d)
{
	if (isnan(d))
		fputs("NaN", fp);
	else if (isinf(d))
		fputs(d > 0 ? "+Inf" : "-Inf", fp);
	else
		fprintf(fp, "%.9g", d);
}

static void put_family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_process_labels(FILE *fp, const struct watch_view *v)
{
	fprintf(fp, "{pid=\"%d\",comm=\"", v->pid);
	put_label_value(fp, v->comm);
	fputs("\"}", fp);
}

/* NAME{pid,comm,area,kind,path} and the space before the value, for row i. */
static void put_row(FILE *fp, const char *name, const struct watch_view *v, size_t i)
{
	const struct area *a = v->areas[i];
	const struct pool *pl = v->pools ? v->pools[i] : NULL;

	fprintf(fp, "%s{pid=\"%d\",comm=\"", name, v->pid);
	put_label_value(fp, v->comm);
	fprintf(fp, "\",area=\"0x%llx\",kind=\"", (unsigned long long)a->start);
	put_label_value(fp, pl ? pool_kind_name(pl->kind) : region_kind_name((enum region_kind)a->kind));
	fputs("\",path=\"", fp);
	put_label_value(fp, pl ? pl->name : a->path);
	fputs("\"} ", fp);
}

/* A process gauge: its family once, then one sample per process. */
static void put_process_family(FILE *fp, const char *name, const char *type, const char *help,
			       const struct watch_view *const *vs, size_t nv,
			       void (*value)(FILE *fp, const struct watch_view *v))
{
	put_family(fp, name, type, help);
	for (size_t k = 0; k < nv; k++) {
		fputs(name, fp);
		put_process_labels(fp, vs[k]);
		fputc(' ', fp);
		value(fp, vs[k]);
		fputc('\n', fp);
	}
}

static void val_rss(FILE *fp, const struct watch_view *v)
{
	fprintf(fp, "%llu", (unsigned long long)v->tot.rss);
}

static void val_anon(FILE *fp, const struct watch_view *v)
{
	fprintf(fp, "%llu", (unsigned long long)v->tot.anon);
}

static void val_cost(FILE *fp, const struct watch_view *v)
{
	put_double(fp, v->cost_ms / 1000.0);
}

static void val_triggers(FILE *fp, const struct watch_view *v)
{
	fprintf(fp, "%llu", (unsigned long long)v->triggers_total);
}

/* A row gauge: its family once, then the first top rows of every process. */
static void put_row_family(FILE *fp, const char *name, const char *help,
			   const struct watch_view *const *vs, size_t nv, size_t top,
			   void (*value)(FILE *fp, const struct area_stats *st))
{
	put_family(fp, name, "gauge", help);
	for (size_t k = 0; k < nv; k++) {
		size_t rows = vs[k]->n < top ? vs[k]->n : top;
		for (size_t i = 0; i < rows; i++) {
			put_row(fp, name, vs[k], i);
			value(fp, &vs[k]->st[i]);
			fputc('\n', fp);
		}
	}
}

static void val_area_rss(FILE *fp, const struct area_stats *st)
{
	fprintf(fp, "%llu", (unsigned long long)st->rss_last);
}

static void val_area_rate(FILE *fp, const struct area_stats *st)
{
	put_double(fp, st->rate);
}

static void val_area_score(FILE *fp, const struct area_stats *st)
{
	put_double(fp, st->score);
}

static void val_area_growing(FILE *fp, const struct area_stats *st)
{
	fprintf(fp, "%d", st->trend == TREND_GROWING);
}

int metrics_format_set(FILE *fp, const struct watch_view *const *vs, size_t nv, size_t top)
{
	put_process_family(fp, "regionwatch_process_rss_bytes", "gauge",
			   "Resident set size of the watched process (sum of smaps Rss).",
			   vs, nv, val_rss);
	put_process_family(fp, "regionwatch_process_anon_bytes", "gauge",
			   "Anonymous resident memory of the watched process (sum of smaps Anonymous).",
			   vs, nv, val_anon);
	put_process_family(fp, "regionwatch_sample_cost_seconds", "gauge",
			   "CPU time regionwatch spent on the latest sample (reading smaps and ranking).",
			   vs, nv, val_cost);
	put_process_family(fp, "regionwatch_triggers_total", "counter",
			   "Trigger firings so far (watch --trigger), with or without actions.",
			   vs, nv, val_triggers);
	/* One family at a time: the format wants a metric's samples together. */
	put_row_family(fp, "regionwatch_area_rss_bytes",
		       "Resident bytes of a ranked area or pool (the top rows by leak score).",
		       vs, nv, top, val_area_rss);
	put_row_family(fp, "regionwatch_area_growth_bytes_per_second",
		       "Least-squares RSS growth rate of a ranked row over the statistics window.",
		       vs, nv, top, val_area_rate);
	put_row_family(fp, "regionwatch_area_score",
		       "Leak suspicion score of a ranked row (a heuristic; regionwatch(1), WATCH).",
		       vs, nv, top, val_area_score);
	put_row_family(fp, "regionwatch_area_growing",
		       "1 when a ranked row's trend is growing, else 0.",
		       vs, nv, top, val_area_growing);
	return ferror(fp) ? -(errno ? errno : EIO) : 0;
}

int metrics_format(FILE *fp, const struct watch_view *v, size_t top)
{
	return metrics_format_set(fp, &v, 1, top);
}

/* open_memstream fails only without memory: fatal, as for the xmalloc family. */
static RW_NORETURN void memstream_oom(void)
{
	fprintf(stderr, "regionwatch: out of memory formatting metrics\n");
	exit(1);
}

char *metrics_format_set_dup(const struct watch_view *const *vs, size_t nv, size_t top,
			     size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);

	if (!fp)
		memstream_oom();
	if (metrics_format_set(fp, vs, nv, top) | fclose(fp) || !buf)
		memstream_oom();
	*len = n;
	return buf;
}

char *metrics_format_dup(const struct watch_view *v, size_t top, size_t *len)
{
	return metrics_format_set_dup(&v, 1, top, len);
}

int metrics_textfile_write(const char *path, const char *buf, size_t len, struct rw_err *err)
{
	/* 0644: node_exporter usually runs as another user; the text holds names, not bytes. */
	return file_replace_atomic(path, 0644, buf, len, "metrics textfile", err);
}

int metrics_parse_addr(const char *s, struct metrics_addr *out, struct rw_err *err)
{
	char host[64];
	const char *colon, *port_s;
	char *end;
	unsigned long port;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close_br = strchr(s, ']');
		if (!close_br || close_br[1] != ':')
			goto bad;
		hl = (size_t)(close_br - s - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port_s = close_br + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s, hl);
		host[hl] = '\0';
		port_s = colon + 1;
	}
	if (*port_s < '0' || *port_s > '9')
		goto bad;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		goto bad;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->sa;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			goto not_numeric;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&out->sa;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			goto not_numeric;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		out->len = sizeof(*a4);
	}
	return 0;
not_numeric:
	return rw_err_set(err, EINVAL, "--metrics-listen '%s': '%s' is not a numeric address "
			  "(IPv4 dotted such as 127.0.0.1, or IPv6 in brackets such as [::1]); "
			  "host names are refused so that exactly the address named is bound", s, host);
bad:
	return rw_err_set(err, EINVAL, "--metrics-listen '%s': want ADDR:PORT, such as "
			  "127.0.0.1:9464 or [::1]:9464 (port 1-65535)", s);
}

struct metrics_server {
	struct MHD_Daemon *d;
	int listen_fd;
	char *body;
	size_t len;
};

static METRICS_MHD_RESULT reply(struct MHD_Connection *c, unsigned status, const char *text,
				const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								  MHD_RESPMEM_PERSISTENT);
	METRICS_MHD_RESULT rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Answers on the first call for a request: GET and HEAD have no body worth reading, and any
 * other method is refused before its upload is read (MHD then discards it). */
static METRICS_MHD_RESULT on_request(void *cls, struct MHD_Connection *c, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **con_cls)
{
	struct metrics_server *ms = cls;
	struct MHD_Response *r;
	METRICS_MHD_RESULT rc;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET /metrics\n",
			     "GET, HEAD");
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "not found: regionwatch serves GET /metrics only\n",
			     NULL);
	if (!ms->body)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no sample yet\n", NULL);
	r = MHD_create_response_from_buffer(ms->len, ms->body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

int metrics_server_open(struct metrics_server **out, const struct metrics_addr *addr,
			struct rw_err *err)
{
	struct metrics_server *ms;
	char name[INET6_ADDRSTRLEN + 16], host[INET6_ADDRSTRLEN];
	const int one = 1;
	int fd, e, port;

	*out = NULL;
	if (addr->sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&addr->sa;
		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
		port = ntohs(a6->sin6_port);
		snprintf(name, sizeof(name), "[%s]:%d", host, port);
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)&addr->sa;
		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
		port = ntohs(a4->sin_port);
		snprintf(name, sizeof(name), "%s:%d", host, port);
	}
	/* Our own socket, bound to exactly the address given, so a bind error says why. */
	fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return rw_err_set(err, errno, "--metrics-listen %s: socket: %s", name, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&addr->sa, addr->len) < 0 || listen(fd, 16) < 0) {
		e = errno;
		close(fd);
		return rw_err_set(err, e, "--metrics-listen %s: cannot listen: %s", name, strerror(e));
	}
	ms = xcalloc(1, sizeof(*ms));
	ms->listen_fd = fd;
	/* No threading flag: external select mode, driven by metrics_server_wait. */
	ms->d = MHD_start_daemon(MHD_NO_FLAG | (addr->sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				 0, NULL, NULL, on_request, ms,
				 MHD_OPTION_LISTEN_SOCKET, fd,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				 MHD_OPTION_END);
	if (!ms->d) {
		close(fd);
		free(ms);
		return rw_err_set(err, EIO, "--metrics-listen %s: libmicrohttpd did not start", name);
	}
	*out = ms;
	return 0;
}

void metrics_server_set(struct metrics_server *ms, const char *buf, size_t len)
{
	free(ms->body);
	ms->body = xmalloc(len ? len : 1);
	memcpy(ms->body, buf, len);
	ms->len = len;
}

void metrics_server_wait(struct metrics_server *ms, double deadline, const volatile sig_atomic_t *stop)
{
	while (!*stop) {
		fd_set rs, ws, es;
		MHD_socket maxfd = 0;
		MHD_UNSIGNED_LONG_LONG mhd_ms;
		double left = deadline - now_mono();
		struct timeval tv;

		if (left <= 0)
			break;
		/* A signal that lands between the check of *stop and select would otherwise be
		 * noticed only at the deadline: wait at most 0.25 s at a time. */
		if (left > 0.25)
			left = 0.25;
		if (MHD_get_timeout(ms->d, &mhd_ms) == MHD_YES && mhd_ms / 1000.0 < left)
			left = mhd_ms / 1000.0;
		FD_ZERO(&rs);
		FD_ZERO(&ws);
		FD_ZERO(&es);
		if (MHD_get_fdset(ms->d, &rs, &ws, &es, &maxfd) != MHD_YES)
			maxfd = -1;     /* nothing to wait for (fd limit): just sleep */
		tv.tv_sec = (time_t)left;
		tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
		if (select(maxfd + 1, &rs, &ws, &es, &tv) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		MHD_run_from_select(ms->d, &rs, &ws, &es);
	}
}

void metrics_server_close(struct metrics_server *ms)
{
	if (!ms)
		return;
	MHD_stop_daemon(ms->d);
	close(ms->listen_fd);
	free(ms->body);
	free(ms);
}
