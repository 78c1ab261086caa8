/* cc_secret.h - refusing placeholder and weak secrets at start-up.
 *
 * One rule for every secret a service reads from its environment (tokens,
 * passwords, the credentials inside CC_REDIS_URL and CC_NATS_URL): a value
 * that is a placeholder (it contains change-me, changeme, replace-me or
 * placeholder, in any case) or shorter than the secret's minimum is refused,
 * and the service does not start. CC_DEV_SECRETS=1 (development only) lets
 * such a value through with a warning. */
#ifndef CC_SECRET_H
#define CC_SECRET_H

#include "cc_status.h"

#include <stddef.h>

/* 1 when CC_DEV_SECRETS=1 allows placeholder and short secrets. */
int cc_secret_dev(void);

/* 1 when `value` is a placeholder or shorter than `min_len` bytes. */
int cc_secret_weak(const char *value, size_t min_len);

/* Checks the secret held by environment variable `name`, when set (whether
 * it is required is the caller's rule). Returns CC_OK, or CC_ERR_INVALID
 * after logging why when it is weak and CC_DEV_SECRETS is not 1. */
enum cc_status cc_secret_env(const char *name, size_t min_len);

/* Checks the credentials (user:password@ or token@) of each comma-separated
 * URL in `urls`, taken from variable `name`, for placeholders. URLs without
 * credentials pass. Returns CC_OK or CC_ERR_INVALID (reason logged). */
enum cc_status cc_secret_url(const char *name, const char *urls);

#endif
