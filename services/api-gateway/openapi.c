/* openapi.c - loads and serves the OpenAPI document (docs/openapi.yaml).
 * The document is public: API tooling fetches it without a session. */
#include "openapi.h"
#include "cc_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPENAPI_DEFAULT_PATH "docs/openapi.yaml"
#define OPENAPI_FALLBACK_PATH "/usr/share/cc/openapi.yaml"
#define OPENAPI_MAX_BYTES (8L << 20)

/* Reads all of `f` (at most OPENAPI_MAX_BYTES) into a malloc'ed buffer. */
static enum cc_status read_all(FILE *f, char **out, size_t *len)
{
    long size;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > OPENAPI_MAX_BYTES ||
        fseek(f, 0, SEEK_SET) != 0)
        return CC_ERR_IO;
    char *buf = malloc((size_t)size + 1);
    if (!buf)
        return CC_ERR_NOMEM;
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        return CC_ERR_IO;
    }
    buf[size] = '\0';
    *out = buf;
    *len = (size_t)size;
    return CC_OK;
}

/* Reads `path`; CC_ERR_NOT_FOUND when it cannot be opened. */
static enum cc_status read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return CC_ERR_NOT_FOUND;
    enum cc_status st = read_all(f, out, len);
    if (fclose(f) != 0 && st == CC_OK) {
        free(*out);
        *out = NULL;
        st = CC_ERR_IO;
    }
    if (st == CC_ERR_IO)
        CC_WARN("cannot read %s: %s", path, strerror(errno));
    return st;
}

enum cc_status openapi_load(struct api_gateway *gw)
{
    const char *paths[] = {cc_env_str("CC_OPENAPI_PATH", OPENAPI_DEFAULT_PATH),
                           OPENAPI_FALLBACK_PATH};
    gw->openapi = NULL;
    gw->openapi_len = 0;
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        enum cc_status st = read_file(paths[i], &gw->openapi, &gw->openapi_len);
        if (st == CC_ERR_NOMEM)
            return st;
        if (st == CC_OK) {
            CC_INFO("OpenAPI document: %s (%zu bytes)", paths[i], gw->openapi_len);
            return CC_OK;
        }
    }
    CC_WARN("no OpenAPI document at %s or %s: GET /api/v1/openapi.yaml answers 404", paths[0],
            paths[1]);
    return CC_OK;
}

void openapi_serve(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    (void)req;
    if (!rt->gw->openapi) {
        cc_http_error(resp, CC_ERR_NOT_FOUND, "no OpenAPI document is installed");
        return;
    }
    cc_http_text(resp, 200, "application/yaml", rt->gw->openapi, rt->gw->openapi_len);
}
