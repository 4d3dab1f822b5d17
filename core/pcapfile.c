/* Reading capture files through libpcap. */
#include "pcapfile.h"

#include <stdio.h>

uint16_t tm_linktype_of(pcap_t *p)
{
	int dlt = pcap_datalink(p);

	/* libpcap hands out DLT_ values; they equal the file's LINKTYPE_
	 * values except where platforms disagreed historically. */
	switch (dlt) {
#ifdef DLT_RAW
	case DLT_RAW:
		return 101;	/* LINKTYPE_RAW */
#endif
	default:
		return (uint16_t)dlt;
	}
}

pcap_t *tm_pcap_open_file(const char *file)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	err[0] = '\0';
	p = pcap_open_offline_with_tstamp_precision(file,
	    PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p)
		fprintf(stderr, "tm: %s: cannot read as a capture file: %s\n",
		    file, err);
	return p;
}
