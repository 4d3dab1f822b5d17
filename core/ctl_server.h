/*
 * The listening side of the control protocol (ctl_proto.h,
 * docs/control-protocol.md): a Unix socket and, opt-in, a TCP listener;
 * one thread per client that reads the (auth and) request line within a
 * time limit, parses it and hands it to the handler, which answers with the
 * functions below in the same thread.
 */
#ifndef TM_CTL_SERVER_H
#define TM_CTL_SERVER_H

#include <stdio.h>

#include "ctl_proto.h"

struct tm_ctl_server;
struct tm_ctl_conn;	/* one client, handed to the handler */

/*
 * Called in the client's thread once the request is complete, parsed and,
 * over TCP, authenticated. It answers with tm_ctl_reply_ok or
 * tm_ctl_reply_err (one final frame), after any data and notes; if it
 * returns without, the client gets "internal error: no answer". Writes to
 * a client that went away fail (-1, EPIPE): the handler should stop then.
 */
typedef void (*tm_ctl_handler)(void *arg, const struct tm_ctl_req *req,
    struct tm_ctl_conn *c);

struct tm_ctl_server_opts {
	const char *unix_path;	/* NULL: no Unix socket */
	unsigned mode;		/* of the socket file; 0: 0660 */
	const char *group;	/* group of the socket file; NULL: as created */
	const char *tcp_addr;	/* "HOST:PORT", ":PORT" (loopback),
				 * "[V6]:PORT"; NULL: no TCP */
	const char *token;	/* required with tcp_addr; NULL: none */
	int max_clients;	/* 0: 32 */
	int request_timeout_ms;	/* for the request line(s); 0: 10000 */
	FILE *log;		/* one line per refused client; NULL: none */
	int send_timeout_ms;	/* a client that takes no byte for this long
				 * is dropped; 0: 60000 */
};

/*
 * Creates the sockets and starts accepting. A Unix socket path that exists
 * is replaced if nothing answers on it (a stale socket), refused if
 * something does ("PATH: already served by another tm") or if it is not a
 * socket. TCP without a valid token is refused. NULL with err on failure.
 */
struct tm_ctl_server *tm_ctl_server_start(const struct tm_ctl_server_opts *o,
    tm_ctl_handler h, void *arg, char *err, size_t errlen);

/*
 * Stops accepting, shuts every client's connection down (a handler's later
 * writes fail), waits for all client threads, removes the socket file it
 * created (if it is still the same file). NULL is a no-op.
 */
void tm_ctl_server_stop(struct tm_ctl_server *s);

/* The TCP port listened on (useful with port 0), or 0 without TCP. */
int tm_ctl_server_tcp_port(const struct tm_ctl_server *s);
/* Clients being served right now. */
int tm_ctl_server_clients(struct tm_ctl_server *s);

/*
 * A stream whose bytes become 'D' frames (buffered 256 KiB, frames of at
 * most TM_CTL_FRAME_MAX). Owned by the connection: do not fclose it. Writes
 * fail once the client is gone or a final frame was sent. NULL on failure.
 */
FILE *tm_ctl_data_stream(struct tm_ctl_conn *c);

/* The final 'K' frame (json: an object; NULL: "{}"), after flushing the
 * data stream. 0, or -1 (client gone, data not flushed, or already
 * answered). */
int tm_ctl_reply_ok(struct tm_ctl_conn *c, const char *json);
/* The final 'E' frame; buffered data not yet sent is dropped. 0 or -1. */
int tm_ctl_reply_err(struct tm_ctl_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A 'N' frame: one line of text for the client's stderr. 0 or -1. */
int tm_ctl_note(struct tm_ctl_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int tm_ctl_conn_is_tcp(const struct tm_ctl_conn *c);
/* "unix" or "HOST:PORT" of the client, for logs. */
const char *tm_ctl_conn_peer(const struct tm_ctl_conn *c);

#endif
