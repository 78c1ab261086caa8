/* fuzz.h - what the libFuzzer targets in tests/fuzz/ share (docs/fuzzing.md).
 *
 * A target that fuzzes several parsers takes the first byte of the input as
 * the choice of parser (modulo their number) and the rest as the parser's
 * input, so one corpus holds the seeds of all of them. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data[0..size) (parsers that take C strings);
 * malloc'ed to the exact size so that ASan sees any read past the end. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Stops the run with a message: an invariant of the parser does not hold. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
