/* cc_files.c - stored files and their links (cc_files.h). */
#include "cc_files.h"
#include "cc_http.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

/* Signatures at the start of a file (offset 0 unless said). */
static const struct {
    const char *magic;
    size_t len, offset;
    const char *mime;
} magics[] = {
    {"\x89PNG\r\n\x1a\n", 8, 0, "image/png"},
    {"\xff\xd8\xff", 3, 0, "image/jpeg"},
    {"GIF87a", 6, 0, "image/gif"},
    {"GIF89a", 6, 0, "image/gif"},
    {"WEBP", 4, 8, "image/webp"},
    {"%PDF-", 5, 0, "application/pdf"},
    {"PK\x03\x04", 4, 0, "application/zip"},
    {"OggS", 4, 0, "audio/ogg"},
    {"ID3", 3, 0, "audio/mpeg"},
    {"ftyp", 4, 4, "video/mp4"},
    {"\x1a\x45\xdf\xa3", 4, 0, "video/webm"},
};

const char *cc_files_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
        if (len >= magics[i].offset + magics[i].len &&
            !memcmp(p + magics[i].offset, magics[i].magic, magics[i].len))
            return magics[i].mime;
    /* text: valid UTF-8 without control characters other than whitespace */
    size_t n = len < 4096 ? len : 4096;
    while (n < len && n > 0 && (p[n] & 0xC0) == 0x80) /* not into a character cut at 4096 */
        n--;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 && (p[i] == 0 || !strchr("\t\r\n\f", p[i]))) /* strchr finds NUL too */
            return "application/octet-stream";
    return len && cc_utf8_valid(data, n) ? "text/plain" : "application/octet-stream";
}

void cc_files_path(const char *dir, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, id);
}

/* Keeps the last path component, without control characters or quotes. */
static void clean_name(const char *name, char *out, size_t cap)
{
    const char *base = name ? strrchr(name, '/') : NULL;
    size_t n = 0;
    base = base ? base + 1 : name ? name : "";
    for (; *base && n + 1 < cap; base++)
        if ((unsigned char)*base >= 0x20 && *base != '"' && *base != '\\')
            out[n++] = *base;
    out[n] = 0;
    if (!n)
        snprintf(out, cap, "file");
}

/* Writes the bytes to a temporary name and renames it: a reader never sees
 * half a file. */
static enum cc_status write_file(const char *dir, const char *id, const void *data, size_t len)
{
    char path[512], tmp[544];
    cc_files_path(dir, id, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.part", path);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return CC_ERR_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return CC_ERR_IO;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w, left -= (size_t)w;
    }
    int ok = left == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return CC_ERR_IO;
    }
    return CC_OK;
}

enum cc_status cc_files_put(struct cc_redis *r, const char *dir, const void *data, size_t len,
                            const char *name, const char *owner, struct cc_file *out)
{
    unsigned char raw[12];
    char hex[25];
    memset(out, 0, sizeof *out);
    if (!len)
        return CC_ERR_INVALID;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(out->id, sizeof out->id, "fil_%s", hex);
    clean_name(name, out->name, sizeof out->name);
    snprintf(out->mime, sizeof out->mime, "%s", cc_files_sniff(data, len));
    snprintf(out->owner, sizeof out->owner, "%s", owner ? owner : "");
    out->size = (int64_t)len;
    enum cc_status st = write_file(dir, out->id, data, len);
    if (st == CC_OK)
        st = cc_redis_do(r, "HSET " KEY_FILE " name %s mime %s size %lld owner %s created %lld",
                         cc_tag(), out->id, out->name, out->mime, (long long)out->size, out->owner,
                         (long long)cc_time_now_ms());
    return st;
}

enum cc_status cc_files_get(struct cc_redis *r, const char *id, struct cc_file *out)
{
    redisReply *rep;
    memset(out, 0, sizeof *out);
    enum cc_status st =
        cc_redis_run(r, &rep, "HMGET " KEY_FILE " name mime size owner", cc_tag(), id);
    if (st == CC_OK && (rep->elements != 4 || rep->element[1]->type != REDIS_REPLY_STRING))
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK) {
        snprintf(out->id, sizeof out->id, "%s", id);
        snprintf(out->name, sizeof out->name, "%s",
                 rep->element[0]->type == REDIS_REPLY_STRING ? rep->element[0]->str : "file");
        snprintf(out->mime, sizeof out->mime, "%s", rep->element[1]->str);
        out->size = rep->element[2]->type == REDIS_REPLY_STRING
                        ? strtoll(rep->element[2]->str, NULL, 10)
                        : 0;
        snprintf(out->owner, sizeof out->owner, "%s",
                 rep->element[3]->type == REDIS_REPLY_STRING ? rep->element[3]->str : "");
    }
    free_reply(rep);
    return st;
}

enum cc_status cc_files_link(struct cc_redis *r, const char *id, int64_t ttl_s, char *token,
                             size_t cap)
{
    unsigned char raw[32];
    char hex[65];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(token, cap, "%s", hex);
    return cc_redis_do(r, "SET " KEY_FILETOK " %s EX %lld", cc_tag(), hex, id, (long long)ttl_s);
}

static int token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", t[i]))
            return 0;
    return 1;
}

enum cc_status cc_files_resolve(struct cc_redis *r, const char *token, struct cc_file *out)
{
    redisReply *rep;
    char id[40] = "";
    if (!token || !token_ok(token))
        return CC_ERR_NOT_FOUND;
    enum cc_status st = cc_redis_run(r, &rep, "GET " KEY_FILETOK, cc_tag(), token);
    if (st == CC_OK && rep->type == REDIS_REPLY_STRING)
        snprintf(id, sizeof id, "%s", rep->str);
    free_reply(rep);
    if (st != CC_OK)
        return st;
    return id[0] ? cc_files_get(r, id, out) : CC_ERR_NOT_FOUND;
}
