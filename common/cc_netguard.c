/* cc_netguard.c - outbound requests kept off internal addresses
 * (cc_netguard.h): the address table, the URL literal check and curl's
 * open-socket hook that applies the table to each resolved address. */
#include "cc_netguard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* IPv4 ranges that are not the public internet (RFC 6890). */
static const struct {
    uint32_t net;
    int bits;
    const char *kind;
} v4_ranges[] = {
    {0x00000000, 8, "unspecified"},   {0x0A000000, 8, "private"},
    {0x64400000, 10, "shared"},       {0x7F000000, 8, "loopback"},
    {0xA9FE0000, 16, "link-local"},   {0xAC100000, 12, "private"},
    {0xC0000000, 24, "reserved"},     {0xC0A80000, 16, "private"},
    {0xC6120000, 15, "benchmarking"}, {0xE0000000, 4, "multicast"},
    {0xF0000000, 4, "reserved"},
};

static const char *v4_kind(uint32_t a)
{
    for (size_t i = 0; i < sizeof v4_ranges / sizeof *v4_ranges; i++)
        if ((a >> (32 - v4_ranges[i].bits)) == (v4_ranges[i].net >> (32 - v4_ranges[i].bits)))
            return v4_ranges[i].kind;
    return NULL;
}

static const char *v6_kind(const struct in6_addr *a)
{
    const uint8_t *b = a->s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (IN6_IS_ADDR_UNSPECIFIED(a))
        return "unspecified";
    if (IN6_IS_ADDR_LOOPBACK(a))
        return "loopback";
    if (!memcmp(b, mapped, sizeof mapped)) /* ::ffff:a.b.c.d is the IPv4 address */
        return v4_kind((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 |
                       b[15]);
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "link-local";
    if ((b[0] & 0xfe) == 0xfc)
        return "private";
    if (b[0] == 0xff)
        return "multicast";
    return NULL;
}

const char *cc_netguard_kind(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_kind(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return v6_kind(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return "not an internet address";
}

/* The host of `url` into out ("" when it has none). */
static void url_host(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    out[0] = 0;
    if (!p)
        return;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth);
    if (at)
        p = at + 1;
    size_t n = *p == '[' ? strcspn(p + 1, "]") : strcspn(p, ":/?#");
    if (*p == '[')
        p++;
    if (n < cap)
        memcpy(out, p, n), out[n] = 0;
}

enum cc_status cc_netguard_url(const char *url, int allow_private, char *why, size_t cap)
{
    char host[256];
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    const char *kind = NULL;
    size_t hl;
    if (allow_private || !url)
        return CC_OK;
    url_host(url, host, sizeof host);
    hl = strlen(host);
    if (!strcasecmp(host, "localhost") || (hl > 10 && !strcasecmp(host + hl - 10, ".localhost")))
        kind = "loopback";
    else if (inet_pton(AF_INET, host, &v4.sin_addr) == 1)
        kind = cc_netguard_kind((const struct sockaddr *)&v4);
    else if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1)
        kind = cc_netguard_kind((const struct sockaddr *)&v6);
    if (!kind)
        return CC_OK;
    snprintf(why, cap, "%.64s is a %s address: outbound requests may not go to internal addresses",
             host, kind);
    return CC_ERR_INVALID;
}

/* curl's CURLOPT_OPENSOCKETFUNCTION: refuses internal addresses. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct cc_netguard *g = arg;
    const char *kind = cc_netguard_kind(&a->addr);
    (void)purpose;
    if (kind && !g->allow_private) {
        char text[INET6_ADDRSTRLEN] = "?";
        if (a->family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&a->addr)->sin_addr, text, sizeof text);
        else if (a->family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a->addr)->sin6_addr, text, sizeof text);
        snprintf(g->why, sizeof g->why,
                 "refused: %s is a %s address (outbound requests may not go to internal addresses)",
                 text, kind);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

void cc_netguard_curl(void *curl, struct cc_netguard *g)
{
    g->why[0] = 0;
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, g);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
}
