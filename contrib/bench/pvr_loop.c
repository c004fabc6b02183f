/* The floor for reading a resident region: a bare process_vm_readv loop in 4 MiB chunks
 * (PVR_CHUNK_KIB=N: N KiB chunks), optionally writing the bytes to a file (and fsync'ing
 * it, as regionwatch does). Usage: pvr_loop PID START END [OUTFILE]. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t chunk = getenv("PVR_CHUNK_KIB") ? (size_t)atoi(getenv("PVR_CHUNK_KIB")) << 10 : 4u << 20;
	char *buf = chunk ? malloc(chunk) : NULL;
	pid_t pid;
	unsigned long long start, end, total = 0;
	int fd = -1;

	if (argc < 4 || !buf) {
		fprintf(stderr, "usage: pvr_loop PID START END [OUTFILE]\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[1]);
	start = strtoull(argv[2], NULL, 16);
	end = strtoull(argv[3], NULL, 16);
	if (argc > 4 && (fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
		perror(argv[4]);
		return 1;
	}
	for (unsigned long long a = start; a < end; a += chunk) {
		size_t n = end - a < chunk ? (size_t)(end - a) : chunk;
		struct iovec l = { buf, n }, r = { (void *)(uintptr_t)a, n };
		ssize_t got = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (got <= 0) {
			perror("process_vm_readv");
			return 1;
		}
		if (fd >= 0 && write(fd, buf, (size_t)got) != got) {
			perror("write");
			return 1;
		}
		total += (unsigned long long)got;
	}
	/* Durable like regionwatch's dump file (fsync before rename), for a fair comparison. */
	if (fd >= 0 && (fsync(fd) < 0 || close(fd) < 0)) {
		perror("fsync");
		return 1;
	}
	fprintf(stderr, "%llu bytes\n", total);
	return 0;
}
