/* webhook.h - the generic signed-webhook adapter (webhook.c). */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include "crm.h"

#include <stddef.h>

/* The signature header's value of `body` sent at Unix time `ts`:
 * "sha256=" + 64 hex digits of HMAC-SHA256(secret, "<ts>." + body). */
void webhook_sign(const char *secret, long long ts, const char *body, size_t len, char out[72]);

#endif
