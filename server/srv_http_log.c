/* srv_http_log.c - the HTTP side's log line and clocks: "+12.304 W w1 d<deviceid> http: ...".
 * Owns: nothing (rate state is the caller's, one per thread). Never prints a password or an
 * Authorization header: callers pass only command, device id and a reason. */
#include "srv_http_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

uint64_t el__srv_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t el__srv_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void el__srv_log(const struct el_srv_http *h, struct el__srv_lograte *rate, unsigned worker,
                 int level, const char *device, const char *fmt, ...)
{
    uint64_t now = el__srv_mono_ms();
    uint64_t rel = h ? now - h->start_ms : 0;
    uint64_t dropped = 0;
    if (rate) {
        if (now - rate->window_ms >= 1000) {
            rate->window_ms = now;
            rate->lines = 0;
        }
        if (rate->lines >= EL__SRV_LOG_PER_SEC) {
            rate->dropped++;
            return;
        }
        rate->lines++;
        dropped = rate->dropped;
        rate->dropped = 0;
    }
    char line[512];
    int n = snprintf(
        line, sizeof(line), "+%llu.%03llu %c w%u d%s http: ", (unsigned long long)(rel / 1000),
        (unsigned long long)(rel % 1000), level, worker, device && device[0] ? device : "-");
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (dropped)
        fprintf(stderr, "+%llu.%03llu %c w%u d- http: %llu similar lines suppressed\n",
                (unsigned long long)(rel / 1000), (unsigned long long)(rel % 1000), level, worker,
                (unsigned long long)dropped);
    fprintf(stderr, "%s\n", line);
}
