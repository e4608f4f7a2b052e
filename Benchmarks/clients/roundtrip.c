/* roundtrip: request/response latency on a Unix socket, and the baseline echo server.
 *
 *   roundtrip client SOCKET COUNT IDLE REQUEST [MARKER]   holds IDLE idle connections,
 *       then sends REQUEST (one line) COUNT times on one more, waiting for each response:
 *       the next line containing MARKER (any line without one; lines without it, such as
 *       a subscribe's replayed events, are read and passed over); prints
 *       "p50_us X p99_us Y" (after 10% warm-up requests, not counted)
 *   roundtrip echo SOCKET                        a minimal epoll server that writes back
 *       each line it reads: the physical limit of a Unix-socket round trip */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

#define CARRY_SIZE (1 << 20)

static struct sockaddr_un address_of(const char *path) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    return address;
}

/* Reads from fd until a whole line containing marker (or any line, if marker is NULL)
 * has arrived; what follows it stays in carry for the next call. 0, or -1 on EOF. */
static int await_line(int fd, const char *marker, char *carry, size_t *carried) {
    for (;;) {
        char *start = carry;
        char *end;
        while ((end = memchr(start, '\n', (size_t)(carry + *carried - start))) != NULL) {
            *end = '\0';
            int matched = marker == NULL || strstr(start, marker) != NULL;
            start = end + 1;
            if (matched) {
                *carried = (size_t)(carry + *carried - start);
                memmove(carry, start, *carried);
                return 0;
            }
        }
        *carried = (size_t)(carry + *carried - start);
        memmove(carry, start, *carried);
        if (*carried == CARRY_SIZE) *carried = 0; /* a line longer than the buffer: not ours */
        ssize_t n = recv(fd, carry + *carried, CARRY_SIZE - *carried, 0);
        if (n <= 0) return -1;
        *carried += (size_t)n;
    }
}

static int client(const char *path, int count, int idle, const char *request, const char *marker) {
    raise_fd_limit();
    struct sockaddr_un address = address_of(path);
    for (int i = 0; i <= idle; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); return 2; }
        if (i < idle) continue; /* kept open, never used */
        size_t length = strlen(request);
        char *line = malloc(length + 2);
        memcpy(line, request, length);
        line[length] = '\n';
        char *carry = malloc(CARRY_SIZE + 1);
        size_t carried = 0;
        int warmup = count / 10;
        double *samples = calloc((size_t)count, sizeof *samples);
        for (int r = 0; r < warmup + count; r++) {
            double start = now_us();
            if (send(fd, line, length + 1, MSG_NOSIGNAL) != (ssize_t)(length + 1)) { perror("send"); return 2; }
            if (await_line(fd, marker, carry, &carried) < 0) { fprintf(stderr, "connection closed\n"); return 2; }
            if (r >= warmup) samples[r - warmup] = now_us() - start;
        }
        qsort(samples, (size_t)count, sizeof *samples, compare_doubles);
        printf("p50_us %.1f p99_us %.1f\n", samples[count / 2], samples[count * 99 / 100]);
        return 0;
    }
    return 0;
}

/* The echo server's reply: writes back what it reads. */
static void echo_back(int fd) {
    char buffer[1 << 16];
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { close(fd); return; }
    ssize_t sent = 0;
    while (sent < n) {
        ssize_t w = send(fd, buffer + sent, (size_t)(n - sent), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) break;
        if (w > 0) sent += w;
    }
}

int main(int argc, char **argv) {
    unblock_signals();
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "client") == 0)
        return client(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5], argc == 7 ? argv[6] : NULL);
    if (argc == 3 && strcmp(argv[1], "echo") == 0) serve_unix(argv[2], echo_back);
    fprintf(stderr, "usage: roundtrip client SOCKET COUNT IDLE REQUEST [MARKER] | roundtrip echo SOCKET\n");
    return 64;
}
