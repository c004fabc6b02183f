/* cmd_stacks: regionwatch stacks -p PID — placeholder until the unwinder lands. */
#include "cli.h"

void cmd_stacks_help(FILE *fp)
{
	fprintf(fp, "usage: regionwatch stacks -p PID [--json] [--max-frames N]\n"
		    "Not built yet in this version.\n");
}

int cmd_stacks(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("stacks", "not built yet in this version");
	return RW_EXIT_USAGE;
}
