/*
 * The client side of the control protocol (docs/control-protocol.md), shared
 * by `tm query --connect`, `tm stats` and `tm ctl`.
 */
#ifndef TM_CTL_CLIENT_H
#define TM_CTL_CLIENT_H

#include <stdint.h>
#include <stdio.h>

#include "ctl_proto.h"

#define TM_CTL_DEFAULT_TIMEOUT_MS 60000

/*
 * Connects to a service. ADDR: "unix:PATH", "tcp:HOST:PORT", a path (has a
 * '/' or names an existing file; a directory means DIR/tm.sock, a store's
 * socket), or "HOST:PORT". A socket fd, or -1 with err (which names a
 * directory's tm.sock, not ADDR itself: the caller does).
 */
int tm_ctl_connect(const char *addr, char *err, size_t errlen);

/*
 * The token: the first line of file when file is set, else the environment
 * variable TM_TOKEN. 1 with tok set, 0 if neither is set, -1 with err (an
 * unreadable file, not a valid token).
 */
int tm_ctl_token_load(const char *file, char *tok, size_t len, char *err,
    size_t errlen);

struct tm_ctl_answer {
	int type;		/* TM_CTL_FRAME_OK or TM_CTL_FRAME_ERR */
	char *payload;		/* NUL-terminated; an E message is made
				 * printable (control characters -> '?') */
	size_t len;
	uint64_t data_bytes;	/* of 'D' frames */
	uint64_t notes;		/* 'N' frames */
};

/* Sends `auth TOKEN` (when token) and the request line. 0, or -1 with err. */
int tm_ctl_send_request(int fd, const char *token, const struct tm_ctl_req *r,
    char *err, size_t errlen);

/*
 * Reads frames up to the final one: 'D' payloads to data (NULL: a 'D' frame
 * is a protocol error), 'N' payloads to notes as "tm: LINE\n" (made
 * printable; NULL: dropped). timeout_ms: the longest wait for a byte (0:
 * none). 0 with a filled in (free with tm_ctl_answer_free), or -1 with err:
 * connection lost before a final frame, a bad frame, a timeout, a failed
 * write to data.
 */
int tm_ctl_read_answer(int fd, FILE *data, FILE *notes, int timeout_ms,
    struct tm_ctl_answer *a, char *err, size_t errlen);
void tm_ctl_answer_free(struct tm_ctl_answer *a);

/* Connects, sends, reads the answer, closes: 0 (a K or E answer in a) or
 * -1 with err, which does not name addr. */
int tm_ctl_call(const char *addr, const char *token, const struct tm_ctl_req *r,
    FILE *data, FILE *notes, int timeout_ms, struct tm_ctl_answer *a,
    char *err, size_t errlen);

/* --timeout: whole seconds ("30") or a duration ("500ms", "2m"); "0": no
 * limit. 0 with *ms set, or -1. */
int tm_ctl_parse_timeout(const char *s, int *ms);

/*
 * A minimal reader for the flat JSON objects of K answers: the value of a
 * top-level key (a pointer at its first character), or NULL.
 */
const char *tm_ctl_json_find(const char *json, const char *key);
/* The top-level key's value as an unsigned integer. 0, or -1. */
int tm_ctl_json_u64(const char *json, const char *key, uint64_t *v);
/* ... as a number (integer or fraction). 0, or -1. */
int tm_ctl_json_double(const char *json, const char *key, double *v);
/* ... as true / false. 0, or -1. */
int tm_ctl_json_bool(const char *json, const char *key, int *v);
/* 1 if the key's value is null. */
int tm_ctl_json_is_null(const char *json, const char *key);
/*
 * ... as a string, unescaped (\n \" \\ \/ \b \f \r \t \uXXXX with surrogate
 * pairs -> UTF-8) into out, NUL-terminated. strlen of the raw value + 1 is
 * always enough room. The length, or -1 (missing, not a string, bad
 * escape, no room).
 */
int tm_ctl_json_string(const char *json, const char *key, char *out,
    size_t outlen);

#endif
