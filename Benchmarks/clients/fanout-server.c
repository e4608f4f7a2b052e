/* fanout-server: the physical limit of an event fan-out on a Unix socket. A minimal epoll
 * server that speaks just enough of miniupdated's protocol for the `fanout` load generator:
 * a `subscribe` line makes the connection a subscriber; a `simulate` line writes the same
 * onCheckForUpdate line miniupdated sends to every subscriber, one write(2) each, then
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

static int *subscribers;
static int subscriber_count, subscriber_capacity;

static void add_subscriber(int fd) {
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

/* One request line: requests are a few hundred bytes, so a line is never split by a read
 * in this benchmark, and a read may hold several. */
static void handle_line(int fd, const char *line) {
    if (strstr(line, "\"method\":\"subscribe\"")) {
        add_subscriber(fd);
    } else if (strstr(line, "\"method\":\"simulate\"")) {
        for (int i = 0; i < subscriber_count; i++) {
            (void)send(subscribers[i], event_line, sizeof event_line - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
    }
    (void)send(fd, empty_result, sizeof empty_result - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A client's socket is readable: its request lines, or its end. */
static void readable(int fd) {
    char buffer[1 << 16];
    ssize_t n = recv(fd, buffer, sizeof buffer - 1, 0);
    if (n <= 0) {
        remove_subscriber(fd);
        close(fd);
        return;
    }
    buffer[n] = '\0';
    for (char *line = buffer, *end; *line; line = end + 1) {
        if (!(end = strchr(line, '\n'))) break;
        *end = '\0';
        handle_line(fd, line);
    }
}

int main(int argc, char **argv) {
    unblock_signals();
    if (argc != 2) { fprintf(stderr, "usage: fanout-server SOCKET\n"); return 64; }
    raise_fd_limit();
    serve_unix(argv[1], readable);
}
