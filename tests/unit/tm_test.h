/* Helpers for cmocka tests of dissectors: decode hand-built bytes with the
 * real modules of this build and assert on the view and its events. */
#ifndef TM_TEST_H
#define TM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decode.h"
#include "key.h"
#include "registry.h"

#define LT_ETHERNET 1
#define LT_RAW 101

/* The registry with every module of this build loaded (once per process). */
struct tm_registry *tm_test_registry(void);

/* Decodes bytes (caplen == len) with the build's modules. The view stays
 * valid until the next call. */
const struct tm_packet *tm_test_decode(const void *bytes, size_t len,
    uint16_t linktype);
/* Same with a capture cut to caplen bytes of a len-byte frame. */
const struct tm_packet *tm_test_decode_cut(const void *bytes, size_t caplen,
    size_t len, uint16_t linktype);

int tm_test_has_event(const struct tm_packet *pkt, const char *name);
/* "eth/ipv4/udp/vxlan/eth/ipv4/tcp" */
const char *tm_test_layers(const struct tm_packet *pkt);
const char *tm_test_addr(const struct tm_addr *a);

#define assert_event(pkt, name) do {					\
	if (!tm_test_has_event((pkt), (name)))				\
		fail_msg("event %s missing (layers %s)", (name),	\
		    tm_test_layers(pkt));				\
} while (0)
#define assert_no_events(pkt) do {					\
	if ((pkt)->n_events)						\
		fail_msg("unexpected event %s (layers %s)",		\
		    tm_event_name(tm_test_registry(), (pkt)->events[0]), \
		    tm_test_layers(pkt));				\
} while (0)
#define assert_layers(pkt, s) assert_string_equal(tm_test_layers(pkt), (s))
#define assert_addr(a, s) assert_string_equal(tm_test_addr(a), (s))

/* Decodes every cut of the frame (caplen 0 .. len-1, wire length len) and
 * checks: nothing reads outside the cut (run under ASan), and a cut that
 * falls inside the header of a layer that the full frame decoded past
 * records "<layer>.truncated" for that layer. The last layer's header end
 * is unknown, so cuts inside it are checked for safety only. */
void tm_test_truncations(const void *bytes, size_t len, uint16_t linktype);

/* Frame builder: append bytes to a buffer. */
struct tm_buf {
	uint8_t b[65536 + 64];
	size_t n;
};
void tb_reset(struct tm_buf *b);
void tb_bytes(struct tm_buf *b, const void *p, size_t n);
void tb_u8(struct tm_buf *b, uint8_t v);
void tb_be16(struct tm_buf *b, uint16_t v);
void tb_be32(struct tm_buf *b, uint32_t v);
void tb_zero(struct tm_buf *b, size_t n);
/* Ethernet header with the given ethertype (fixed MACs). */
void tb_eth(struct tm_buf *b, uint16_t ethertype);
/* IPv4 header (20 bytes) with total length = 20 + payload; fixes nothing
 * later, so callers pass the payload length they will append. */
void tb_ipv4(struct tm_buf *b, const char *src, const char *dst, uint8_t proto,
    size_t payload);
void tb_ipv6(struct tm_buf *b, const char *src, const char *dst, uint8_t nh,
    size_t payload);
void tb_udp(struct tm_buf *b, uint16_t sport, uint16_t dport, size_t payload);
void tb_tcp(struct tm_buf *b, uint16_t sport, uint16_t dport, uint8_t flags);
/* An ARP request body (after tb_eth(b, 0x0806)): who has 10.0.0.2, tell
 * 10.0.0.1, zero hardware addresses. */
void tb_arp_request(struct tm_buf *b);

#endif
