/* Reading capture files (pcap, pcapng) through libpcap. */
#ifndef TM_PCAPFILE_H
#define TM_PCAPFILE_H

#include <pcap/pcap.h>
#include <stdint.h>

/* The pcap LINKTYPE_* value (what the file says) for a libpcap DLT_*. */
uint16_t tm_linktype_of(pcap_t *p);

/* Opens FILE ('-' for standard input) with nanosecond timestamps. Returns
 * NULL with a message naming the file on stderr. */
pcap_t *tm_pcap_open_file(const char *file);

#endif
