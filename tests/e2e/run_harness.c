/* run_harness.c - start, wait for and read the results of `easload run` in e2e tests
 * (run_harness.h). */
#include "run_harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t el_runh_spawn(const char *const *argv, const struct el_runh *r)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen(r->errfile, "w", stderr) == NULL || freopen("/dev/null", "w", stdout) == NULL)
            _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

void el_runh_wait(pid_t pid, struct el_runh *r)
{
    int st = 0;
    r->status = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char path[300];
    snprintf(path, sizeof(path), "%s/results.json", r->out);
    json_error_t je;
    r->res = json_load_file(path, 0, &je);
    if (r->res == NULL)
        fprintf(stderr, "results.json: %s (line %d)\n", je.text, je.line);
    if (r->status != 0 && r->status != 1) {
        FILE *f = fopen(r->errfile, "r");
        if (f) {
            char buf[4096];
            size_t k = fread(buf, 1, sizeof(buf) - 1, f);
            buf[k] = '\0';
            fclose(f);
            fprintf(stderr, "easload run exited %d; stderr:\n%s\n", r->status, buf);
        }
    }
}

long long el_runh_num(long long absent, json_t *root, ...)
{
    va_list ap;
    va_start(ap, root);
    json_t *v = root;
    const char *k;
    while (v && (k = va_arg(ap, const char *)) != NULL)
        v = json_object_get(v, k);
    va_end(ap);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    if (json_is_true(v))
        return 1;
    if (json_is_false(v))
        return 0;
    return absent;
}
