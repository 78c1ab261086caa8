/* cc_files.h - files agents send and customers send, stored once where
 * every replica can read them: the bytes in a directory (CC_FILES_DIR: a
 * shared volume, ReadWriteMany in Kubernetes), what they are in Redis
 * ({cc}:file:<id>), and unguessable, expiring links ({cc}:filetok:<token>,
 * 256 random bits, gone after the link's lifetime). The type is sniffed
 * from the content, never taken from the name. */
#ifndef CC_FILES_H
#define CC_FILES_H

#include "cc_redis.h"
#include "cc_status.h"

#include <stddef.h>
#include <stdint.h>

struct cc_file {
    char id[40];
    char name[256];
    char mime[80];
    int64_t size;
    char owner[64];
};

/* The MIME type of `len` bytes by their content ("image/png", ...;
 * "application/octet-stream" when unknown). Never NULL. */
const char *cc_files_sniff(const void *data, size_t len);

/* Stores `len` bytes named `name` (its directory part dropped) for `owner`
 * under `dir`; fills *out. CC_ERR_INVALID for an empty file, CC_ERR_IO when
 * the directory cannot be written. */
enum cc_status cc_files_put(struct cc_redis *r, const char *dir, const void *data, size_t len,
                            const char *name, const char *owner, struct cc_file *out);

/* File `id`; CC_ERR_NOT_FOUND when unknown. */
enum cc_status cc_files_get(struct cc_redis *r, const char *id, struct cc_file *out);

/* A new link token for file `id`, valid `ttl_s` seconds, into `token`
 * (65 bytes). */
enum cc_status cc_files_link(struct cc_redis *r, const char *id, int64_t ttl_s, char *token,
                             size_t cap);

/* The file a link token names; CC_ERR_NOT_FOUND when unknown or expired. */
enum cc_status cc_files_resolve(struct cc_redis *r, const char *token, struct cc_file *out);

/* The path of file `id`'s bytes under `dir`. */
void cc_files_path(const char *dir, const char *id, char *out, size_t cap);

#endif
