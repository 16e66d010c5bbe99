/* engine_run.c - a whole run: one worker in this process, or N forked workers (devices g with
 * g % N == k go to worker k), each writing its results to a temp file that the parent merges
 * (el_results_merge: exact percentiles); the parent shows the combined progress line, forwards
 * SIGINT/SIGTERM (signalfd, no globals), evaluates thresholds and checks and writes
 * results.json, timeline.csv and junit.xml, also after Ctrl-C or a failed worker.
 * Owns: the merged results for the length of el_engine_run. Uses: engine_int.h, results.h. */
#include "engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKERS_MAX 256

static int64_t unix_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int mkdir_p(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* The target without user:password@ (results never carry secrets). */
static void redact_url(const char *url, char *out, size_t cap)
{
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    if (at && (!slash || at < slash))
        snprintf(out, cap, "%.*s%s", (int)(scheme + 3 - url), url, at + 1);
    else
        snprintf(out, cap, "%s", url);
}

int el_engine_write_outputs(const struct el_engine_config *c, struct el_results *res,
                            const char *out_dir, int64_t start_us, int64_t end_us)
{
    char target[600], cfg[1024], path[1200];
    redact_url(c->target, target, sizeof(target));
    uint32_t first, end;
    el_engine_shard_range(c, &first, &end);
    size_t n = (size_t)snprintf(cfg, sizeof(cfg),
                                "{\"devices\":%u,\"ramp_s\":%.3f,\"duration_s\":%.3f,"
                                "\"workers\":%u,\"users\":%u,\"seed\":%llu,\"insecure\":%s,"
                                "\"arrival_stages\":%u,\"shard\":%u,\"shards\":%u,"
                                "\"shard_devices\":[%u,%u],\"profiles\":[",
                                c->devices, (double)c->ramp_us / 1e6, (double)c->duration_us / 1e6,
                                c->workers, c->nusers, (unsigned long long)c->seed,
                                c->insecure ? "true" : "false", c->nstages, c->shard, c->shards,
                                first, end);
    for (unsigned i = 0; i < c->nshares && n < sizeof(cfg); i++)
        n += (size_t)snprintf(cfg + n, sizeof(cfg) - n, "%s{\"name\":\"%s\",\"weight\":%g}",
                              i ? "," : "", c->shares[i].profile->name, c->shares[i].weight);
    if (n < sizeof(cfg))
        snprintf(cfg + n, sizeof(cfg) - n, "]}");
    struct el_results_meta meta = {
        .tool_version = EL_VERSION,
        .scenario = c->name,
        .scenario_file = c->scenario_path,
        .target = target,
        .config_json = cfg,
        .start_unix_us = start_us,
        .end_unix_us = end_us,
        .devices = end - first, /* this shard's: merged shards add up to the population */
        .shard = c->shard,
        .shards = c->shards ? c->shards : 1,
    };
    int bad = 0;
    struct el_err err = {0};
    if (mkdir_p(out_dir) != 0) {
        fprintf(stderr, "easload run: cannot create %s: %s\n", out_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/results.json", out_dir);
    if (el_results_write_json(res, &meta, path, &err) < 0) {
        fprintf(stderr, "easload run: %s\n", err.msg);
        bad = 1;
    }
    snprintf(path, sizeof(path), "%s/timeline.csv", out_dir);
    if (el_results_write_timeline_csv(res, path, &err) < 0) {
        fprintf(stderr, "easload run: %s\n", err.msg);
        bad = 1;
    }
    snprintf(path, sizeof(path), "%s/junit.xml", out_dir);
    if (el_results_write_junit(res, &meta, path, &err) < 0) {
        fprintf(stderr, "easload run: %s\n", err.msg);
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* ---- forked workers ---------------------------------------------------------------------- */

struct child {
    pid_t pid;
    int fd; /* progress pipe, -1 at EOF */
    struct el__eng_progress last;
    int status;
    int exited;
};

/* The parent's live line: every worker's latest record counted once (each record holds that
 * worker's totals since the start), latencies merged bucket by bucket for the p99. */
static void show_progress(const struct el_engine_config *c, const struct child *ch, unsigned n,
                          int64_t t0, uint64_t *last_req, int final)
{
    if (c->progress == 0)
        return;
    uint64_t req = 0, errs = 0, lat[EL__PROG_BUCKETS] = {0}, total = 0;
    uint32_t active = 0, first, end;
    el_engine_shard_range(c, &first, &end);
    for (unsigned i = 0; i < n; i++) {
        req += ch[i].last.requests;
        errs += ch[i].last.errors;
        active += ch[i].last.active;
        for (unsigned b = 0; b < EL__PROG_BUCKETS; b++)
            lat[b] += ch[i].last.lat[b];
    }
    for (unsigned b = 0; b < EL__PROG_BUCKETS; b++)
        total += lat[b];
    int64_t p99 = 0;
    uint64_t seen = 0, rank = total - total / 100; /* the 99th percentile's sample, 1-based */
    for (unsigned b = 0; b < EL__PROG_BUCKETS && total > 0; b++) {
        seen += lat[b];
        if (seen >= rank) {
            p99 = el__eng_prog_value(b);
            break;
        }
    }
    char line[220];
    snprintf(line, sizeof(line),
             "[%4llds] devices %u/%u  req/s %llu  requests %llu  errors %llu  p99 %.1fms  "
             "workers %u",
             (long long)((unix_now_us() - t0) / 1000000), active, end - first,
             (unsigned long long)(req - *last_req), (unsigned long long)req,
             (unsigned long long)errs, (double)p99 / 1000.0, n);
    *last_req = req;
    if (c->progress == 1)
        fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

/* Reads one record of a worker's progress pipe (blocking only if its worker still runs and
 * poll said readable); closes the pipe at its end or on an error. */
static void read_progress(struct child *ch)
{
    struct el__eng_progress p;
    ssize_t r = read(ch->fd, &p, sizeof(p));
    if (r == (ssize_t)sizeof(p)) {
        ch->last = p;
    } else if (r <= 0 && !(r < 0 && errno == EINTR)) {
        close(ch->fd);
        ch->fd = -1;
    }
}

static int run_forked(struct el_engine_config *c, struct el_results *res, const char *out_dir,
                      int64_t *start_us, int64_t *end_us)
{
    unsigned n = c->workers;
    struct child ch[WORKERS_MAX];
    memset(ch, 0, sizeof(ch));
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    *start_us = unix_now_us();
    fflush(stdout);
    fflush(stderr);
    int fatal = 0;
    for (unsigned k = 0; k < n; k++) {
        int fds[2];
        if (pipe(fds) != 0) {
            fprintf(stderr, "easload run: pipe: %s\n", strerror(errno));
            fatal = 1;
            n = k;
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "easload run: fork: %s\n", strerror(errno));
            close(fds[0]);
            close(fds[1]);
            fatal = 1;
            n = k;
            break;
        }
        if (pid == 0) {
            /* the worker: signals stay blocked until its loop watches them */
            close(fds[0]);
            /* a parent that falls behind must never stall the worker */
            fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
            if (sfd >= 0)
                close(sfd);
            for (unsigned j = 0; j < k; j++)
                close(ch[j].fd);
            struct el_engine_config wc = *c;
            wc.worker_id = k;
            wc.nworkers = c->workers;
            wc.progress_fd = fds[1];
            struct el_results *wr = NULL;
            struct el_err err = {0};
            int rc = el_results_new(&wr, &err);
            int64_t s = 0, e = 0;
            if (rc == 0)
                rc = el_engine_worker_run(&wc, wr, &s, &e, &err);
            if (rc < 0)
                fprintf(stderr, "easload run: worker %u: %s\n", k, err.msg);
            char path[1200];
            snprintf(path, sizeof(path), "%s/.worker-%u.json", out_dir, k);
            struct el_results_meta meta = {.tool_version = EL_VERSION,
                                           .scenario = c->name,
                                           .scenario_file = c->scenario_path,
                                           .target = "",
                                           .config_json = "{}",
                                           .start_unix_us = s,
                                           .end_unix_us = e,
                                           .devices = c->devices,
                                           .shard = 0,
                                           .shards = 1};
            int wrc = wr ? el_results_write_json(wr, &meta, path, &err) : -1;
            if (wrc < 0)
                fprintf(stderr, "easload run: worker %u: %s\n", k, err.msg);
            el_results_free(wr);
            close(fds[1]);
            fflush(stderr);
            _exit(rc < 0 || wrc < 0 ? 3 : 0);
        }
        close(fds[1]);
        ch[k].pid = pid;
        ch[k].fd = fds[0];
    }
    uint64_t last_req = 0;
    int64_t next_show = unix_now_us() + 1000000;
    unsigned alive = n;
    int signals = 0;
    while (alive > 0) {
        struct pollfd pfd[WORKERS_MAX + 1];
        unsigned np = 0;
        int idx[WORKERS_MAX];
        for (unsigned k = 0; k < n; k++) {
            if (ch[k].fd >= 0) {
                pfd[np].fd = ch[k].fd;
                pfd[np].events = POLLIN;
                idx[np++] = (int)k;
            }
        }
        unsigned sig_slot = np;
        if (sfd >= 0) {
            pfd[np].fd = sfd;
            pfd[np].events = POLLIN;
            np++;
        }
        int wait_ms = (int)((next_show - unix_now_us()) / 1000);
        if (wait_ms < 0)
            wait_ms = 0;
        int pr = poll(pfd, np, wait_ms > 1000 ? 1000 : wait_ms);
        if (pr > 0) {
            for (unsigned i = 0; i < sig_slot; i++) {
                if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                read_progress(&ch[idx[i]]);
            }
            if (sfd >= 0 && (pfd[sig_slot].revents & POLLIN)) {
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                    signals++;
                    fprintf(stderr, "%seasload run: %s: stopping the workers%s\n",
                            c->progress == 1 ? "\r\033[K" : "",
                            si.ssi_signo == SIGINT ? "interrupted" : "terminated",
                            signals > 1 ? " now" : "");
                    for (unsigned k = 0; k < n; k++)
                        if (!ch[k].exited)
                            kill(ch[k].pid, SIGTERM);
                }
            }
        }
        if (unix_now_us() >= next_show) {
            show_progress(c, ch, n, *start_us, &last_req, 0);
            next_show += 1000000;
        }
        for (unsigned k = 0; k < n; k++) {
            if (ch[k].exited)
                continue;
            int st;
            pid_t r = waitpid(ch[k].pid, &st, WNOHANG);
            if (r == ch[k].pid) {
                ch[k].exited = 1;
                ch[k].status = st;
                alive--;
            }
        }
    }
    /* a worker's last record may still be in its pipe when waitpid saw it exit: read each
     * pipe to its end (every writer is gone now) so the final line counts it */
    for (unsigned k = 0; k < n; k++)
        while (ch[k].fd >= 0)
            read_progress(&ch[k]);
    show_progress(c, ch, n, *start_us, &last_req, 1);
    if (sfd >= 0)
        close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    *end_us = unix_now_us();
    for (unsigned k = 0; k < n; k++) {
        int st = ch[k].status;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "easload run: worker %u %s %d\n", k,
                    WIFEXITED(st) ? "exited with" : "died of signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            fatal = 1;
        }
        char path[1200];
        snprintf(path, sizeof(path), "%s/.worker-%u.json", out_dir, k);
        struct el_results *wr = NULL;
        struct el_err err = {0};
        if (el_results_read_json(path, &wr, NULL, &err) < 0) {
            fprintf(stderr, "easload run: worker %u: no results: %s\n", k, err.msg);
            fatal = 1;
            continue;
        }
        if (el_results_merge(res, wr, &err) < 0) {
            fprintf(stderr, "easload run: merging worker %u: %s\n", k, err.msg);
            fatal = 1;
        }
        el_results_free(wr);
        unlink(path);
    }
    return fatal ? -1 : 0;
}

int el_engine_run(struct el_engine_config *c, const char *out_dir)
{
    struct el_results *res = NULL;
    struct el_err err = {0};
    if (el_results_new(&res, &err) < 0) {
        fprintf(stderr, "easload run: %s\n", err.msg);
        return 3;
    }
    for (unsigned i = 0; i < c->nthresholds; i++) {
        if (el_results_threshold_add(res, c->thresholds[i], &err) < 0) {
            fprintf(stderr, "easload run: threshold '%s': %s\n", c->thresholds[i], err.msg);
            el_results_free(res);
            return 2;
        }
    }
    if (mkdir_p(out_dir) != 0) {
        fprintf(stderr, "easload run: cannot create %s: %s\n", out_dir, strerror(errno));
        el_results_free(res);
        return 3;
    }
    if (c->workers < 1)
        c->workers = 1;
    if (c->workers > WORKERS_MAX)
        c->workers = WORKERS_MAX;
    uint32_t slice_first, slice_end;
    el_engine_shard_range(c, &slice_first, &slice_end);
    if (c->workers > slice_end - slice_first)
        c->workers = slice_end > slice_first ? slice_end - slice_first : 1;
    int64_t start = 0, end = 0;
    int fatal = 0;
    if (c->workers == 1) {
        c->worker_id = 0;
        c->nworkers = 1;
        if (el_engine_worker_run(c, res, &start, &end, &err) < 0) {
            fprintf(stderr, "easload run: %s\n", err.msg);
            fatal = 1;
        }
    } else {
        fatal = run_forked(c, res, out_dir, &start, &end) < 0;
    }
    int failed = el_results_evaluate(res);
    if (el_engine_write_outputs(c, res, out_dir, start, end) < 0)
        fatal = 1;
    fflush(stderr);
    el_results_print_summary(res, stdout);
    printf("results: %s/results.json, %s/timeline.csv, %s/junit.xml\n", out_dir, out_dir, out_dir);
    if (failed > 0)
        printf("%d threshold(s) or check(s) failed\n", failed);
    fflush(stdout);
    el_results_free(res);
    if (fatal)
        return 3;
    return failed > 0 ? 1 : 0;
}
