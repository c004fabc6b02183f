/* scan_top_worker: one scan_top counted on a thread of its own.
 *
 * When every string of a GiB is new (20 million user_session records), counting them in
 * the string table is the largest single cost of --top (81 ns a string, perf: Space-Saving
 * replaces an entry on every add).  The strings scan and the shapes keep the delivering
 * thread busy as well, so the table moves to a thread of its own and the second core
 * shares the work.  The producer hands over batches of (text, length, address); a text
 * that lives in the data being analysed is passed by pointer (a copy of every string, 64
 * bytes a string crossing between the cores, cost the producer a fifth of its time: perf),
 * and before that data goes away the producer calls scan_top_worker_sync, which waits
 * until every string handed over is counted, or takes a mark which another thread (the
 * one that will overwrite the data) settles: then the producer goes on at once.  (Copying the texts not counted yet at that
 * point instead of waiting: 0.94x the time on the mixed GiB, the same on text records,
 * median of 8 pairs; not worth the code.)  Other texts (carried across feeds) are
 * copied at once.  At most SCAN_TOP_KEY_MAX + 1 bytes are kept, which scan_top
 * cuts the same way.  The table sees exactly the adds, in exactly
 * the order, that scan_top_add would have seen: every count is unchanged.
 *
 * Bounded: WORKER_BATCHES batches of WORKER_RECS strings and WORKER_TEXT bytes of copies.
 * The producer waits when all of them are full, the counter when none is.  The thread
 * blocks every signal, so signals stay with the main thread. */
#include "scan.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WORKER_RECS 2048u
#define WORKER_TEXT (64u << 10)
#define WORKER_BATCHES 4u

struct rec {
	const char *text;
	uint64_t addr;
	uint32_t len;
};

struct batch {
	size_t n, tused;                 /* strings; text bytes copied */
	struct rec r[WORKER_RECS];
	char text[WORKER_TEXT];          /* the copied texts */
};

struct scan_top_worker {
	struct scan_top *t;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct batch *b[WORKER_BATCHES];
	uint64_t handed, counted;        /* batches handed over, batches counted */
	int done;                        /* no more batches will come */
	struct batch *fill;              /* the producer's batch: b[handed % WORKER_BATCHES] */
};

static void *worker_main(void *arg)
{
	struct scan_top_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct batch *b;
		while (w->counted == w->handed && !w->done)
			pthread_cond_wait(&w->changed, &w->lock);
		if (w->counted == w->handed)
			break;                   /* done, and every batch counted */
		b = w->b[w->counted % WORKER_BATCHES];
		pthread_mutex_unlock(&w->lock);
		for (size_t i = 0; i < b->n; i++)
			scan_top_add(w->t, b->r[i].text, b->r[i].len, b->r[i].addr);
		pthread_mutex_lock(&w->lock);
		b->n = b->tused = 0;
		w->counted++;
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct scan_top_worker *scan_top_worker_new(struct scan_top *t)
{
	struct scan_top_worker *w = xcalloc(1, sizeof(*w));

	w->t = t;
	for (unsigned i = 0; i < WORKER_BATCHES; i++)
		w->b[i] = xcalloc(1, sizeof(*w->b[i]));
	w->fill = w->b[0];
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	if (thread_start_quiet(&w->thread, worker_main, w)) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->changed);
		for (unsigned i = 0; i < WORKER_BATCHES; i++)
			free(w->b[i]);
		free(w);
		return NULL;
	}
	return w;
}

/* Hand the batch being filled to the counter; wait until at most `left` are uncounted. */
static void hand_over(struct scan_top_worker *w, uint64_t left)
{
	pthread_mutex_lock(&w->lock);
	if (w->fill->n) {
		w->handed++;
		pthread_cond_broadcast(&w->changed);
	}
	while (w->handed - w->counted > left)
		pthread_cond_wait(&w->changed, &w->lock);
	pthread_mutex_unlock(&w->lock);
	w->fill = w->b[w->handed % WORKER_BATCHES];
}

void scan_top_worker_add(struct scan_top_worker *w, const char *text, size_t len, uint64_t addr,
			 int stays)
{
	struct batch *b = w->fill;
	size_t keep = len > SCAN_TOP_KEY_MAX ? SCAN_TOP_KEY_MAX + 1 : len;

	if (b->n == WORKER_RECS || (!stays && b->tused + keep > WORKER_TEXT)) {
		hand_over(w, WORKER_BATCHES - 1);
		b = w->fill;
	}
	if (!stays) {
		copy_short(b->text + b->tused, text, keep);
		text = b->text + b->tused;
		b->tused += keep;
	}
	b->r[b->n++] = (struct rec){ text, addr, (uint32_t)keep };
}

void scan_top_worker_sync(struct scan_top_worker *w)
{
	if (w)
		hand_over(w, 0);
}

uint64_t scan_top_worker_mark(struct scan_top_worker *w)
{
	if (!w)
		return 0;
	hand_over(w, WORKER_BATCHES - 1);
	return w->handed;               /* only the producer changes it */
}

void scan_top_worker_settle(struct scan_top_worker *w, uint64_t mark)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	while (w->counted < mark)
		pthread_cond_wait(&w->changed, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void scan_top_worker_finish(struct scan_top_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->fill->n)
		w->handed++;
	w->done = 1;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->changed);
	for (unsigned i = 0; i < WORKER_BATCHES; i++)
		free(w->b[i]);
	free(w);
}
