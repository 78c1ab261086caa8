/* bench_procs.h - where the CPU went during a benchmark phase: the user and
 * system time of the system's processes (bench/run.py passes their pids in
 * CC_BENCH_PIDS as "name:pid,...") and of the benchmark itself, between a
 * snapshot and a print, per unit of work, beside what the whole machine was
 * busy with (other users' work included); and one process's time and context
 * switches split by thread name, to tell its HTTP threads from the others. */
#ifndef BENCH_PROCS_H
#define BENCH_PROCS_H

#include <stdint.h>

#define BENCH_PROCS_MAX 12
#define BENCH_THREADS_MAX 512

/* CPU time in milliseconds; -1 in `user` when unreadable. */
struct bench_cpu {
    int64_t user, sys;
};

struct bench_proc {
    char name[32];
    int pid;
    struct bench_cpu cpu; /* at the last snapshot */
};

struct bench_procs {
    struct bench_proc p[BENCH_PROCS_MAX];
    int n;
    int64_t machine_busy_ms, machine_total_ms; /* /proc/stat, all cores, at the snapshot */
};

/* Each thread of a process at one moment. */
struct bench_threads {
    int pid;
    int n; /* threads seen (the first BENCH_THREADS_MAX) */
    struct {
        int tid;
        char name[16]; /* /proc/<pid>/task/<tid>/comm */
        struct bench_cpu cpu;
        int64_t switches; /* voluntary + involuntary context switches */
    } t[BENCH_THREADS_MAX];
};

/* Fills `ps` from `spec` ("name:pid,..."; NULL or malformed entries are
 * skipped) and adds this process as "bench". This function can't fail. */
void bench_procs_init(struct bench_procs *ps, const char *spec);

/* The pid named `name`, or 0. */
int bench_procs_pid(const struct bench_procs *ps, const char *name);

/* Records every process's CPU time, and the machine's, now. */
void bench_procs_snapshot(struct bench_procs *ps);

/* Prints the CPU each process spent since the snapshot per unit of work
 * (`what`, `units` of it) with its system share, then how busy the machine's
 * cores were over `secs`: by these processes and in all. */
void bench_procs_print(const struct bench_procs *ps, const char *what, long units, double secs);

/* The user and system CPU of `pid` (/proc/<pid>/stat); user -1 when unreadable. */
struct bench_cpu bench_cpu_of(int pid);

/* Records the CPU time and context switches of each of `pid`'s threads now. */
void bench_threads_snapshot(struct bench_threads *t, int pid);

/* Prints, summed by thread name, what the threads of `before`'s process
 * (`label`) spent since `before` per unit of work, and their context switches
 * per unit. A thread that ended in between is not counted: take this before
 * closing connections. */
void bench_threads_print(const struct bench_threads *before, const char *label, long units);

#endif
