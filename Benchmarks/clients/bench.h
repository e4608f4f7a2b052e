/* What the load generators and baselines share. Header-only: each is one compiler call. */
#ifndef MINIUPDATE_BENCH_H
#define MINIUPDATE_BENCH_H
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* The bench starts us from a thread that blocks most signals, and the mask is inherited:
 * without this, SIGTERM would never end a server. */
static inline void unblock_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* CLOCK_MONOTONIC in microseconds. */
static inline double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* For qsort of doubles. */
static inline int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Thousands of sockets: the soft descriptor limit up to the hard one. */
static inline void raise_fd_limit(void) {
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
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
