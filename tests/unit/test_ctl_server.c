/*
 * The control protocol's server and client (core/ctl_server.c,
 * core/ctl_client.c) over real sockets: a Unix socket in a temporary
 * directory and TCP on a loopback port the kernel picks, with a small
 * handler in this file. SIGPIPE keeps its default action throughout: a
 * write that raised it would kill the test.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "tm_test.h"
#include "ctl_client.h"
#include "ctl_server.h"

/* ---- the handler ----------------------------------------------------------- */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int calls;		/* requests handed to the handler */
	int blocked;		/* handlers waiting in "stats json" */
	int release;		/* lets them go */
	int streams_failed;	/* data writes that failed */
	int streams_done;	/* query pcap handlers that returned */
	int after_answer;	/* checks after a final frame: 1 = all fine */
	int after_checked;	/* ... were made (the client may see the
				 * answer before) */
	int tcp_seen;
} hs = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0,
	0, 0, 0, 0 };

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

static void handler(void *arg, const struct tm_ctl_req *r,
    struct tm_ctl_conn *c)
{
	(void)arg;
	pthread_mutex_lock(&hs.mu);
	hs.calls++;
	if (tm_ctl_conn_is_tcp(c))
		hs.tcp_seen++;
	pthread_mutex_unlock(&hs.mu);
	switch (r->verb) {
	case TM_CTL_PING:
		tm_ctl_reply_ok(c, "{\"version\":1,\"capturing\":false,"
		    "\"store\":\"/srv/tm \\\"x\\\"\"}");
		return;
	case TM_CTL_QUERY: {
		/* query pcap N: N pattern bytes; query count: no answer */
		uint64_t n = strtoull(r->expr, NULL, 10), off = 0;
		FILE *f;
		uint8_t chunk[10007];
		int failed = 0;

		if (r->count_only)
			return;
		/* no cmocka asserts here: this is the server's thread */
		f = tm_ctl_data_stream(c);
		if (!f || tm_ctl_data_stream(c) != f) {
			tm_ctl_reply_err(c, "no data stream");
			return;
		}
		tm_ctl_note(c, "streaming %llu\tbytes", (unsigned long long)n);
		while (off < n && !failed) {
			size_t k = n - off < sizeof(chunk) ? n - off :
			    sizeof(chunk);

			for (size_t i = 0; i < k; i++)
				chunk[i] = pattern(off + i);
			if (fwrite(chunk, 1, k, f) != k)
				failed = 1;
			off += k;
		}
		if (!failed && tm_ctl_reply_ok(c, "{\"packets\":7,"
		    "\"bytes\":1234}"))
			failed = 1;
		pthread_mutex_lock(&hs.mu);
		hs.streams_failed += failed;
		hs.streams_done++;
		pthread_cond_broadcast(&hs.cv);
		pthread_mutex_unlock(&hs.mu);
		return;
	}
	case TM_CTL_STATS:
		if (!r->json) {
			tm_ctl_reply_ok(c, "{\"text\":\"line 1\\nline "
			    "\\\"2\\\"\\t\\u00e9\\n\"}");
			return;
		}
		pthread_mutex_lock(&hs.mu);
		hs.blocked++;
		pthread_cond_broadcast(&hs.cv);
		while (!hs.release)
			pthread_cond_wait(&hs.cv, &hs.mu);
		hs.blocked--;
		pthread_mutex_unlock(&hs.mu);
		tm_ctl_reply_ok(c, "{\"blocked\":true}");
		return;
	case TM_CTL_SET_CUTOFF:
		tm_ctl_reply_err(c, "no such thing: %s\nreally", r->expr);
		return;
	case TM_CTL_FLUSH:
		tm_ctl_note(c, "flushing");
		tm_ctl_reply_ok(c, "{\"segments\":3}");
		return;
	case TM_CTL_CLEAR_CUTOFFS: {
		int ok = tm_ctl_reply_ok(c, NULL) == 0 &&
		    tm_ctl_reply_ok(c, "{}") == -1 &&
		    tm_ctl_reply_err(c, "late") == -1 &&
		    tm_ctl_note(c, "late") == -1 &&
		    tm_ctl_data_stream(c) == NULL;

		pthread_mutex_lock(&hs.mu);
		hs.after_answer = ok;
		hs.after_checked++;
		pthread_cond_broadcast(&hs.cv);
		pthread_mutex_unlock(&hs.mu);
		return;
	}
	}
}

static int calls(void)
{
	int n;

	pthread_mutex_lock(&hs.mu);
	n = hs.calls;
	pthread_mutex_unlock(&hs.mu);
	return n;
}

/* Waits (at most 10 s) until *v >= want under hs.mu. */
static void wait_for(int *v, int want)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&hs.mu);
	while (*v < want)
		if (pthread_cond_timedwait(&hs.cv, &hs.mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&hs.mu);
	pthread_mutex_lock(&hs.mu);
	if (*v < want) {
		pthread_mutex_unlock(&hs.mu);
		fail_msg("waited 10 s for a handler");
	}
	pthread_mutex_unlock(&hs.mu);
}

/* ---- helpers --------------------------------------------------------------- */

static char dir[64], sock[100];
static _Thread_local char err[1024];	/* blocked_client's threads too */

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tm-test-ctl.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/tm.sock", dir);
	pthread_mutex_lock(&hs.mu);
	hs.release = 0;
	pthread_mutex_unlock(&hs.mu);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct tm_ctl_server *start(struct tm_ctl_server_opts *o)
{
	struct tm_ctl_server *s = tm_ctl_server_start(o, handler, NULL, err,
	    sizeof(err));

	if (!s)
		fail_msg("server: %s", err);
	return s;
}

static struct tm_ctl_server *start_unix(void)
{
	struct tm_ctl_server_opts o = { .unix_path = sock };

	return start(&o);
}

/* One request through the client library: the answer's type ('K' or 'E'),
 * or -1 with err. The payload stays in *a. */
static int call(const char *addr, const char *token, const char *line,
    FILE *data, struct tm_ctl_answer *a)
{
	struct tm_ctl_req r;
	size_t n = strlen(line);
	char *copy = malloc(n + 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, line, n + 1);
	assert_int_equal(tm_ctl_parse_request(copy, n, &r, err, sizeof(err)),
	    0);
	rc = tm_ctl_call(addr, token, &r, data, NULL, 10000, a, err,
	    sizeof(err));
	free(copy);
	return rc ? -1 : a->type;
}

static int raw_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends bytes on a raw connection and reads the answer: its type and
 * payload in *a, or -1 with err. */
static int raw_exchange(int fd, const void *p, size_t n, int shut,
    struct tm_ctl_answer *a)
{
	if (n)
		assert_int_equal(tm_ctl_send_all(fd, p, n), 0);
	if (shut)
		shutdown(fd, SHUT_WR);
	static FILE *devnull;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (tm_ctl_read_answer(fd, devnull, NULL, 10000, a, err, sizeof(err)))
		return -1;
	return a->type;
}

#define assert_answer(t, a, want_type, want) do {			\
	int t_ = (t);							\
	if (t_ < 0)							\
		fail_msg("no answer: %s", err);				\
	assert_int_equal(t_, (want_type));				\
	assert_string_equal((a)->payload, (want));			\
	tm_ctl_answer_free(a);						\
} while (0)

/* ---- Unix socket ----------------------------------------------------------- */

static void test_unix_answers(void **state)
{
	struct tm_ctl_server *s;
	struct tm_ctl_answer a;
	struct stat st;
	char *mem = NULL, text[256], addr[160];
	size_t memlen = 0;
	FILE *data;
	int before;

	(void)state;
	s = start_unix();
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(tm_ctl_server_tcp_port(s), 0);

	assert_answer(call(sock, NULL, "ping", NULL, &a), &a, 'K',
	    "{\"version\":1,\"capturing\":false,\"store\":\"/srv/tm "
	    "\\\"x\\\"\"}");
	/* the same socket named as the store directory and as unix:PATH */
	assert_answer(call(dir, NULL, "flush", NULL, &a), &a, 'K',
	    "{\"segments\":3}");
	snprintf(addr, sizeof(addr), "unix:%s", sock);
	assert_answer(call(addr, NULL, "stats text", NULL, &a), &a, 'K',
	    "{\"text\":\"line 1\\nline \\\"2\\\"\\t\\u00e9\\n\"}");
	assert_answer(call(addr, NULL, "stats text", NULL, &a), &a, 'K',
	    "{\"text\":\"line 1\\nline \\\"2\\\"\\t\\u00e9\\n\"}");
	/* an E message is one printable line */
	assert_answer(call(sock, NULL, "set-cutoff 1k 1h tcp", NULL, &a), &a,
	    'E', "no such thing: tcp really");
	/* a handler that does not answer */
	assert_answer(call(sock, NULL, "query count tcp", NULL, &a), &a, 'E',
	    "internal error: no answer");
	/* answering twice, notes and data after the answer: refused */
	assert_answer(call(sock, NULL, "clear-cutoffs", NULL, &a), &a, 'K',
	    "{}");
	wait_for(&hs.after_checked, 1);
	pthread_mutex_lock(&hs.mu);
	assert_int_equal(hs.after_answer, 1);
	pthread_mutex_unlock(&hs.mu);

	/* data: 3 MiB and a bit, in frames of at most 1 MiB, in order */
	data = open_memstream(&mem, &memlen);
	assert_non_null(data);
	before = calls();
	snprintf(text, sizeof(text), "query pcap %u", 3 * (1u << 20) + 17);
	assert_answer(call(sock, NULL, text, data, &a), &a, 'K',
	    "{\"packets\":7,\"bytes\":1234}");
	fclose(data);
	assert_int_equal(memlen, 3 * (1u << 20) + 17);
	for (size_t i = 0; i < memlen; i++)
		if ((uint8_t)mem[i] != pattern(i))
			fail_msg("data byte %zu differs", i);
	free(mem);
	assert_int_equal(calls(), before + 1);
	/* notes arrive, counted */
	data = open_memstream(&mem, &memlen);
	assert_answer(call(sock, NULL, "query pcap 0", data, &a), &a, 'K',
	    "{\"packets\":7,\"bytes\":1234}");
	fclose(data);
	assert_int_equal(memlen, 0);
	free(mem);

	tm_ctl_server_stop(s);
	assert_int_equal(lstat(sock, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(call(sock, NULL, "ping", NULL, &a), -1);
	assert_non_null(strstr(err, "no such socket"));
}

static void test_notes_to_stream(void **state)
{
	struct tm_ctl_server *s = start_unix();
	struct tm_ctl_answer a;
	struct tm_ctl_req r;
	char *mem = NULL, *dmem = NULL;
	size_t memlen = 0, dlen = 0;
	FILE *notes = open_memstream(&mem, &memlen);
	FILE *data = open_memstream(&dmem, &dlen);
	char line[] = "query pcap 5";

	(void)state;
	assert_int_equal(tm_ctl_parse_request(line, strlen(line), &r, err,
	    sizeof(err)), 0);
	assert_int_equal(tm_ctl_call(sock, NULL, &r, data, notes, 0, &a, err,
	    sizeof(err)), 0);
	fclose(notes);
	fclose(data);
	assert_int_equal(a.type, 'K');
	assert_int_equal(a.notes, 1);
	assert_int_equal(a.data_bytes, 5);
	assert_int_equal(dlen, 5);
	/* the note's tab became a space */
	assert_string_equal(mem, "tm: streaming 5 bytes\n");
	tm_ctl_answer_free(&a);
	free(mem);
	free(dmem);
	tm_ctl_server_stop(s);
}

static void test_mode_and_group(void **state)
{
	struct tm_ctl_server_opts o = { .unix_path = sock, .mode = 0600 };
	struct tm_ctl_server *s;
	struct group *g = getgrgid(getegid());
	struct stat st;

	(void)state;
	s = start(&o);
	assert_int_equal(lstat(sock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	tm_ctl_server_stop(s);

	assert_non_null(g);
	o.mode = 0;
	o.group = g->gr_name;
	s = start(&o);
	assert_int_equal(lstat(sock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getegid());
	tm_ctl_server_stop(s);

	o.group = "tm-no-such-group-here";
	assert_null(tm_ctl_server_start(&o, handler, NULL, err, sizeof(err)));
	assert_string_equal(err, "control socket group "
	    "'tm-no-such-group-here': no such group");
	/* the failed start left no socket behind */
	assert_int_equal(lstat(sock, &st), -1);
}

static void test_stale_and_live(void **state)
{
	struct sockaddr_un sa;
	struct tm_ctl_server *s, *s2;
	struct tm_ctl_answer a;
	struct stat st;
	FILE *f;
	int fd;

	(void)state;
	/* a stale socket: bound, never listening, closed */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(sock, &st), 0);
	assert_int_equal(call(sock, NULL, "ping", NULL, &a), -1);
	assert_non_null(strstr(err, "nothing answers"));
	s = start_unix();
	assert_answer(call(sock, NULL, "ping", NULL, &a), &a, 'K',
	    "{\"version\":1,\"capturing\":false,\"store\":\"/srv/tm "
	    "\\\"x\\\"\"}");

	/* a live one is refused and keeps working */
	assert_null(tm_ctl_server_start(&(struct tm_ctl_server_opts){
	    .unix_path = sock }, handler, NULL, err, sizeof(err)));
	{
		char want[256];

		snprintf(want, sizeof(want), "%s: already served by another "
		    "tm", sock);
		assert_string_equal(err, want);
	}
	assert_answer(call(sock, NULL, "flush", NULL, &a), &a, 'K',
	    "{\"segments\":3}");
	tm_ctl_server_stop(s);

	/* something else at the path is not touched */
	f = fopen(sock, "w");
	assert_non_null(f);
	fputs("precious", f);
	fclose(f);
	s2 = tm_ctl_server_start(&(struct tm_ctl_server_opts){
	    .unix_path = sock }, handler, NULL, err, sizeof(err));
	assert_null(s2);
	assert_non_null(strstr(err, "exists and is not a socket"));
	assert_int_equal(lstat(sock, &st), 0);
	assert_int_equal(st.st_size, 8);
	unlink(sock);

	/* no socket at all, a path too long, a directory that is missing */
	assert_null(tm_ctl_server_start(&(struct tm_ctl_server_opts){ 0 },
	    handler, NULL, err, sizeof(err)));
	assert_string_equal(err, "control: no socket to listen on");
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		assert_null(tm_ctl_server_start(&(struct tm_ctl_server_opts){
		    .unix_path = longp }, handler, NULL, err, sizeof(err)));
		assert_non_null(strstr(err, "not a usable Unix socket path"));
	}
}

static void test_stop_removes_only_its_own(void **state)
{
	struct tm_ctl_server *s = start_unix();
	struct stat st;
	FILE *f;

	(void)state;
	/* someone replaced the socket file: stop leaves theirs alone */
	assert_int_equal(unlink(sock), 0);
	f = fopen(sock, "w");
	assert_non_null(f);
	fclose(f);
	tm_ctl_server_stop(s);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* ---- hostile and odd clients ----------------------------------------------- */

static void test_request_lines(void **state)
{
	struct tm_ctl_server *s = start_unix();
	struct tm_ctl_answer a;
	char *big = malloc(TM_CTL_LINE_MAX + 16);
	int before, fd;

	(void)state;
	assert_non_null(big);
	before = calls();
	/* a parse error names the column; the handler is not called */
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, "query pcapx tcp\n", 16, 0, &a), &a,
	    'E', "request:1:7: unknown query mode 'pcapx' (pcap or count)");
	close(fd);
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, "ping\x01\n", 6, 0, &a), &a, 'E',
	    "request:1:5: control character 0x01");
	close(fd);
	/* no newline before EOF */
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, "ping", 4, 1, &a), &a, 'E',
	    "request: the line does not end in a newline");
	close(fd);
	/* nothing at all: closed without an answer */
	fd = raw_unix(sock);
	assert_int_equal(raw_exchange(fd, NULL, 0, 1, &a), -1);
	assert_non_null(strstr(err, "connection lost"));
	close(fd);
	/* over the limit: 65536 bytes without a newline */
	memset(big, 'a', TM_CTL_LINE_MAX + 16);
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, big, TM_CTL_LINE_MAX, 0, &a), &a, 'E',
	    "request: line longer than 65536 bytes");
	close(fd);
	/* a newline as byte 65537 is too late too */
	big[TM_CTL_LINE_MAX] = '\n';
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, big, TM_CTL_LINE_MAX + 1, 0, &a), &a,
	    'E', "request: line longer than 65536 bytes");
	close(fd);
	assert_int_equal(calls(), before);

	/* the longest line there is: 65535 bytes and "\n" */
	memcpy(big, "query pcap 3 ", 13);
	big[TM_CTL_LINE_MAX - 1] = '\n';
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, big, TM_CTL_LINE_MAX, 0, &a), &a, 'K',
	    "{\"packets\":7,\"bytes\":1234}");
	close(fd);
	/* CRLF; an auth line over a Unix socket is ignored; both lines in
	 * one write; bytes after the request line are ignored */
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, "ping\r\n", 6, 0, &a), &a, 'K',
	    "{\"version\":1,\"capturing\":false,\"store\":\"/srv/tm "
	    "\\\"x\\\"\"}");
	close(fd);
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, "auth whatever\nflush\nping\n", 25, 0,
	    &a), &a, 'K', "{\"segments\":3}");
	close(fd);
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, "auth\nflush\n", 11, 0, &a), &a, 'K',
	    "{\"segments\":3}");
	close(fd);
	/* a second auth line is a request, and a bad one */
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, "auth a\nauth b\n", 14, 0, &a), &a, 'E',
	    "request:1:1: 'auth' is only allowed as the first line");
	close(fd);
	assert_int_equal(calls(), before + 4);
	free(big);
	tm_ctl_server_stop(s);
}

static void test_request_timeout(void **state)
{
	struct tm_ctl_server_opts o = { .unix_path = sock,
		.request_timeout_ms = 300 };
	struct tm_ctl_server *s = start(&o);
	struct tm_ctl_answer a;
	int64_t t0, dt;
	int before = calls(), fd;

	(void)state;
	/* a partial line, then silence */
	fd = raw_unix(sock);
	t0 = ms_now();
	assert_answer(raw_exchange(fd, "pi", 2, 0, &a), &a, 'E',
	    "request: no complete request line within 300 ms");
	dt = ms_now() - t0;
	assert_true(dt >= 250 && dt < 5000);
	close(fd);
	/* a byte every 100 ms does not extend the deadline */
	fd = raw_unix(sock);
	t0 = ms_now();
	for (int i = 0; i < 5; i++) {
		if (send(fd, "p", 1, MSG_NOSIGNAL) != 1)
			break;
		poll(NULL, 0, 100);
	}
	assert_answer(raw_exchange(fd, NULL, 0, 0, &a), &a, 'E',
	    "request: no complete request line within 300 ms");
	dt = ms_now() - t0;
	assert_true(dt < 5000);
	close(fd);
	assert_int_equal(calls(), before);
	tm_ctl_server_stop(s);

	/* whole seconds are said in seconds */
	o.request_timeout_ms = 1000;
	s = start(&o);
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, NULL, 0, 0, &a), &a, 'E',
	    "request: no complete request line within 1 s");
	close(fd);
	tm_ctl_server_stop(s);
}

static void test_client_vanishes(void **state)
{
	struct tm_ctl_server *s = start_unix();
	struct tm_ctl_answer a;
	uint8_t hdr[5];
	int fd, done;

	(void)state;
	pthread_mutex_lock(&hs.mu);
	done = hs.streams_done;
	hs.streams_failed = 0;
	pthread_mutex_unlock(&hs.mu);
	/* 1 GiB asked for; the client reads one frame header and goes */
	fd = raw_unix(sock);
	assert_int_equal(tm_ctl_send_all(fd, "query pcap 1073741824\n", 22),
	    0);
	assert_int_equal(recv(fd, hdr, sizeof(hdr), MSG_WAITALL), 5);
	close(fd);
	wait_for(&hs.streams_done, done + 1);
	assert_int_equal(hs.streams_failed, 1);
	/* the server lives on */
	assert_answer(call(sock, NULL, "flush", NULL, &a), &a, 'K',
	    "{\"segments\":3}");
	tm_ctl_server_stop(s);
}

static void test_slow_reader(void **state)
{
	struct tm_ctl_server_opts o = { .unix_path = sock,
		.send_timeout_ms = 300 };
	struct tm_ctl_server *s = start(&o);
	struct tm_ctl_answer a;
	int64_t t0;
	int fd, done;

	(void)state;
	pthread_mutex_lock(&hs.mu);
	done = hs.streams_done;
	hs.streams_failed = 0;
	pthread_mutex_unlock(&hs.mu);
	/* asks for 1 GiB and never reads: dropped after the send timeout */
	fd = raw_unix(sock);
	t0 = ms_now();
	assert_int_equal(tm_ctl_send_all(fd, "query pcap 1073741824\n", 22),
	    0);
	wait_for(&hs.streams_done, done + 1);
	assert_true(ms_now() - t0 < 9000);
	assert_int_equal(hs.streams_failed, 1);
	close(fd);
	assert_answer(call(sock, NULL, "flush", NULL, &a), &a, 'K',
	    "{\"segments\":3}");
	tm_ctl_server_stop(s);
}

static void *blocked_client(void *arg)
{
	struct tm_ctl_answer *a = arg;

	if (call(sock, NULL, "stats json", NULL, a) < 0)
		a->type = -1;
	return NULL;
}

static void test_busy(void **state)
{
	struct tm_ctl_server_opts o = { .unix_path = sock, .max_clients = 2 };
	struct tm_ctl_server *s = start(&o);
	struct tm_ctl_answer a, b[2];
	pthread_t th[2];
	int before, fd;

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, blocked_client,
		    &b[i]), 0);
	wait_for(&hs.blocked, 2);
	assert_int_equal(tm_ctl_server_clients(s), 2);
	before = calls();
	/* the third is told, before it says anything */
	fd = raw_unix(sock);
	assert_answer(raw_exchange(fd, NULL, 0, 0, &a), &a, 'E',
	    "busy: too many clients");
	close(fd);
	assert_answer(call(sock, NULL, "ping", NULL, &a), &a, 'E',
	    "busy: too many clients");
	assert_int_equal(calls(), before);
	pthread_mutex_lock(&hs.mu);
	hs.release = 1;
	pthread_cond_broadcast(&hs.cv);
	pthread_mutex_unlock(&hs.mu);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(b[i].type, 'K');
		assert_string_equal(b[i].payload, "{\"blocked\":true}");
		tm_ctl_answer_free(&b[i]);
	}
	for (int i = 0; i < 200 && tm_ctl_server_clients(s); i++)
		poll(NULL, 0, 10);
	assert_int_equal(tm_ctl_server_clients(s), 0);
	assert_answer(call(sock, NULL, "flush", NULL, &a), &a, 'K',
	    "{\"segments\":3}");
	tm_ctl_server_stop(s);
}

static void test_stop_is_prompt(void **state)
{
	struct tm_ctl_server *s = start_unix();
	struct stat st;
	int64_t t0;
	int idle, streaming, done;

	(void)state;
	pthread_mutex_lock(&hs.mu);
	done = hs.streams_done;
	pthread_mutex_unlock(&hs.mu);
	/* one client says nothing (10 s request timeout), one asked for
	 * 1 GiB and does not read (60 s send timeout) */
	idle = raw_unix(sock);
	streaming = raw_unix(sock);
	assert_int_equal(tm_ctl_send_all(streaming, "query pcap 1073741824\n",
	    22), 0);
	for (int i = 0; i < 500 && tm_ctl_server_clients(s) < 2; i++)
		poll(NULL, 0, 10);
	assert_int_equal(tm_ctl_server_clients(s), 2);
	poll(NULL, 0, 100);
	t0 = ms_now();
	tm_ctl_server_stop(s);
	assert_true(ms_now() - t0 < 3000);
	pthread_mutex_lock(&hs.mu);
	assert_int_equal(hs.streams_done, done + 1);
	pthread_mutex_unlock(&hs.mu);
	assert_int_equal(lstat(sock, &st), -1);
	close(idle);
	close(streaming);
}

/* ---- TCP ------------------------------------------------------------------- */

static void test_tcp(void **state)
{
	struct tm_ctl_server_opts o = { .unix_path = sock, .tcp_addr = ":0" };
	struct tm_ctl_server *s;
	struct tm_ctl_answer a;
	char addr[64], taddr[64];
	int before, tcp_before, port;

	(void)state;
	/* no token, a bad token: refused */
	assert_null(tm_ctl_server_start(&o, handler, NULL, err, sizeof(err)));
	assert_string_equal(err, "control over TCP (:0) needs a token: 1 to "
	    "256 printable ASCII characters, no spaces");
	o.token = "two words";
	assert_null(tm_ctl_server_start(&o, handler, NULL, err, sizeof(err)));
	o.token = "";
	assert_null(tm_ctl_server_start(&o, handler, NULL, err, sizeof(err)));
	o.token = "s3cret";
	o.tcp_addr = "nonsense";
	assert_null(tm_ctl_server_start(&o, handler, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "expected HOST:PORT"));
	o.tcp_addr = ":0";
	s = start(&o);
	port = tm_ctl_server_tcp_port(s);
	assert_true(port > 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	snprintf(taddr, sizeof(taddr), "tcp:localhost:%d", port);

	before = calls();
	pthread_mutex_lock(&hs.mu);
	tcp_before = hs.tcp_seen;
	pthread_mutex_unlock(&hs.mu);
	/* without the token, with a wrong one, with a prefix of it, with a
	 * malformed auth line: the handler is never called */
	assert_answer(call(addr, NULL, "ping", NULL, &a), &a, 'E',
	    "authentication failed");
	assert_answer(call(addr, "s3cre", "ping", NULL, &a), &a, 'E',
	    "authentication failed");
	assert_answer(call(addr, "s3cret!", "ping", NULL, &a), &a, 'E',
	    "authentication failed");
	assert_answer(call(taddr, "S3CRET", "flush", NULL, &a), &a, 'E',
	    "authentication failed");
	{
		int fd = tm_ctl_connect(addr, err, sizeof(err));

		assert_true(fd >= 0);
		assert_answer(raw_exchange(fd, "auth s3cret extra\nping\n", 23,
		    0, &a), &a, 'E', "authentication failed");
		close(fd);
		fd = tm_ctl_connect(addr, err, sizeof(err));
		assert_answer(raw_exchange(fd, "auth\n", 5, 0, &a), &a, 'E',
		    "authentication failed");
		close(fd);
	}
	assert_int_equal(calls(), before);
	/* with it */
	assert_answer(call(addr, "s3cret", "ping", NULL, &a), &a, 'K',
	    "{\"version\":1,\"capturing\":false,\"store\":\"/srv/tm "
	    "\\\"x\\\"\"}");
	assert_answer(call(taddr, "s3cret", "flush", NULL, &a), &a, 'K',
	    "{\"segments\":3}");
	assert_int_equal(calls(), before + 2);
	pthread_mutex_lock(&hs.mu);
	assert_int_equal(hs.tcp_seen, tcp_before + 2);
	pthread_mutex_unlock(&hs.mu);
	/* the Unix socket of the same server needs none */
	assert_answer(call(sock, NULL, "flush", NULL, &a), &a, 'K',
	    "{\"segments\":3}");
	/* data over TCP */
	{
		char *mem = NULL;
		size_t memlen = 0;
		FILE *data = open_memstream(&mem, &memlen);

		assert_answer(call(addr, "s3cret", "query pcap 2000000", data,
		    &a), &a, 'K', "{\"packets\":7,\"bytes\":1234}");
		fclose(data);
		assert_int_equal(memlen, 2000000);
		for (size_t i = 0; i < memlen; i++)
			if ((uint8_t)mem[i] != pattern(i))
				fail_msg("data byte %zu differs", i);
		free(mem);
	}
	tm_ctl_server_stop(s);
	assert_int_equal(call(addr, "s3cret", "ping", NULL, &a), -1);
}

/* ---- the client against a hostile server ----------------------------------- */

/* Feeds bytes to tm_ctl_read_answer through a socket pair (then EOF). */
static int feed(const void *p, size_t n, FILE *data, int timeout_ms,
    struct tm_ctl_answer *a)
{
	int sv[2], r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (n)
		assert_int_equal(tm_ctl_send_all(sv[1], p, n), 0);
	if (timeout_ms == 0)
		close(sv[1]);
	r = tm_ctl_read_answer(sv[0], data, NULL, timeout_ms, a, err,
	    sizeof(err));
	close(sv[0]);
	if (timeout_ms)
		close(sv[1]);
	return r ? -1 : a->type;
}

static void test_client_reads(void **state)
{
	struct tm_ctl_answer a;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *data;

	(void)state;
	assert_answer(feed("K\0\0\0\2{}", 7, NULL, 0, &a), &a, 'K', "{}");
	assert_answer(feed("E\0\0\0\3a\nb", 8, NULL, 0, &a), &a, 'E', "a?b");
	assert_answer(feed("N\0\0\0\1xK\0\0\0\0", 11, NULL, 0, &a), &a, 'K',
	    "");
	data = open_memstream(&mem, &memlen);
	assert_answer(feed("D\0\0\0\3abcD\0\0\0\0D\0\0\0\2deK\0\0\0\0", 25,
	    data, 0, &a), &a, 'K', "");
	fclose(data);
	assert_int_equal(memlen, 5);
	assert_memory_equal(mem, "abcde", 5);
	free(mem);

	assert_int_equal(feed("", 0, NULL, 0, &a), -1);
	assert_string_equal(err, "connection lost before the answer ended "
	    "(no final frame)");
	assert_int_equal(feed("K\0\0", 3, NULL, 0, &a), -1);
	assert_string_equal(err, "connection lost before the answer ended "
	    "(frame header)");
	assert_int_equal(feed("K\0\0\0\5{}", 7, NULL, 0, &a), -1);
	assert_string_equal(err, "connection lost before the answer ended "
	    "(final frame)");
	assert_int_equal(feed("N\0\0\0\1x", 6, NULL, 0, &a), -1);
	assert_string_equal(err, "connection lost before the answer ended "
	    "(no final frame)");
	assert_int_equal(feed("X\0\0\0\0", 5, NULL, 0, &a), -1);
	assert_string_equal(err, "protocol error: unknown frame type 0x58");
	assert_int_equal(feed("K\0\x10\0\1", 5, NULL, 0, &a), -1);
	assert_string_equal(err, "protocol error: a frame of 1048577 bytes "
	    "(at most 1048576)");
	assert_int_equal(feed("D\0\0\0\1x", 6, NULL, 0, &a), -1);
	assert_string_equal(err, "protocol error: data in an answer that has "
	    "none");
	/* silence: the timeout */
	assert_int_equal(feed("N\0\0\0\1x", 6, NULL, 200, &a), -1);
	assert_string_equal(err, "no answer for 200 ms (frame header)");
	{
		/* a failing data sink */
		FILE *full = fopen("/dev/full", "w");

		if (full) {
			setvbuf(full, NULL, _IONBF, 0);
			assert_int_equal(feed("D\0\0\0\1xK\0\0\0\0", 11, full,
			    0, &a), -1);
			assert_non_null(strstr(err, "writing: "));
			fclose(full);
		}
	}
}

static void test_connect_errors(void **state)
{
	char path[256];
	int fd;

	(void)state;
	assert_int_equal(tm_ctl_connect("/nonexistent/tm.sock", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "no such socket (is tm capture -i or tm "
	    "serve running?)");
	/* a directory means its tm.sock */
	assert_int_equal(tm_ctl_connect(dir, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/tm.sock: no such socket (is tm "
	    "capture -i or tm serve running?)", dir);
	assert_string_equal(err, path);
	assert_int_equal(tm_ctl_connect("tcp:nonsense", err, sizeof(err)), -1);
	assert_string_equal(err, "'nonsense': expected HOST:PORT or "
	    "[IPV6]:PORT");
	/* a port nobody listens on (port 1 is privileged: nothing of ours) */
	assert_int_equal(tm_ctl_connect("127.0.0.1:1", err, sizeof(err)), -1);
	assert_string_equal(err, "Connection refused");
	/* a bare word without ':' is a path */
	fd = tm_ctl_connect("no-such-socket", err, sizeof(err));
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "no such socket"));
}

static void test_token_load(void **state)
{
	char tok[TM_CTL_TOKEN_MAX + 1], path[128];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/token", dir);
	f = fopen(path, "w");
	fputs("s3cret \r\nsecond line\n", f);
	fclose(f);
	unsetenv("TM_TOKEN");
	assert_int_equal(tm_ctl_token_load(NULL, tok, sizeof(tok), err,
	    sizeof(err)), 0);
	assert_int_equal(tm_ctl_token_load(path, tok, sizeof(tok), err,
	    sizeof(err)), 1);
	assert_string_equal(tok, "s3cret");
	setenv("TM_TOKEN", "from-env", 1);
	assert_int_equal(tm_ctl_token_load(NULL, tok, sizeof(tok), err,
	    sizeof(err)), 1);
	assert_string_equal(tok, "from-env");
	/* the file wins */
	assert_int_equal(tm_ctl_token_load(path, tok, sizeof(tok), err,
	    sizeof(err)), 1);
	assert_string_equal(tok, "s3cret");
	setenv("TM_TOKEN", "two words", 1);
	assert_int_equal(tm_ctl_token_load(NULL, tok, sizeof(tok), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "TM_TOKEN: the value is not a token (1 to "
	    "256 printable ASCII characters, no spaces)");
	unsetenv("TM_TOKEN");
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(tm_ctl_token_load(path, tok, sizeof(tok), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "the first line is not a token"));
	assert_int_equal(tm_ctl_token_load("/nonexistent", tok, sizeof(tok),
	    err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent: No such file or directory");
}

static void test_json(void **state)
{
	const char *j = "{ \"a\" : {\"packets\":99, \"x\":[1,{\"y\":\"}\"}]},"
	    "\"s\":\"packets\\\":5\", \"packets\" : 12 ,\"bytes\":0,"
	    "\"ms\":1.5,\"neg\":-2,\"t\":true,\"f\":false,\"n\":null,"
	    "\"text\":\"x\\n\\\"q\\\"\\\\\\/\\t\\u00e9\\ud83d\\ude00\"}";
	uint64_t v;
	double d;
	int b;
	char out[64];

	(void)state;
	assert_int_equal(tm_ctl_json_u64(j, "packets", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(tm_ctl_json_u64(j, "bytes", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(tm_ctl_json_u64(j, "ms", &v), -1);
	assert_int_equal(tm_ctl_json_double(j, "ms", &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(tm_ctl_json_u64(j, "neg", &v), -1);
	assert_int_equal(tm_ctl_json_double(j, "neg", &d), 0);
	assert_true(d == -2);
	assert_int_equal(tm_ctl_json_bool(j, "t", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(tm_ctl_json_bool(j, "f", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(tm_ctl_json_bool(j, "n", &b), -1);
	assert_int_equal(tm_ctl_json_is_null(j, "n"), 1);
	assert_int_equal(tm_ctl_json_is_null(j, "t"), 0);
	assert_null(tm_ctl_json_find(j, "y"));		/* nested: not found */
	assert_null(tm_ctl_json_find(j, "missing"));
	assert_int_equal(tm_ctl_json_string(j, "text", out, sizeof(out)), 14);
	assert_string_equal(out, "x\n\"q\"\\/\t\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(tm_ctl_json_string(j, "text", out, 10), -1);
	assert_int_equal(tm_ctl_json_string(j, "packets", out, sizeof(out)),
	    -1);
	/* malformed: never read past the end */
	assert_null(tm_ctl_json_find("", "a"));
	assert_null(tm_ctl_json_find("{", "a"));
	assert_null(tm_ctl_json_find("{\"a", "a"));
	assert_null(tm_ctl_json_find("{\"b\":\"x", "a"));
	assert_null(tm_ctl_json_find("{\"b\":{\"c\":1}", "a"));
	assert_null(tm_ctl_json_find("{\"b\":1 \"a\":2}", "a"));
	assert_null(tm_ctl_json_find("[\"a\",1]", "a"));
	assert_int_equal(tm_ctl_json_u64("{\"a\":1x}", "a", &v), -1);
	assert_int_equal(tm_ctl_json_u64("{\"a\":99999999999999999999}", "a",
	    &v), -1);
	assert_int_equal(tm_ctl_json_string("{\"a\":\"\\u12\"}", "a", out,
	    sizeof(out)), -1);
	assert_int_equal(tm_ctl_json_string("{\"a\":\"\\ud83d\"}", "a", out,
	    sizeof(out)), -1);
	assert_int_equal(tm_ctl_json_string("{\"a\":\"\\ude00\"}", "a", out,
	    sizeof(out)), -1);
	assert_int_equal(tm_ctl_json_string("{\"a\":\"\\q\"}", "a", out,
	    sizeof(out)), -1);
	assert_int_equal(tm_ctl_json_string("{\"a\":\"abc", "a", out,
	    sizeof(out)), -1);
	assert_int_equal(tm_ctl_json_string("{\"a\":\"abc\\", "a", out,
	    sizeof(out)), -1);
}

static void test_timeout_option(void **state)
{
	int ms;

	(void)state;
	assert_int_equal(tm_ctl_parse_timeout("30", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(tm_ctl_parse_timeout("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(tm_ctl_parse_timeout("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(tm_ctl_parse_timeout("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(tm_ctl_parse_timeout("999999", &ms), 0);
	assert_int_equal(tm_ctl_parse_timeout("9999999", &ms), -1);
	assert_int_equal(tm_ctl_parse_timeout("8d", &ms), -1);
	assert_int_equal(tm_ctl_parse_timeout("-", &ms), -1);
	assert_int_equal(tm_ctl_parse_timeout("", &ms), -1);
	assert_int_equal(tm_ctl_parse_timeout("x", &ms), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unix_answers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notes_to_stream, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mode_and_group, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_live, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop_removes_only_its_own,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_vanishes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_is_prompt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
		cmocka_unit_test(test_client_reads),
		cmocka_unit_test_setup_teardown(test_connect_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_load, setup,
		    teardown),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_timeout_option),
	};

	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
