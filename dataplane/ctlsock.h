/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's framing: a Unix stream socket (0600) carrying length-prefixed
 * messages (a 4-byte big-endian length, then a serialized DpRequest; the answer likewise a
 * DpResponse, proto/synwall/dp/v1). Served by the control thread between its rounds; each
 * complete request is handed to a callback.
 */
#ifndef SW_CTLSOCK_H
#define SW_CTLSOCK_H

#include <stddef.h>
#include <stdint.h>

#define SW_CTL_MAX_CLIENTS 8
#define SW_CTL_MAX_MSG     (4u << 20)

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
};

/* Control thread only. */
struct sw_ctlsock {
	int listen_fd;          /* -1: no socket */
	const char *path;
	sw_ctl_handler handle;
	void *arg;
	struct sw_ctl_client clients[SW_CTL_MAX_CLIENTS];
};

/* Listen on path. Returns 0, or -1 (errno set; s then serves nothing). */
int sw_ctlsock_open(struct sw_ctlsock *s, const char *path, sw_ctl_handler handle, void *arg);

/* Wait up to timeout_ms for control traffic and serve it (sleep when there is no socket). */
void sw_ctlsock_poll(struct sw_ctlsock *s, int timeout_ms);

/* Close every connection and the socket, and remove it. */
void sw_ctlsock_close(struct sw_ctlsock *s);

#endif
