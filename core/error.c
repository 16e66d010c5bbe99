/* error.c - names, descriptions and the setter for struct el_err.
 * Owns: nothing. Uses: error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *el_err_name(int code)
{
    switch (code) {
#define EL_ERR_NAME(name, val, desc)                                                               \
    case val:                                                                                      \
        return "EL_" #name;
        EL_ERRNO_MAP(EL_ERR_NAME)
#undef EL_ERR_NAME
    }
    return "EL_E?";
}

const char *el_strerror(int code)
{
    switch (code) {
#define EL_ERR_DESC(name, val, desc)                                                               \
    case val:                                                                                      \
        return desc;
        EL_ERRNO_MAP(EL_ERR_DESC)
#undef EL_ERR_DESC
    }
    return "unknown error";
}

int el_err_set(struct el_err *err, int code, size_t offset, const char *file, int line,
               const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->detail = 0;
    err->offset = offset;
    err->file = file;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(err->msg, sizeof(err->msg), "%s", el_strerror(code));
    return code;
}
