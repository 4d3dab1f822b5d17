/*
 * A live interface for `tm capture -i` (libpcap): snap length, kernel
 * buffer, buffer timeout, promiscuous mode, nanosecond timestamps where
 * the interface gives them, a BPF prefilter; and dropping root's
 * privileges once the interface and the store are open.
 */
#ifndef TM_PCAP_LIVE_H
#define TM_PCAP_LIVE_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* Opens and activates iface. Warnings (e.g. promiscuous mode refused) go
 * to log. The filter's errors name the configuration file, line and
 * column. *nano: timestamps are nanoseconds (else microseconds). NULL
 * with a message in err; *bad_filter set when the filter does not
 * compile (the user's mistake, not the system's). */
pcap_t *tm_live_open(const char *iface, const struct tm_capture_conf *cc,
    const char *conf_file, int *nano, int *bad_filter, FILE *log, char *err,
    size_t errlen);

/* Gives the store's directories (and the socket, if any) to user, then
 * becomes user (its groups too). 0, or -1 with a message in err. */
int tm_drop_privileges(const char *user, const char *store,
    const char *sock_path, char *err, size_t errlen);

#endif
