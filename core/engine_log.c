/* engine_log.c - the engine's log lines on stderr: seconds since the start, level, worker,
 * device id, module ("+12.304 W w0 d4711 eas: Sync Inbox: status 3").
 * Owns: nothing. Uses: engine_int.h. Library code never writes to stdout. */
#include "engine_int.h"

#include <stdarg.h>
#include <stdio.h>

static const char level_char[] = {'E', 'W', 'I', 'D', 'T'};

void el__eng_log(const struct el_engine *w, int64_t dev_index, int level, const char *module,
                 const char *fmt, ...)
{
    if (level > w->cfg->log_level)
        return;
    char line[1024];
    int64_t t = el__eng_now_us(w) - w->t0_us;
    char dev[24];
    if (dev_index < 0)
        snprintf(dev, sizeof(dev), "-");
    else
        snprintf(dev, sizeof(dev), "d%lld", (long long)dev_index + 1);
    int n = snprintf(line, sizeof(line), "+%lld.%03lld %c w%u %s %s: ", (long long)(t / 1000000),
                     (long long)((t / 1000) % 1000), level_char[level < 0 || level > 4 ? 0 : level],
                     w->cfg->worker_id, dev, module);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (w->progress_tty_line)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "%s\n", line);
}
