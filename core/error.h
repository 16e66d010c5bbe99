/* error.h - easload's error codes and the error record every fallible call may fill.
 * Owns: nothing; struct el_err is caller memory. Uses: libc only (bottom layer, below wbxml).
 * A fallible function returns 0 or a negative EL_E* code and fills *err (may be NULL) with a
 * one-line message that names the place (file, byte offset, device id, command). */
#ifndef EL_ERROR_H
#define EL_ERROR_H

#include <stddef.h>

/* X-macro list: name, value, description. Values are negative. */
#define EL_ERRNO_MAP(X)                                                                            \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(ELIMIT, -3, "limit reached")                                                                 \
    X(EIO, -4, "input/output error")                                                               \
    X(ETRUNC, -5, "input truncated")                                                               \
    X(EFORMAT, -6, "malformed input")                                                              \
    X(EUNKNOWN, -7, "unknown token or name")                                                       \
    X(EDEPTH, -8, "nesting too deep")                                                              \
    X(EUSAGE, -9, "usage error")                                                                   \
    X(ECANCELED, -10, "operation canceled")                                                        \
    X(ENOTSUP, -11, "not supported")

enum el_errno {
#define EL_ERR_ENUM(name, val, desc) EL_##name = (val),
    EL_ERRNO_MAP(EL_ERR_ENUM)
#undef EL_ERR_ENUM
};

#define EL_ERR_MSG_MAX 256

/* Filled by a failing call. detail: errno, CURLcode, OpenSSL reason or EAS status; offset:
 * byte offset in the input the error refers to, or (size_t)-1 when it has none. */
struct el_err {
    int code;
    long detail;
    size_t offset;
    const char *file; /* static string: source file that raised it */
    int line;
    char msg[EL_ERR_MSG_MAX];
};

/* Name ("EL_EFORMAT") and description of a code; "unknown error" for anything else. */
const char *el_err_name(int code);
const char *el_strerror(int code);

/* Fills err (if not NULL) with code, offset, file, line and a printf-formatted message; returns
 * code so callers can write `return EL_ERR(err, EL_EINVAL, off, "...", ...)`. */
int el_err_set(struct el_err *err, int code, size_t offset, const char *file, int line,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define EL_ERR(err, code, offset, ...) el_err_set((err), (code), (offset), __FILE__, __LINE__, __VA_ARGS__)
#define EL_NO_OFFSET ((size_t)-1)

#endif
