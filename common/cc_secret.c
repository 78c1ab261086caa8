/* cc_secret.c - the placeholder/weak secret rule (cc_secret.h). */
#include "cc_secret.h"
#include "cc_config.h"
#include "cc_log.h"

#include <string.h>

int cc_secret_dev(void)
{
    return !strcmp(cc_env_str("CC_DEV_SECRETS", "0"), "1");
}

int cc_secret_weak(const char *value, size_t min_len)
{
    static const char *const placeholders[] = {"change-me", "changeme", "replace-me",
                                               "placeholder"};
    if (strlen(value) < min_len)
        return 1;
    for (size_t i = 0; i < sizeof placeholders / sizeof *placeholders; i++)
        if (strcasestr(value, placeholders[i]))
            return 1;
    return 0;
}

/* Refuses (or, in development, allows with a warning) a weak secret. */
static enum cc_status verdict(const char *name, const char *what, size_t min_len)
{
    if (cc_secret_dev()) {
        CC_WARN("%s: %s is a placeholder or too short; allowed because CC_DEV_SECRETS=1 "
                "(development only)",
                name, what);
        return CC_OK;
    }
    if (min_len > 1)
        CC_ERROR("%s: %s is a placeholder (change-me...) or shorter than %zu characters; set a "
                 "long random value (or CC_DEV_SECRETS=1 for development)",
                 name, what, min_len);
    else
        CC_ERROR("%s: %s is a placeholder (change-me...); set the real value (or "
                 "CC_DEV_SECRETS=1 for development)",
                 name, what);
    return CC_ERR_INVALID;
}

enum cc_status cc_secret_env(const char *name, size_t min_len)
{
    const char *v = cc_env_str(name, NULL);
    if (!v || !cc_secret_weak(v, min_len))
        return CC_OK;
    return verdict(name, "the secret", min_len);
}

enum cc_status cc_secret_url(const char *name, const char *urls)
{
    char cred[512];
    for (const char *p = urls; *p;) {
        size_t len = strcspn(p, ",");
        const char *scheme = memmem(p, len, "://", 3);
        const char *auth = scheme ? scheme + 3 : p;
        size_t alen = strcspn(auth, "/,");
        const char *at = memchr(auth, '@', alen);
        if (at) {
            size_t n = (size_t)(at - auth);
            if (n >= sizeof cred)
                n = sizeof cred - 1;
            memcpy(cred, auth, n), cred[n] = '\0';
            if (cc_secret_weak(cred, 1))
                return verdict(name, "the URL's credentials", 1);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return CC_OK;
}
