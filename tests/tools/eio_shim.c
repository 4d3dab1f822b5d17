/*
 * An LD_PRELOAD shim that makes writes and syncs fail, for fault tests
 * (tests/e2e/fault_eio.sh): write(2), pwrite(2), writev(2), fsync(2),
 * fdatasync(2) and ftruncate(2) on files whose path matches fail with an errno of the
 * test's choice, after a number of bytes or on the Nth call.
 *
 * Environment (nothing set: the shim does nothing):
 *   EIO_SHIM_GLOB=PATTERN   files whose path (as opened) matches the
 *                           fnmatch(3) pattern are watched, e.g.
 *                           '/tmp/x/store/segments/DIR/NAME.pcap' with
 *                           wildcards; a '*' matches '/' too
 *   EIO_SHIM_OPS=LIST       which calls fail, comma-separated among
 *                           write (write, pwrite, writev), sync (fsync,
 *                           fdatasync), truncate (ftruncate); default
 *                           write,sync
 *   EIO_SHIM_AFTER_BYTES=N  watched writes succeed until N bytes were
 *                           written in all; the write that crosses N is
 *                           short (stops at N, as a filling disk does),
 *                           every watched call of the chosen kinds after
 *                           it fails
 *   EIO_SHIM_AFTER_CALLS=N  the Nth watched call of the chosen kinds
 *                           (1-based) fails, and every one after it
 *   EIO_SHIM_ONCE=1         only the first failure; later calls succeed
 *   EIO_SHIM_ERRNO=NAME     EIO (default), ENOSPC, EDQUOT, or a number
 *   EIO_SHIM_LOG=FILE       each failure appends "op path" to FILE
 *
 * The counters are shared by all threads (a mutex; a test is not a
 * benchmark). Paths are remembered per descriptor at open(2)/openat(2)/
 * creat(2) and forgotten at close(2).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD	4096
#define OP_WRITE 0x1
#define OP_SYNC	 0x2
#define OP_TRUNC 0x4

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *paths[MAX_FD];
static const char *glob_pat;
static unsigned ops = OP_WRITE | OP_SYNC;
static uint64_t after_bytes = UINT64_MAX, after_calls = UINT64_MAX;
static int fail_once, fail_errno = EIO, failed_already;
static const char *log_path;
static uint64_t bytes_done, calls_done;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_creat)(const char *, mode_t);
static int (*real_close)(int);

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return dflt;
	n = strtoull(v, &end, 10);
	return *end ? dflt : (uint64_t)n;
}

static void init(void)
{
	const char *v;

	real_write = dlsym(RTLD_NEXT, "write");
	real_pwrite = dlsym(RTLD_NEXT, "pwrite");
	real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
	real_writev = dlsym(RTLD_NEXT, "writev");
	real_fsync = dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
	real_open = dlsym(RTLD_NEXT, "open");
	real_open64 = dlsym(RTLD_NEXT, "open64");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_openat64 = dlsym(RTLD_NEXT, "openat64");
	real_creat = dlsym(RTLD_NEXT, "creat");
	real_close = dlsym(RTLD_NEXT, "close");
	glob_pat = getenv("EIO_SHIM_GLOB");
	if (glob_pat && !*glob_pat)
		glob_pat = NULL;
	v = getenv("EIO_SHIM_OPS");
	if (v && *v) {
		ops = 0;
		if (strstr(v, "write"))
			ops |= OP_WRITE;
		if (strstr(v, "sync"))
			ops |= OP_SYNC;
		if (strstr(v, "truncate"))
			ops |= OP_TRUNC;
	}
	after_bytes = env_u64("EIO_SHIM_AFTER_BYTES", UINT64_MAX);
	after_calls = env_u64("EIO_SHIM_AFTER_CALLS", UINT64_MAX);
	fail_once = env_u64("EIO_SHIM_ONCE", 0) != 0;
	v = getenv("EIO_SHIM_ERRNO");
	if (v && *v) {
		if (strcmp(v, "EIO") == 0)
			fail_errno = EIO;
		else if (strcmp(v, "ENOSPC") == 0)
			fail_errno = ENOSPC;
		else if (strcmp(v, "EDQUOT") == 0)
			fail_errno = EDQUOT;
		else if (atoi(v) > 0)
			fail_errno = atoi(v);
	}
	log_path = getenv("EIO_SHIM_LOG");
}

static void setup(void)
{
	pthread_once(&once, init);
}

static void remember(int fd, const char *path, int dirfd)
{
	char buf[8192];
	const char *p = path;

	if (fd < 0 || fd >= MAX_FD || !glob_pat || !path)
		return;
	if (path[0] != '/' && dirfd == AT_FDCWD) {
		if (getcwd(buf, sizeof(buf) - 1)) {
			size_t n = strlen(buf);

			snprintf(buf + n, sizeof(buf) - n, "/%s", path);
			p = buf;
		}
	}
	pthread_mutex_lock(&mu);
	free(paths[fd]);
	paths[fd] = fnmatch(glob_pat, p, 0) == 0 ? strdup(p) : NULL;
	pthread_mutex_unlock(&mu);
}

static void log_fault(const char *op, const char *path)
{
	int fd;
	char line[8300];
	int n;

	if (!log_path)
		return;
	n = snprintf(line, sizeof(line), "%s %s\n", op, path);
	fd = real_open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644);
	if (fd < 0)
		return;
	if (n > 0)
		(void)!real_write(fd, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
	real_close(fd);
}

/* Decides a watched call: returns how many bytes may go through (len: all;
 * 0 with *fail set: the call fails). */
static size_t decide(int fd, unsigned op, const char *name, size_t len,
    int *fail)
{
	size_t allow = len;
	char path[8200];

	*fail = 0;
	if (!glob_pat || fd < 0 || fd >= MAX_FD || !(ops & op))
		return len;
	pthread_mutex_lock(&mu);
	if (!paths[fd]) {
		pthread_mutex_unlock(&mu);
		return len;
	}
	snprintf(path, sizeof(path), "%s", paths[fd]);
	if (fail_once && failed_already) {
		pthread_mutex_unlock(&mu);
		return len;
	}
	calls_done++;
	if (calls_done >= after_calls || (after_bytes != UINT64_MAX &&
	    bytes_done >= after_bytes))
		*fail = 1;
	else if (op == OP_WRITE && after_bytes != UINT64_MAX &&
	    len > after_bytes - bytes_done)
		allow = (size_t)(after_bytes - bytes_done);
	if (!*fail && op == OP_WRITE)
		bytes_done += allow;
	if (*fail)
		failed_already = 1;
	pthread_mutex_unlock(&mu);
	if (*fail)
		log_fault(name, path);
	return *fail ? 0 : allow;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	int fail;
	size_t n;

	setup();
	n = decide(fd, OP_WRITE, "write", len, &fail);
	if (fail) {
		errno = fail_errno;
		return -1;
	}
	return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	int fail;
	size_t n;

	setup();
	n = decide(fd, OP_WRITE, "pwrite", len, &fail);
	if (fail) {
		errno = fail_errno;
		return -1;
	}
	return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	int fail;
	size_t n;

	setup();
	n = decide(fd, OP_WRITE, "pwrite", len, &fail);
	if (fail) {
		errno = fail_errno;
		return -1;
	}
	return (real_pwrite64 ? real_pwrite64 : real_pwrite)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	size_t len = 0, n;
	int fail;

	setup();
	for (int i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	n = decide(fd, OP_WRITE, "writev", len, &fail);
	if (fail) {
		errno = fail_errno;
		return -1;
	}
	if (n < len) {
		/* short: only what the first buffers hold up to n */
		ssize_t done = 0;

		for (int i = 0; i < cnt && n; i++) {
			size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
			ssize_t w = real_write(fd, iov[i].iov_base, k);

			if (w < 0)
				return done ? done : -1;
			done += w;
			n -= (size_t)w;
			if ((size_t)w < k)
				break;
		}
		return done;
	}
	return real_writev(fd, iov, cnt);
}

int fsync(int fd)
{
	int fail;

	setup();
	decide(fd, OP_SYNC, "fsync", 0, &fail);
	if (fail) {
		errno = fail_errno;
		return -1;
	}
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	int fail;

	setup();
	decide(fd, OP_SYNC, "fdatasync", 0, &fail);
	if (fail) {
		errno = fail_errno;
		return -1;
	}
	return real_fdatasync(fd);
}

int ftruncate(int fd, off_t len)
{
	int fail;

	setup();
	decide(fd, OP_TRUNC, "ftruncate", 0, &fail);
	if (fail) {
		errno = fail_errno;
		return -1;
	}
	return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

static mode_t mode_of(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
	    (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	setup();
	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	fd = real_open(path, flags, mode);
	remember(fd, path, AT_FDCWD);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	setup();
	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	fd = (real_open64 ? real_open64 : real_open)(path, flags, mode);
	remember(fd, path, AT_FDCWD);
	return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	setup();
	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	fd = real_openat(dirfd, path, flags, mode);
	remember(fd, path, dirfd);
	return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	setup();
	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	fd = (real_openat64 ? real_openat64 : real_openat)(dirfd, path, flags,
	    mode);
	remember(fd, path, dirfd);
	return fd;
}

int creat(const char *path, mode_t mode)
{
	int fd;

	setup();
	fd = real_creat(path, mode);
	remember(fd, path, AT_FDCWD);
	return fd;
}

int close(int fd)
{
	setup();
	if (fd >= 0 && fd < MAX_FD && glob_pat) {
		pthread_mutex_lock(&mu);
		free(paths[fd]);
		paths[fd] = NULL;
		pthread_mutex_unlock(&mu);
	}
	return real_close(fd);
}
