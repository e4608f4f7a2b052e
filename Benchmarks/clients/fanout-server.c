/* fanout-server: the physical limit of an event fan-out on a Unix socket. A minimal epoll
 * server that speaks just enough of miniupdated's protocol for the `fanout` load generator:
 * a `subscribe` line makes the connection a subscriber; a `simulate` line writes the same
 * onCheckForUpdate line miniupdated sends to every subscriber, one send(2) each, then
 * answers. Nothing is parsed beyond finding the method, and nothing is allocated per event.
 *
 * usage: fanout-server SOCKET        prints "ready" once it listens */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "bench.h"

static const char event_line[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"onCheckForUpdate\",\"params\":{\"app\":\"com.example.bench\",\"hasUpdate\":false}}\n";
static const char empty_result[] = "{\"jsonrpc\":\"2.0\",\"result\":{}}\n";
static const char subscribe_method[] = "\"method\":\"subscribe\"";
static const char simulate_method[] = "\"method\":\"simulate\"";

static int *subscribers;
static int subscriber_count, subscriber_capacity;

static void add_subscriber(int fd) {
    for (int i = 0; i < subscriber_count; i++) {
        if (subscribers[i] == fd) return;
    }
    if (subscriber_count == subscriber_capacity) {
        subscriber_capacity = subscriber_capacity ? subscriber_capacity * 2 : 1024;
        subscribers = realloc(subscribers, (size_t)subscriber_capacity * sizeof *subscribers);
        if (!subscribers) { perror("realloc"); exit(2); }
    }
    subscribers[subscriber_count++] = fd;
}

static void remove_subscriber(int fd) {
    for (int i = 0; i < subscriber_count; i++) {
        if (subscribers[i] == fd) { subscribers[i] = subscribers[--subscriber_count]; return; }
    }
}

/* Sends a whole line without waiting; a measurement that lost one would be wrong, so a
 * full socket buffer ends the run (the load generator reads everything, so it never is). */
static void send_line(int fd, const char *line, size_t length) {
    if (send(fd, line, length, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)length) {
        perror("fanout-server: send");
        exit(2);
    }
}

static void handle_line(int fd, const char *line, size_t length) {
    if (memmem(line, length, subscribe_method, sizeof subscribe_method - 1)) {
        add_subscriber(fd);
    } else if (memmem(line, length, simulate_method, sizeof simulate_method - 1)) {
        for (int i = 0; i < subscriber_count; i++) send_line(subscribers[i], event_line, sizeof event_line - 1);
    }
    send_line(fd, empty_result, sizeof empty_result - 1);
}

/* A client's socket is readable: its request lines, or its end. Requests are one line of
 * a few hundred bytes, sent whole, so a read holds whole lines; one that does not ends
 * the run rather than lose a request. */
static void readable(int fd) {
    char buffer[1 << 16];
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        remove_subscriber(fd);
        close(fd);
        return;
    }
    const char *line = buffer, *end = buffer + n;
    while (line < end) {
        const char *newline = memchr(line, '\n', (size_t)(end - line));
        if (!newline) {
            fprintf(stderr, "fanout-server: a request without its newline\n");
            exit(2);
        }
        handle_line(fd, line, (size_t)(newline - line));
        line = newline + 1;
    }
}

int main(int argc, char **argv) {
    unblock_signals();
    if (argc != 2) { fprintf(stderr, "usage: fanout-server SOCKET\n"); return 64; }
    raise_fd_limit();
    serve_unix(argv[1], readable);
}
