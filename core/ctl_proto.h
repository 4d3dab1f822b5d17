/*
 * The control protocol between a running `tm` (tm capture -i, tm serve) and
 * its clients (tm query --connect, tm stats, tm ctl): docs/control-protocol.md.
 *
 * Client -> server: at most two lines, each ending in "\n" and at most
 * TM_CTL_LINE_MAX bytes with the newline: `auth TOKEN` (required over TCP,
 * ignored over a Unix socket), then one request `VERB ARGS`.
 * Server -> client: frames, 1 type byte + 4-byte big-endian payload length
 * + payload (at most TM_CTL_FRAME_MAX bytes): 'D' data, 'N' notice, then one
 * final 'K' (JSON object) or 'E' (message).
 *
 * Everything here is pure (no allocation, no I/O) except tm_ctl_send_frame.
 */
#ifndef TM_CTL_PROTO_H
#define TM_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define TM_CTL_LINE_MAX 65536		/* bytes of a line, "\n" included */
#define TM_CTL_FRAME_MAX (1u << 20)	/* bytes of a frame's payload */
#define TM_CTL_FRAME_HDR 5
#define TM_CTL_TOKEN_MAX 256
#define TM_CTL_VERSION 1
#define TM_CTL_CUTOFF_NONE UINT64_MAX

#define TM_CTL_FRAME_DATA 'D'
#define TM_CTL_FRAME_NOTE 'N'
#define TM_CTL_FRAME_OK 'K'
#define TM_CTL_FRAME_ERR 'E'

enum tm_ctl_verb {
	TM_CTL_PING,
	TM_CTL_QUERY,
	TM_CTL_STATS,
	TM_CTL_SET_CUTOFF,
	TM_CTL_CLEAR_CUTOFFS,
	TM_CTL_FLUSH
};

struct tm_ctl_req {
	enum tm_ctl_verb verb;
	int count_only;		/* query count */
	int json;		/* stats json */
	uint64_t cutoff;	/* set-cutoff: bytes; UINT64_MAX: none */
	int64_t for_ns;		/* set-cutoff: how long; 0: no end */
	const char *expr;	/* query, set-cutoff: into the parsed line;
				 * "" none */
};

/*
 * Parses one request line: line[0..len) without its "\n" (a final "\r" is
 * dropped). The line is modified in place (tabs become spaces, words are
 * cut with NULs) and must have room for len + 1 bytes: line[len] is
 * written. r->expr points into it. 0, or -1 with err set to
 * "request:1:COLUMN: what" (COLUMN 1-based, in bytes).
 */
int tm_ctl_parse_request(char *line, size_t len, struct tm_ctl_req *r,
    char *err, size_t errlen);

/*
 * Parses `auth TOKEN` the same way (line has room for len + 1 bytes).
 * *token points into line. 0, or -1 with err "auth:1:COLUMN: what".
 */
int tm_ctl_parse_auth(char *line, size_t len, const char **token, char *err,
    size_t errlen);

/* 1 if the first word of line[0..len) is "auth" (leading blanks skipped). */
int tm_ctl_is_auth_line(const char *line, size_t len);

/* 1 if s is a valid token: 1-256 bytes, each printable non-space ASCII. */
int tm_ctl_token_valid(const char *s);

/*
 * The request line for r, "\n" included, NUL-terminated. Returns its
 * length, or -1 if it does not fit in len bytes or r is not valid (an
 * expression with a control character, set-cutoff without an expression,
 * a duration that is not whole milliseconds).
 */
int tm_ctl_format_request(const struct tm_ctl_req *r, char *buf, size_t len);

/* 1 if a and b are equal, in time that depends on their lengths only. */
int tm_ctl_token_equal(const char *a, const char *b);

/* "20k" -> 20480: digits with an optional k, m, g or t (powers of 1024,
 * either case), or "none" -> UINT64_MAX. s[0..n). 0, or -1. */
int tm_ctl_parse_size(const char *s, size_t n, uint64_t *out);
/* "500ms", "30s", "10m", "2h", "1d" (digits and a unit, more than 0), or
 * "-" -> 0 (no end). s[0..n). 0, or -1. */
int tm_ctl_parse_duration(const char *s, size_t n, int64_t *ns);
/* The shortest form tm_ctl_parse_duration reads back: "90s", "2h", "-".
 * -1 if ns is negative or not whole milliseconds. */
int tm_ctl_format_duration(int64_t ns, char *buf, size_t len);

/*
 * "HOST:PORT", ":PORT" (host 127.0.0.1), "[V6]:PORT" -> host and port
 * (digits, at most 65535). 0, or -1 if malformed or too long.
 */
int tm_ctl_split_hostport(const char *addr, char *host, size_t hlen,
    char *port, size_t plen);

/*
 * A frame header at p[0..n): 1 and *type, *len if the 5 bytes are there and
 * valid, 0 if fewer than 5 bytes, -1 if the type is not D, N, K or E or the
 * length is over TM_CTL_FRAME_MAX.
 */
int tm_ctl_frame_parse(const uint8_t *p, size_t n, int *type, uint32_t *len);
/* Writes the 5-byte header of a frame. */
void tm_ctl_frame_header(uint8_t hdr[TM_CTL_FRAME_HDR], int type, uint32_t len);

/*
 * Sends one frame on fd (a socket: MSG_NOSIGNAL, so a peer that went away
 * gives EPIPE, not SIGPIPE; anything else: write). Retries on EINTR and
 * partial writes. 0, or -1 with errno (EINVAL: n over TM_CTL_FRAME_MAX or
 * a bad type; EAGAIN: the socket's send timeout passed).
 */
int tm_ctl_send_frame(int fd, int type, const void *p, size_t n);

/* Sends all of p[0..n) the same way. 0, or -1 with errno. */
int tm_ctl_send_all(int fd, const void *p, size_t n);

#endif
