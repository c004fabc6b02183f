/* scan_top_worker: one scan_top counted on a thread of its own.
 *
 * When every string of a GiB is new (20 million user_session records), counting them in
 * the string table is the largest single cost of --top (81 ns a string, perf: Space-Saving
 * replaces an entry on every add).  The strings scan and the shapes keep the delivering
 * thread busy as well, so the table moves to a thread of its own and the second core
 * shares the work.  The producer hands over batches of (text, length, address); a text
 * that lives in the data being analysed is passed by pointer (a copy of every string, 64
 * bytes a string crossing between the cores, cost the producer a fifth of its time: perf).
 * After a buffer the producer takes a mark, and the thread that will overwrite the data
 * settles it first (memread's reader): the producer goes on at once.  (It used to wait
 * for the counter at the end of every buffer, while the reader had nothing to fill.)
 * (Copying the texts not counted yet instead of waiting: 0.94x the time on the mixed GiB,
 * the same on text records, median of 8 pairs; not worth the code.)  Other texts (carried
 * across feeds) are copied at once.  At most SCAN_TOP_KEY_MAX + 1 bytes are kept, which
 * scan_top cuts the same way.  The table sees exactly the adds, in exactly the order,
 * that scan_top_add would have seen: every count is unchanged.
 *
 * Other work can ride along (scan_top_worker_call: the histogram of --top --histogram), so
 * that two cores carry two busy threads, not three: with the histogram on memread's
 * reading thread, dump --top --histogram took 1.37x the time of --top alone.
 *
 * Bounded: WORKER_BATCHES batches of WORKER_RECS strings, WORKER_CALLS calls and
 * WORKER_TEXT bytes of copies.  The producer waits when all of them are full, the counter
 * when none is.  The thread blocks every signal, so signals stay with the main thread. */
#include "scan.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WORKER_RECS 2048u
#define WORKER_TEXT (64u << 10)
#define WORKER_BATCHES 8u
/* A sleeping counter is woken when this many batches wait, or when the producer (for room)
 * or a settle waits for it: one wake-up per batch was 10,000 a GiB of records, and each
 * cost more than its batch saved (perf sched: 9,400 switches of the delivering thread). */
#define WAKE_AT 4u
/* scan_top_worker_behind: this many of the WORKER_BATCHES wait to be counted.  The
 * counter is then the slower thread (records, where every string is new), and the
 * producer takes the histogram back: dump --top --histogram of the GiB of records 0.93x
 * the time, the mixed GiB 0.99x (medians of 10 pairs); waiting for 2 batches took it
 * back on the mixed GiB too, where the producer is the slower (1.04x). */
#define BEHIND_AT 6u

struct rec {
	const char *text;
	uint64_t addr;
	uint32_t len;
};

#define WORKER_CALLS 64u

/* scan_top_worker_call: run on the counting thread. */
struct call {
	scan_top_worker_fn *fn;
	void *ctx;
	uint64_t addr, len;
	const unsigned char *buf;
};

struct batch {
	size_t n, tused, ncalls;         /* strings; text bytes copied; calls */
	struct rec r[WORKER_RECS];
	struct call c[WORKER_CALLS];
	char text[WORKER_TEXT];          /* the copied texts */
};

/* Three conditions, each signalled only when its waiter can go on: a broadcast on every
 * batch counted woke the producer and the settling thread for nothing. */
struct scan_top_worker {
	struct scan_top *t;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;             /* the counter waits for batches */
	pthread_cond_t room;             /* the producer waits for counted >= room_at */
	pthread_cond_t settled;          /* scan_top_worker_settle waits for counted >= settle_at */
	struct batch *b[WORKER_BATCHES];
	uint64_t handed, counted;        /* batches handed over, batches counted */
	uint64_t room_at, settle_at;     /* what a waiter waits for (0: none waits) */
	uint64_t calls, calls_done;      /* scan_top_worker_call: made, and run */
	int idle;                        /* the counter sleeps */
	int done;                        /* no more batches will come */
	struct batch *fill;              /* the producer's batch: b[handed % WORKER_BATCHES] */
};

static void *worker_main(void *arg)
{
	struct scan_top_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct batch *b;
		while (w->counted == w->handed && !w->done) {
			w->idle = 1;
			pthread_cond_wait(&w->work, &w->lock);
		}
		w->idle = 0;
		if (w->counted == w->handed)
			break;                   /* done, and every batch counted */
		b = w->b[w->counted % WORKER_BATCHES];
		pthread_mutex_unlock(&w->lock);
		for (size_t i = 0; i < b->n; i++)
			scan_top_add(w->t, b->r[i].text, b->r[i].len, b->r[i].addr);
		for (size_t i = 0; i < b->ncalls; i++)
			b->c[i].fn(b->c[i].ctx, b->c[i].addr, b->c[i].buf, b->c[i].len);
		pthread_mutex_lock(&w->lock);
		w->calls_done += b->ncalls;
		b->n = b->tused = b->ncalls = 0;
		w->counted++;
		if (w->room_at && w->counted >= w->room_at)
			pthread_cond_signal(&w->room);
		if (w->settle_at && w->counted >= w->settle_at)
			pthread_cond_signal(&w->settled);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void worker_free(struct scan_top_worker *w)
{
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->room);
	pthread_cond_destroy(&w->settled);
	for (unsigned i = 0; i < WORKER_BATCHES; i++)
		free(w->b[i]);
	free(w);
}

struct scan_top_worker *scan_top_worker_new(struct scan_top *t)
{
	struct scan_top_worker *w = xcalloc(1, sizeof(*w));

	w->t = t;
	for (unsigned i = 0; i < WORKER_BATCHES; i++)
		w->b[i] = xcalloc(1, sizeof(*w->b[i]));
	w->fill = w->b[0];
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->room, NULL);
	pthread_cond_init(&w->settled, NULL);
	if (thread_start_quiet(&w->thread, worker_main, w)) {
		worker_free(w);
		return NULL;
	}
	return w;
}

/* Hand the batch being filled to the counter; wait until the next one is free. */
static void hand_over(struct scan_top_worker *w)
{
	const uint64_t left = WORKER_BATCHES - 1;

	pthread_mutex_lock(&w->lock);
	if (w->fill->n || w->fill->ncalls)
		w->handed++;
	if (w->idle && w->handed > w->counted &&
	    (w->handed - w->counted >= WAKE_AT || w->handed - w->counted > left))
		pthread_cond_signal(&w->work);
	if (w->handed - w->counted > left) {
		w->room_at = w->handed - left;
		while (w->counted < w->room_at)
			pthread_cond_wait(&w->room, &w->lock);
		w->room_at = 0;
	}
	pthread_mutex_unlock(&w->lock);
	w->fill = w->b[w->handed % WORKER_BATCHES];
}

void scan_top_worker_add(struct scan_top_worker *w, const char *text, size_t len, uint64_t addr,
			 int stays)
{
	struct batch *b = w->fill;
	size_t keep = len > SCAN_TOP_KEY_MAX ? SCAN_TOP_KEY_MAX + 1 : len;

	if (b->n == WORKER_RECS || (!stays && b->tused + keep > WORKER_TEXT)) {
		hand_over(w);
		b = w->fill;
	}
	if (!stays) {
		copy_short(b->text + b->tused, text, keep);
		text = b->text + b->tused;
		b->tused += keep;
	}
	b->r[b->n++] = (struct rec){ text, addr, (uint32_t)keep };
}

void scan_top_worker_call(struct scan_top_worker *w, scan_top_worker_fn *fn, void *ctx,
			  uint64_t addr, const unsigned char *buf, uint64_t len)
{
	if (w->fill->ncalls == WORKER_CALLS)
		hand_over(w);
	w->fill->c[w->fill->ncalls++] = (struct call){ fn, ctx, addr, len, buf };
	w->calls++;
}

int scan_top_worker_behind(struct scan_top_worker *w)
{
	int behind;

	pthread_mutex_lock(&w->lock);
	behind = w->calls_done == w->calls && w->handed - w->counted >= BEHIND_AT;
	pthread_mutex_unlock(&w->lock);
	return behind;
}

uint64_t scan_top_worker_mark(struct scan_top_worker *w)
{
	if (!w)
		return 0;
	hand_over(w);                   /* settle wakes the counter if need be */
	return w->handed;               /* only the producer changes it */
}

void scan_top_worker_settle(struct scan_top_worker *w, uint64_t mark)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->counted < mark) {
		if (w->idle)
			pthread_cond_signal(&w->work);
		w->settle_at = mark;
		while (w->counted < mark)
			pthread_cond_wait(&w->settled, &w->lock);
		w->settle_at = 0;
	}
	pthread_mutex_unlock(&w->lock);
}

void scan_top_worker_finish(struct scan_top_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->fill->n || w->fill->ncalls)
		w->handed++;
	w->done = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	worker_free(w);
}
