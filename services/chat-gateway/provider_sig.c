/* provider_sig.c - webhook authenticity (SPEC section 8): shared secrets,
 * HMAC-SHA256 body signatures and Meta's subscription check, all compared in
 * constant time with libsodium. */
#include "provider_int.h"

#include <sodium.h>
#include <string.h>

/* 1 when `given` equals the configured `secret` (non-empty). Both are hashed
 * first, so neither the length nor the place of a difference shows in time. */
static int secret_equal(const char *given, const char *secret)
{
    unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
    if (!given || !secret || !*secret)
        return 0;
    crypto_generichash(a, sizeof a, (const unsigned char *)given, strlen(given), NULL, 0);
    crypto_generichash(b, sizeof b, (const unsigned char *)secret, strlen(secret), NULL, 0);
    return sodium_memcmp(a, b, sizeof a) == 0;
}

/* 1 when `hex` (64 hex digits, either case) is the HMAC-SHA256 of the body keyed with `key`. */
static int hmac_hex_equal(const char *key, const char *hex, const char *body, size_t len)
{
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    size_t n = 0;
    if (!key || !*key || !hex || strlen(hex) != 2 * sizeof got)
        return 0;
    if (sodium_hex2bin(got, sizeof got, hex, strlen(hex), NULL, &n, NULL) != 0 || n != sizeof got)
        return 0;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)(body ? body : ""), body ? len : 0);
    crypto_auth_hmacsha256_final(&st, want);
    sodium_memzero(&st, sizeof st);
    return sodium_memcmp(want, got, sizeof want) == 0;
}

/* Meta's X-Hub-Signature-256: "sha256=<hex>". */
static int meta_signature_ok(const char *app_secret, const char *header, const char *body,
                             size_t len)
{
    static const char prefix[] = "sha256=";
    if (!header || strncmp(header, prefix, sizeof prefix - 1) != 0)
        return 0;
    return hmac_hex_equal(app_secret, header + sizeof prefix - 1, body, len);
}

int provider_verify(enum provider_type type, const Cc__V1__ChannelCredentials *cred,
                    provider_header_fn header, void *arg, const char *body, size_t len)
{
    if (!cred || !header || sodium_init() < 0)
        return 0;
    switch (type) {
    case PROVIDER_TELEGRAM:
        return secret_equal(header(arg, "X-Telegram-Bot-Api-Secret-Token"), cred->secret_token);
    case PROVIDER_VIBER:
        return hmac_hex_equal(cred->auth_token, header(arg, "X-Viber-Content-Signature"), body,
                              len);
    case PROVIDER_WHATSAPP_CLOUD:
    case PROVIDER_MESSENGER:
        return meta_signature_ok(cred->app_secret, header(arg, "X-Hub-Signature-256"), body, len);
    case PROVIDER_INFOBIP_WHATSAPP:
        return secret_equal(header(arg, "Authorization"), cred->webhook_authorization);
    default:
        return 0;
    }
}

int provider_verify_challenge(enum provider_type type, const Cc__V1__ChannelCredentials *cred,
                              const char *mode, const char *verify_token)
{
    if (type != PROVIDER_WHATSAPP_CLOUD && type != PROVIDER_MESSENGER)
        return 0;
    if (!cred || !mode || strcmp(mode, "subscribe") != 0 || sodium_init() < 0)
        return 0;
    return secret_equal(verify_token, cred->verify_token);
}
