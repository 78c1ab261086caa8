/* webhook.c - the generic adapter for CRMs other than Creatio: events as
 * JSON POSTed to one configured URL, signed so the receiver can trust
 * them. X-CC-Timestamp carries the Unix time of sending and
 * X-CC-Signature "sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>":
 * the timestamp is inside the signature, so a receiver that refuses old
 * timestamps (docs/crm.md: 5 minutes) refuses replays. */
#include "webhook.h"
#include "cc_buf.h"
#include "cc_netguard.h"
#include "cc_time.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER (1024 * 1024)

void webhook_sign(const char *secret, long long ts, const char *body, size_t len, char out[72])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char stamp[32];
    crypto_auth_hmacsha256_state st;
    int n = snprintf(stamp, sizeof stamp, "%lld.", ts);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof mac);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct cc_buf *b = arg;
    if (b->len + size * n > MAX_ANSWER)
        return 0;
    return cc_buf_add(b, p, size * n) == CC_OK ? size * n : 0;
}

enum cc_status webhook_post(struct crm_conf *conf, const char *event, const char *body,
                            char **answer, char *why, size_t cap)
{
    const Cc__V1__CrmSettings *s = conf->s;
    struct cc_buf got = CC_BUF_INIT;
    struct curl_slist *h = NULL;
    char line[160], sig[72];
    long long ts = (long long)(cc_time_now_ms() / 1000);
    long status = 0;
    struct cc_netguard guard = {conf->allow_private, ""};
    if (answer)
        *answer = NULL;
    if (!s->webhook_url || !s->webhook_secret) {
        snprintf(why, cap, "webhook: not configured");
        return CC_ERR_INVALID;
    }
    CURL *c = curl_easy_init();
    if (!c)
        return CC_ERR_NOMEM;
    cc_netguard_curl(c, &guard);
    webhook_sign(s->webhook_secret, ts, body, strlen(body), sig);
    h = curl_slist_append(h, "Content-Type: application/json");
    snprintf(line, sizeof line, "X-CC-Event: %s", event);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-CC-Timestamp: %lld", ts);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-CC-Signature: %s", sig);
    h = curl_slist_append(h, line);
    curl_easy_setopt(c, CURLOPT_URL, s->webhook_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (s->ca_file && s->ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    enum cc_status st = CC_OK;
    if (rc != CURLE_OK) {
        snprintf(why, cap, "webhook: %s", guard.why[0] ? guard.why : curl_easy_strerror(rc));
        st = rc == CURLE_OPERATION_TIMEDOUT ? CC_ERR_TIMEOUT : CC_ERR_UNAVAILABLE;
    } else if (status < 200 || status >= 300) {
        snprintf(why, cap, "webhook: HTTP %ld", status);
        st = status >= 400 && status < 500 && status != 408 && status != 429 ? CC_ERR_INVALID
                                                                             : CC_ERR_UNAVAILABLE;
    } else if (answer) {
        size_t len;
        *answer = cc_buf_detach(&got, &len);
    }
    cc_buf_release(&got);
    return st;
}
