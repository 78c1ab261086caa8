/* files.c - files in chats: an agent's upload (stored by api-gateway in the
 * shared file directory) attached to a message with an unguessable,
 * expiring link, and GET /files/{token} serving those links to customers,
 * providers and desktops. */
#include "chatgw.h"
#include "cc_files.h"
#include "cc_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_image(const char *mime)
{
    return !strcmp(mime, "image/png") || !strcmp(mime, "image/jpeg") || !strcmp(mime, "image/gif");
}

enum cc_status files_attachment(struct chatgw *g, const char *file_id, Cc__V1__Attachment *att)
{
    struct cc_file f;
    char token[80], url[512];
    cc__v1__attachment__init(att);
    enum cc_status st = cc_files_get(g->redis, file_id, &f);
    if (st == CC_OK)
        st = cc_files_link(g->redis, f.id, g->link_ttl_s, token, sizeof token);
    if (st != CC_OK)
        return st;
    snprintf(url, sizeof url, "%s/files/%s", g->public_url, token);
    att->kind = strdup(is_image(f.mime) ? "image" : "document");
    att->file_id = strdup(f.id), att->name = strdup(f.name), att->mime = strdup(f.mime);
    att->url = strdup(url);
    att->has_size = 1, att->size = f.size;
    return att->kind && att->file_id && att->name && att->mime && att->url ? CC_OK : CC_ERR_NOMEM;
}

void files_attachment_release(Cc__V1__Attachment *att)
{
    free(att->kind);
    free(att->file_id);
    free(att->name);
    free(att->mime);
    free(att->url);
    cc__v1__attachment__init(att);
}

/* Reads the whole file; NULL when it cannot. */
static char *slurp(const char *path, int64_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && n <= max && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
            *len = fread(buf, 1, (size_t)n, f);
            if (*len != (size_t)n) {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

void files_serve(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    struct cc_file f;
    char path[512], disp[320];
    size_t len = 0;
    enum cc_status st = cc_files_resolve(g->redis, req->params[0], &f);
    if (st != CC_OK) {
        cc_http_error(resp, st, st == CC_ERR_NOT_FOUND ? "no such file, or the link expired" : NULL);
        return;
    }
    cc_files_path(g->file_dir, f.id, path, sizeof path);
    char *data = slurp(path, g->file_max_bytes, &len);
    if (!data) {
        CC_ERROR("files: %s is in Redis but not readable at %s", f.id, path);
        cc_http_error(resp, CC_ERR_NOT_FOUND, "the file is gone");
        return;
    }
    snprintf(disp, sizeof disp, "%s; filename=\"%s\"", is_image(f.mime) ? "inline" : "attachment",
             f.name);
    cc_http_text(resp, 200, f.mime, data, len);
    cc_http_add_header(req, resp, "Content-Disposition", disp);
    cc_http_add_header(req, resp, "X-Content-Type-Options", "nosniff");
    cc_http_add_header(req, resp, "Cache-Control", "private, max-age=3600");
    free(data);
}
