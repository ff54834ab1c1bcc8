/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's framing: a Unix stream socket (0600) carrying length-prefixed
 * messages (a 4-byte big-endian length, then a serialized DpRequest; the answer likewise a
 * DpResponse, proto/synwall/dp/v1). Served by the control thread between its rounds; each
 * complete request is handed to a callback.
 *
 * Nothing a client does can hold the control thread: every read and write is non-blocking,
 * an answer the client does not take stays with its connection (which is read no further
 * until it is out) and is dropped with the connection after SW_CTL_IO_MS; a request that is
 * not in whole SW_CTL_IO_MS after its first byte closes its connection; a connection with
 * nothing pending for SW_CTL_IDLE_MS is closed. When all SW_CTL_MAX_CLIENTS connections are
 * taken, a new one takes the place of the one idle longest (else of the one stuck longest):
 * the newest client, such as a controller that reconnects, is always served.
 */
#ifndef SW_CTLSOCK_H
#define SW_CTLSOCK_H

#include <stddef.h>
#include <stdint.h>

#define SW_CTL_MAX_CLIENTS 8
#define SW_CTL_MAX_MSG     (4u << 20)
/* the most port ranges an apply_config or validate_config may carry: one per port */
#define SW_CTL_MAX_RANGES  65535u
/* a connection with nothing pending this long is closed (its client reconnects) */
#define SW_CTL_IDLE_MS     5000u
/* a request still incomplete, or an answer still not taken, this long after it began: the
 * connection is closed */
#define SW_CTL_IO_MS       2000u

/* Answer one request: the response in *out (malloc'ed, freed by the caller), its length
 * returned. */
typedef size_t (*sw_ctl_handler)(void *arg, const uint8_t *req, size_t len, uint8_t **out);

struct sw_ctl_client {
	int fd;                 /* -1: free */
	uint8_t *buf;           /* the message being received, after its 4-byte length */
	uint32_t want;          /* its length, once the 4 bytes are in */
	uint32_t have;
	uint8_t hdr[4];
	uint32_t hdr_have;
	uint8_t *out;           /* the answer being sent, its length first; NULL: none */
	size_t out_len, out_sent;
	/* when the present state began: accepted or the last answer sent (idle), the first
	 * byte of a request (receiving), the answer made (sending) */
	uint64_t since_ms;
};

/* Control thread only. */
struct sw_ctlsock {
	int listen_fd;          /* -1: no socket */
	const char *path;
	sw_ctl_handler handle;
	void *arg;
	struct sw_ctl_client clients[SW_CTL_MAX_CLIENTS];
	uint64_t now_ms;        /* the round's time, as given to sw_ctlsock_poll */
};

/* Listen on path. Returns 0, or -1 (errno set; s then serves nothing). */
int sw_ctlsock_open(struct sw_ctlsock *s, const char *path, sw_ctl_handler handle, void *arg);

/* Wait up to timeout_ms for control traffic and serve it (sleep when there is no socket):
 * at most one request per connection and one new connection; then the connections past
 * their time are closed. now_ms: a millisecond clock (any origin, never going back). */
void sw_ctlsock_poll(struct sw_ctlsock *s, int timeout_ms, uint64_t now_ms);

/* Close every connection and the socket, and remove it. */
void sw_ctlsock_close(struct sw_ctlsock *s);

#endif
