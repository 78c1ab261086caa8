/* cc_netguard.h - where outbound HTTP requests may go (SPEC section 8):
 * never to loopback, private, link-local, shared, multicast or reserved
 * addresses unless a test setting allows them. The check runs on every
 * address curl is about to connect to, after name resolution, so a name
 * that resolves (or re-resolves) to an internal address is refused too;
 * redirects are never followed. A URL whose host is such an address
 * written out (or "localhost") is refused when it is configured, so the
 * admin hears why at once. */
#ifndef CC_NETGUARD_H
#define CC_NETGUARD_H

#include "cc_status.h"

#include <stddef.h>
#include <sys/socket.h>

/* One request's guard: set allow_private, hand it to cc_netguard_curl, and
 * read `why` after a failed transfer (empty when the guard did not refuse). */
struct cc_netguard {
    int allow_private; /* 1: internal addresses allowed (tests) */
    char why[160];     /* what was refused, for the caller's error */
};

/* The kind of internal address `sa` is ("loopback", "private", ...), or
 * NULL when it is a public address. Pure. */
const char *cc_netguard_kind(const struct sockaddr *sa);

/* Checks the host of `url` when it is an address literal or localhost.
 * CC_ERR_INVALID with the reason in why when it is internal and not
 * allowed; CC_OK otherwise (names are checked when connecting). */
enum cc_status cc_netguard_url(const char *url, int allow_private, char *why, size_t cap)
    __attribute__((warn_unused_result));

/* Sets curl easy handle `curl` (a CURL *) to connect only where `g` allows
 * and never to follow a redirect. `g` must outlive the transfer. */
void cc_netguard_curl(void *curl, struct cc_netguard *g);

#endif
