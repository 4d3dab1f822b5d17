/*
 * libFuzzer target for the configuration file reader (core/config*.c,
 * libyaml): any bytes as a configuration file are either loaded and
 * compiled (class filters through the expression parser) or refused with
 * a message that names the file, a line and a column; never a crash, a
 * leak or an endless loop.
 *
 * The input is written to a memory file (memfd) read through its
 * /proc/self/fd path, the way tm reads a configuration.
 *
 * Seeds: tests/fuzz/fuzz_config.seeds.sh (the documented examples and
 * the test configurations). Run: tests/fuzz/run.sh SECONDS
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tm_config cfg;
	char err[2048];

	if (size > 65536)
		return 0;
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	tm_config_defaults(&cfg);
	err[0] = '\0';
	if (tm_config_load(&cfg, path, err, sizeof(err)) == 0) {
		if (tm_config_compile(&cfg, NULL, NULL, err, sizeof(err)) &&
		    strncmp(err, path, strlen(path)) != 0) {
			fprintf(stderr, "fuzz_config: an error that does not "
			    "name the file: %s\n", err);
			abort();
		}
	} else if (strncmp(err, path, strlen(path)) != 0) {
		fprintf(stderr, "fuzz_config: an error that does not name "
		    "the file: %s\n", err);
		abort();
	}
	tm_config_free(&cfg);
	return 0;
}
