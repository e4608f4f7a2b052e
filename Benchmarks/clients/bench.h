/* What the load generators and baselines share. Header-only: each is one compiler call. */
#ifndef MINIUPDATE_BENCH_H
#define MINIUPDATE_BENCH_H
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The bench starts us from a thread that blocks most signals, and the mask is inherited:
 * without this, SIGTERM would never end a server. */
static inline void unblock_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* `clock` in microseconds. */
static inline double clock_us(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static inline double now_us(void) { return clock_us(CLOCK_MONOTONIC); }

/* CPU time this process has used, in microseconds. */
static inline double own_cpu_us(void) { return clock_us(CLOCK_PROCESS_CPUTIME_ID); }

/* CPU time used by all threads of the process at the other end of the Unix socket `fd`,
 * in microseconds, from /proc/PID/task/TID/schedstat (nanoseconds on a CPU); -1 if that
 * cannot be read. With the generator's own, it shows whether a fan-out is bound by the
 * CPUs: on N of them, no round can take less than the two together divided by N. */
static inline double peer_cpu_us(int fd) {
    struct ucred peer;
    socklen_t length = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) return -1;
    char directory[64];
    snprintf(directory, sizeof directory, "/proc/%d/task", (int)peer.pid);
    DIR *tasks = opendir(directory);
    if (!tasks) return -1;
    double total = 0;
    struct dirent *task;
    while ((task = readdir(tasks))) {
        if (task->d_name[0] == '.') continue;
        char path[sizeof directory + sizeof task->d_name + 16];
        snprintf(path, sizeof path, "%s/%s/schedstat", directory, task->d_name);
        FILE *file = fopen(path, "r");
        unsigned long long nanoseconds;
        if (file && fscanf(file, "%llu", &nanoseconds) == 1) total += nanoseconds / 1e3;
        if (file) fclose(file);
    }
    closedir(tasks);
    return total;
}

/* Prints the CPU time per round, of the server (`server_before` and `server_after` from
 * peer_cpu_us) and of this generator, for the bench to read. */
static inline void print_cpu_per_round(double server_before, double server_after, double own_before, double own_after, int rounds) {
    if (server_before >= 0 && server_after >= 0) printf("server_cpu_us %.1f\n", (server_after - server_before) / rounds);
    printf("generator_cpu_us %.1f\n", (own_after - own_before) / rounds);
}

/* For qsort of doubles. */
static inline int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A fan-out generator's summary: the median round ("median_us") and the median time to
 * the first subscriber's receipt ("first_median_us"). Sorts both arrays. */
static inline void print_fanout_medians(double *rounds_us, double *firsts_us, int rounds) {
    qsort(rounds_us, (size_t)rounds, sizeof *rounds_us, compare_doubles);
    qsort(firsts_us, (size_t)rounds, sizeof *firsts_us, compare_doubles);
    printf("median_us %.1f\nfirst_median_us %.1f\n", rounds_us[rounds / 2], firsts_us[rounds / 2]);
}

/* Thousands of sockets: the soft descriptor limit up to the hard one. */
static inline void raise_fd_limit(void) {
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
}

/* The servers' loop: listens on the Unix socket `path` (replacing a stale one), says
 * "ready", accepts every connection (non-blocking) and calls `readable(fd)` whenever a
 * client's socket has something to read (or was closed). The socket is bound under a
 * temporary name and renamed once it listens, so whoever waits for `path` to appear
 * never finds a socket that refuses connections. */
static inline _Noreturn void serve_unix(const char *path, void (*readable)(int fd)) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    char *binding = address.sun_path;
    if (snprintf(binding, sizeof address.sun_path, "%s.new", path) >= (int)sizeof address.sun_path) {
        fprintf(stderr, "socket path too long: %s\n", path);
        exit(2);
    }
    unlink(binding);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0
        || rename(binding, path) != 0) { perror(path); exit(2); }
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    if (epoll < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event) != 0) { perror("epoll"); exit(2); }
    printf("ready\n");
    fflush(stdout);
    struct epoll_event events[256];
    for (;;) {
        int ready = epoll_wait(epoll, events, 256, -1);
        for (int e = 0; e < ready; e++) {
            int fd = events[e].data.fd;
            if (fd != listener) {
                readable(fd);
                continue;
            }
            int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (client < 0) continue;
            struct epoll_event added = {.events = EPOLLIN, .data.fd = client};
            if (epoll_ctl(epoll, EPOLL_CTL_ADD, client, &added) != 0) { perror("epoll_ctl"); exit(2); }
        }
    }
}

/* One fan-out round's wait, shared by our load generator and the D-Bus baseline so both
 * are timed alike: polls until each of `count` subscribers has received its event.
 * `receive(i, context)` drains subscriber i (registered with data.u32 = i): > 0 if the
 * event came, 0 if not yet, < 0 if the subscriber is gone. Returns the time of the last
 * first receipt, or -1 after saying what went wrong; sets `first` to the time the first
 * subscriber received it, which splits a round into the server's way to its first send
 * and the fan-out itself. */
static inline double wait_for_all(int epoll, struct epoll_event *events, int *pending, int count,
                                  int (*receive)(int, void *), void *context, int round, double *first) {
    for (int i = 0; i < count; i++) pending[i] = 1;
    int remaining = count;
    double last = 0;
    *first = 0;
    while (remaining > 0) {
        int ready = epoll_wait(epoll, events, 4096, 10000);
        if (ready <= 0) { fprintf(stderr, "round %d: %d subscribers got nothing within 10 s\n", round, remaining); return -1; }
        double at = now_us();
        for (int e = 0; e < ready; e++) {
            int i = (int)events[e].data.u32;
            int got = receive(i, context);
            if (got < 0) { fprintf(stderr, "a subscriber was disconnected\n"); return -1; }
            if (got > 0 && pending[i]) {
                pending[i] = 0;
                remaining--;
                last = at;
                if (*first == 0) *first = at;
            }
        }
    }
    return last;
}

#ifdef DBUS_MAJOR_VERSION
#include <stdio.h>
/* A private connection to the bus at `address`, registered (Hello done). */
static inline DBusConnection *open_bus(const char *address) {
    DBusError error;
    dbus_error_init(&error);
    DBusConnection *connection = dbus_connection_open_private(address, &error);
    if (!connection || !dbus_bus_register(connection, &error)) {
        fprintf(stderr, "connect: %s\n", error.message ? error.message : "?");
        exit(2);
    }
    return connection;
}
#endif
#endif
