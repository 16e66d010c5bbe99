/* run_harness.h - end-to-end helpers for `easload run` (test_run.c, test_throttle_client.c):
 * start it with its stderr in a file, wait for it and read its results.json, read numbers at a
 * JSON path; and CHECK, which counts a failure in the including file's `failures` and goes on.
 * Uses: jansson. Nothing here asserts a time. */
#ifndef EL_RUN_HARNESS_H
#define EL_RUN_HARNESS_H

#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

struct el_runh {
    char out[256];     /* --out DIR */
    char errfile[300]; /* stderr of easload run */
    int status;        /* exit code, or -1 killed by a signal */
    json_t *res;       /* results.json, NULL if unreadable */
};

/* Forks and executes argv (argv[0] a path, NULL-terminated) with stdout to /dev/null and
 * stderr to r->errfile. Returns the pid (-1 if fork failed). */
pid_t el_runh_spawn(const char *const *argv, const struct el_runh *r);

/* Waits for pid: r->status, r->res (OUT/results.json, or NULL with a message); prints the run's
 * stderr when it exited with other than 0 (passed) or 1 (a threshold or check failed). */
void el_runh_wait(pid_t pid, struct el_runh *r);

/* The number at a path of object keys (NULL-terminated): integers, reals (truncated), true 1,
 * false 0; `absent` when the path is missing or holds something else. */
long long el_runh_num(long long absent, json_t *root, ...);

#endif
