/* ui: the ncurses live monitor (the only includer of curses). */
#ifndef RW_UI_H
#define RW_UI_H

struct ui_opts {
	int pid;
	double interval;              /* seconds between samples */
	double window;                /* seconds of statistics */
	double max_cost;              /* cost budget, percent of one core (watch_opts) */
	unsigned long iterations;     /* quit after this many samples (0: never) */
	int color;                    /* -1 auto (NO_COLOR honoured), 0 never, 1 always */
	int ascii;                    /* no Unicode sparklines */
};

/* Runs until q (exit 0), or the target exited and q (exit 1), or a fatal signal.
 * The terminal is restored on every path. Returns the exit status. */
int ui_run(const struct ui_opts *o);

#endif
