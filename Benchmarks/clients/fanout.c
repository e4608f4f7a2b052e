/* fanout: CLIENTS subscribers of one app on miniupdated's socket, in one epoll loop.
 * Each round sends `simulate` (outcome no-update) on a control connection and measures the
 * time from that write to the last subscriber reading its onCheckForUpdate line.
 *
 * usage: fanout SOCKET APP CLIENTS ROUNDS [PAUSE_US]
 * Rounds are PAUSE_US apart (20,000 unless given): sporadic events, which find the caches
 * cold; a short pause measures events in quick succession.
 * prints one line per round ("round N us X"), then "median_us X" and "first_median_us X" (to
 * the first subscriber's receipt), and the CPU time per round
 * of miniupdated ("server_cpu_us X") and of this generator ("generator_cpu_us X"). */
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

static int connect_to(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); exit(2); }
    return fd;
}

static void send_all(int fd, const char *text) {
    size_t length = strlen(text), sent = 0;
    while (sent < length) {
        ssize_t n = send(fd, text + sent, length - sent, MSG_NOSIGNAL);
        if (n <= 0) { perror("send"); exit(2); }
        sent += (size_t)n;
    }
}

/* One read of what is available: returns the number of newlines seen, -1 on EOF. One
 * read per readiness is enough, since epoll is level-triggered and reports the socket
 * again if more is waiting; a second read just to see EAGAIN would double the generator's
 * system calls, and its CPU time competes with the server's on a small machine. */
static int read_lines(int fd) {
    char buffer[65536];
    ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) return -1;
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    int lines = 0;
    for (ssize_t i = 0; i < n; i++) lines += buffer[i] == '\n';
    return lines;
}

/* wait_for_all's view of a subscriber: the descriptors are the context. */
static int receive_line(int index, void *context) {
    return read_lines(((int *)context)[index]);
}

int main(int argc, char **argv) {
    unblock_signals();
    if (argc != 5 && argc != 6) { fprintf(stderr, "usage: fanout SOCKET APP CLIENTS ROUNDS [PAUSE_US]\n"); return 64; }
    const char *path = argv[1], *app = argv[2];
    int clients = atoi(argv[3]), rounds = atoi(argv[4]);
    useconds_t pause_us = argc == 6 ? (useconds_t)atoi(argv[5]) : 20000;
    raise_fd_limit();

    char request[512];
    snprintf(request, sizeof request, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":{\"app\":\"%s\"}}\n", app);
    int *fds = calloc((size_t)clients, sizeof *fds);
    int *pending = calloc((size_t)clients, sizeof *pending);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < clients; i++) {
        fds[i] = connect_to(path);
        send_all(fds[i], request);
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &event);
    }
    /* Drain the subscribe responses and replays until the sockets stay quiet. */
    struct epoll_event *events = calloc(4096, sizeof *events);
    for (;;) {
        int ready = epoll_wait(epoll, events, 4096, 300);
        if (ready <= 0) break;
        for (int e = 0; e < ready; e++) {
            if (read_lines(fds[events[e].data.u32]) < 0) { fprintf(stderr, "a subscriber was disconnected\n"); return 2; }
        }
    }
    int control = connect_to(path);
    double *samples = calloc((size_t)rounds, sizeof *samples), *firsts = calloc((size_t)rounds, sizeof *firsts);
    double server_before = peer_cpu_us(control), own_before = own_cpu_us();
    for (int round = 0; round < rounds; round++) {
        snprintf(request, sizeof request,
                 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"simulate\",\"params\":{\"app\":\"%s\",\"outcome\":\"no-update\"}}\n", round + 2, app);
        double start = now_us();
        send_all(control, request);
        double first = 0, last = wait_for_all(epoll, events, pending, clients, receive_line, fds, round, &first);
        if (last < 0) return 2;
        samples[round] = last - start;
        firsts[round] = first - start;
        printf("round %d us %.1f\n", round, samples[round]);
        /* The control connection's response, then a pause. */
        char discard[4096];
        usleep(pause_us);
        while (recv(control, discard, sizeof discard, MSG_DONTWAIT) > 0) {}
    }
    double own_after = own_cpu_us(), server_after = peer_cpu_us(control);
    print_fanout_medians(samples, firsts, rounds);
    print_cpu_per_round(server_before, server_after, own_before, own_after, rounds);
    return 0;
}
