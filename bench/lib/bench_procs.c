/* bench_procs.c - CPU time of processes, threads and the machine from /proc,
 * between a snapshot and a print. */
#include "bench_procs.h"
#include "cc_config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void bench_procs_init(struct bench_procs *ps, const char *spec)
{
    char buf[512], *save = NULL;
    memset(ps, 0, sizeof *ps);
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *t = strtok_r(buf, ",", &save); t && ps->n < BENCH_PROCS_MAX - 1;
         t = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(t, ':');
        int64_t pid;
        if (!colon || cc_parse_int(colon + 1, 1, 1 << 30, &pid) != 0)
            continue;
        *colon = '\0';
        snprintf(ps->p[ps->n].name, sizeof ps->p[0].name, "%s", t);
        ps->p[ps->n++].pid = (int)pid;
    }
    snprintf(ps->p[ps->n].name, sizeof ps->p[0].name, "bench");
    ps->p[ps->n++].pid = (int)getpid();
}

int bench_procs_pid(const struct bench_procs *ps, const char *name)
{
    for (int i = 0; i < ps->n; i++)
        if (!strcmp(ps->p[i].name, name))
            return ps->p[i].pid;
    return 0;
}

/* Up to `cap` - 1 bytes of a /proc file; "" when unreadable. */
static void read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
}

static int64_t ticks_to_ms(unsigned long long ticks)
{
    return (int64_t)(ticks * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
}

/* User and system CPU from a stat file (/proc/<pid>[/task/<tid>]/stat). */
static struct bench_cpu stat_cpu(const char *path)
{
    char buf[1024];
    unsigned long long ut = 0, st = 0;
    struct bench_cpu cpu = {-1, 0};
    read_small(path, buf, sizeof buf);
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
        cpu = (struct bench_cpu){ticks_to_ms(ut), ticks_to_ms(st)};
    return cpu;
}

struct bench_cpu bench_cpu_of(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    return stat_cpu(path);
}

/* The machine's busy (not idle, not waiting for I/O) and total CPU time over all cores. */
static void machine_cpu(int64_t *busy, int64_t *total)
{
    char buf[512];
    unsigned long long v[8] = {0}, sum = 0;
    read_small("/proc/stat", buf, sizeof buf);
    *busy = *total = 0;
    if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) != 8)
        return;
    for (int i = 0; i < 8; i++)
        sum += v[i];
    *total = ticks_to_ms(sum);
    *busy = ticks_to_ms(sum - v[3] - v[4]);
}

void bench_procs_snapshot(struct bench_procs *ps)
{
    for (int i = 0; i < ps->n; i++)
        ps->p[i].cpu = bench_cpu_of(ps->p[i].pid);
    machine_cpu(&ps->machine_busy_ms, &ps->machine_total_ms);
}

void bench_procs_print(const struct bench_procs *ps, const char *what, long units, double secs)
{
    int64_t ours = 0, busy, total;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double u = units > 0 ? (double)units : 1;
    cores = cores > 0 ? cores : 1;
    printf("  CPU per %s (us, system share):", what);
    for (int i = 0; i < ps->n; i++) {
        struct bench_cpu now = bench_cpu_of(ps->p[i].pid), was = ps->p[i].cpu;
        int64_t used = now.user + now.sys - was.user - was.sys, sys = now.sys - was.sys;
        if (now.user < 0 || was.user < 0)
            continue;
        ours += used;
        printf(" %s %.0f", ps->p[i].name, (double)used * 1000.0 / u);
        if (used >= 50) /* below that the share is noise from clock ticks */
            printf(" (%.0f%%)", 100.0 * (double)sys / (double)used);
    }
    machine_cpu(&busy, &total);
    busy -= ps->machine_busy_ms, total -= ps->machine_total_ms;
    printf("; all %.0f\n  cores busy over %.1f s: %.0f %% of %ld with these processes, %.0f %% in "
           "all (the rest: other work on the machine)\n",
           (double)ours * 1000.0 / u, secs,
           secs > 0 ? (double)ours / (secs * 10.0 * (double)cores) : 0, cores,
           total > 0 ? 100.0 * (double)busy / (double)total : 0);
}

/* --- threads ------------------------------------------------------------------------ */

/* The thread's name (comm without its newline) into `name`; "" when unreadable. */
static void thread_name(int pid, int tid, char *name, size_t cap)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
    read_small(path, name, cap);
    name[strcspn(name, "\n")] = '\0';
}

/* The thread's voluntary + involuntary context switches so far. */
static int64_t thread_switches(int pid, int tid)
{
    char path[96], buf[2048];
    long long vol = 0, invol = 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, tid);
    read_small(path, buf, sizeof buf);
    const char *v = strstr(buf, "\nvoluntary_ctxt_switches:");
    const char *n = strstr(buf, "\nnonvoluntary_ctxt_switches:");
    if (v)
        sscanf(v, "\nvoluntary_ctxt_switches: %lld", &vol);
    if (n)
        sscanf(n, "\nnonvoluntary_ctxt_switches: %lld", &invol);
    return vol + invol;
}

void bench_threads_snapshot(struct bench_threads *t, int pid)
{
    char path[64];
    struct dirent *e;
    t->pid = pid, t->n = 0;
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    while (d && t->n < BENCH_THREADS_MAX && (e = readdir(d))) {
        char stat[96];
        int64_t tid;
        if (cc_parse_int(e->d_name, 1, 1 << 30, &tid) != 0)
            continue; /* "." and ".." */
        snprintf(stat, sizeof stat, "/proc/%d/task/%d/stat", pid, (int)tid);
        t->t[t->n].tid = (int)tid;
        t->t[t->n].cpu = stat_cpu(stat);
        t->t[t->n].switches = thread_switches(pid, (int)tid);
        thread_name(pid, (int)tid, t->t[t->n].name, sizeof t->t[0].name);
        if (t->t[t->n].cpu.user >= 0)
            t->n++;
    }
    if (d)
        closedir(d);
}

/* What `before` recorded for thread `tid`, or -1 for a thread born since. */
static int find_thread(const struct bench_threads *before, int tid)
{
    for (int i = 0; i < before->n; i++)
        if (before->t[i].tid == tid)
            return i;
    return -1;
}

/* Thread names, and per name the CPU time, context switches and threads. */
struct thread_groups {
    int n;
    char name[BENCH_THREADS_MAX][16];
    int64_t cpu_ms[BENCH_THREADS_MAX], switches[BENCH_THREADS_MAX];
    int threads[BENCH_THREADS_MAX];
};

static void group_add(struct thread_groups *g, const char *name, int64_t cpu_ms, int64_t switches)
{
    int i = 0;
    while (i < g->n && strcmp(g->name[i], name) != 0)
        i++;
    if (i == g->n) {
        snprintf(g->name[i], sizeof g->name[i], "%s", name);
        g->cpu_ms[i] = g->switches[i] = g->threads[i] = 0;
        g->n++;
    }
    g->cpu_ms[i] += cpu_ms, g->switches[i] += switches, g->threads[i]++;
}

void bench_threads_print(const struct bench_threads *before, const char *label, long units)
{
    /* off the stack (40 KiB); benchmarks print from one thread */
    static struct bench_threads now;
    static struct thread_groups g;
    double u = units > 0 ? (double)units : 1;
    bench_threads_snapshot(&now, before->pid);
    g.n = 0;
    for (int i = 0; i < now.n; i++) {
        int b = find_thread(before, now.t[i].tid);
        int64_t cpu = now.t[i].cpu.user + now.t[i].cpu.sys, sw = now.t[i].switches;
        if (b >= 0)
            cpu -= before->t[b].cpu.user + before->t[b].cpu.sys, sw -= before->t[b].switches;
        group_add(&g, now.t[i].name, cpu, sw);
    }
    printf("  %s by thread name [threads]: CPU per unit (us) / context switches per unit:", label);
    for (int i = 0; i < g.n; i++)
        if (g.cpu_ms[i] > 0 || g.switches[i] > 0)
            printf(" %s[%d] %.0f / %.1f", g.name[i], g.threads[i], (double)g.cpu_ms[i] * 1000.0 / u,
                   (double)g.switches[i] / u);
    printf("\n");
}
