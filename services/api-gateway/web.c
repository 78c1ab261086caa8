/* web.c - serves the web desktop's files (services/api-gateway/web/).
 *
 * The Makefile embeds every file of web/ as a C string (tools/embed.sh:
 * web/app.js -> const char app_js[]); the table below names which path
 * serves which string and with what type. There is no build step and no
 * asset from elsewhere: the desktop is plain HTML, CSS and JavaScript
 * modules and talks only to this service (docs/desktop.md). */
#include "web.h"

#include <string.h>

extern const char index_html[], app_css[], favicon_svg[];
extern const char app_js[], api_js[], ui_js[], desk_js[], chat_js[], calls_js[], supervisor_js[],
    admin_js[], crm_js[];
extern const char reports_js[], history_js[];

#define JS "text/javascript; charset=utf-8"

static const struct web_file {
    const char *path; /* as requested */
    const char *body; /* NUL-terminated, embedded */
    const char *type; /* Content-Type */
} files[] = {
    {"/", index_html, "text/html; charset=utf-8"},
    {"/app.css", app_css, "text/css; charset=utf-8"},
    {"/favicon.svg", favicon_svg, "image/svg+xml"},
    {"/app.js", app_js, JS},
    {"/api.js", api_js, JS},
    {"/ui.js", ui_js, JS},
    {"/desk.js", desk_js, JS},
    {"/chat.js", chat_js, JS},
    {"/calls.js", calls_js, JS},
    {"/supervisor.js", supervisor_js, JS},
    {"/admin.js", admin_js, JS},
    {"/reports.js", reports_js, JS},
    {"/crm.js", crm_js, JS},
    {"/history.js", history_js, JS},
};

/* Scripts and styles only from here (no inline code); images also as blob:
 * (previews before upload) and from any http(s) origin, because file links
 * point at chat-gateway's public URL, which this service does not know. */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' blob: data: http: https:; connect-src 'self'; "
                          "media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
                          "form-action 'self'; frame-ancestors 'none'";

void web_serve(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    (void)arg;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        if (strcmp(files[i].path, req->path) != 0)
            continue;
        cc_http_text(resp, 200, files[i].type, files[i].body, strlen(files[i].body));
        cc_http_add_header(req, resp, "Cache-Control", "no-cache");
        cc_http_add_header(req, resp, "Content-Security-Policy", csp);
        cc_http_add_header(req, resp, "X-Content-Type-Options", "nosniff");
        cc_http_add_header(req, resp, "Referrer-Policy", "no-referrer");
        return;
    }
    cc_http_error(resp, CC_ERR_NOT_FOUND, "no such file");
}
