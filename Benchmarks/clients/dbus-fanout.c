/* dbus-fanout: the D-Bus baseline of the event fan-out. CLIENTS connections to a (private)
 * bus each subscribe to one signal; each round another connection emits it, and the time
 * from the send to the last subscriber reading it is measured.
 *
 * usage: dbus-fanout BUS_ADDRESS CLIENTS ROUNDS [PAUSE_US]   (as fanout)
 * prints one line per round ("round N us X"), then "median_us X" and "first_median_us X", and
 * the CPU time per round of dbus-daemon ("server_cpu_us X") and of this generator ("generator_cpu_us X"). */
#define _GNU_SOURCE
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

/* Reads what is there and counts the Event signals received. */
static int received(DBusConnection *connection) {
    int count = 0;
    dbus_connection_read_write(connection, 0);
    DBusMessage *message;
    while ((message = dbus_connection_pop_message(connection))) {
        if (dbus_message_is_signal(message, "com.example.Bench", "Event")) count++;
        dbus_message_unref(message);
    }
    return count;
}

/* wait_for_all's view of a subscriber: the connections are the context. */
static int receive_signal(int index, void *context) {
    return received(((DBusConnection **)context)[index]);
}

int main(int argc, char **argv) {
    unblock_signals();
    if (argc != 4 && argc != 5) { fprintf(stderr, "usage: dbus-fanout BUS_ADDRESS CLIENTS ROUNDS [PAUSE_US]\n"); return 64; }
    const char *address = argv[1];
    int clients = atoi(argv[2]), rounds = atoi(argv[3]);
    useconds_t pause_us = argc == 5 ? (useconds_t)atoi(argv[4]) : 20000;
    raise_fd_limit();

    DBusConnection **subscribers = calloc((size_t)clients, sizeof *subscribers);
    int *pending = calloc((size_t)clients, sizeof *pending);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < clients; i++) {
        subscribers[i] = open_bus(address);
        DBusError error;
        dbus_error_init(&error);
        dbus_bus_add_match(subscribers[i], "type='signal',interface='com.example.Bench',member='Event'", &error);
        if (dbus_error_is_set(&error)) { fprintf(stderr, "match: %s\n", error.message); return 2; }
        int fd = -1;
        dbus_connection_get_unix_fd(subscribers[i], &fd);
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }
    DBusConnection *emitter = open_bus(address);
    /* The payload of a typical event line of ours, so that both carry the same bytes. */
    const char *payload = "{\"jsonrpc\":\"2.0\",\"method\":\"onCheckForUpdate\",\"params\":{\"app\":\"com.example.bench\",\"hasUpdate\":false}}";
    struct epoll_event *events = calloc(4096, sizeof *events);
    double *samples = calloc((size_t)rounds, sizeof *samples), *firsts = calloc((size_t)rounds, sizeof *firsts);
    int bus_fd = -1;
    dbus_connection_get_unix_fd(emitter, &bus_fd);
    double server_before = peer_cpu_us(bus_fd), own_before = own_cpu_us();
    for (int round = 0; round < rounds; round++) {
        DBusMessage *signal = dbus_message_new_signal("/com/example/Bench", "com.example.Bench", "Event");
        dbus_message_append_args(signal, DBUS_TYPE_STRING, &payload, DBUS_TYPE_INVALID);
        double start = now_us();
        dbus_connection_send(emitter, signal, NULL);
        dbus_connection_flush(emitter);
        dbus_message_unref(signal);
        double first = 0, last = wait_for_all(epoll, events, pending, clients, receive_signal, subscribers, round, &first);
        if (last < 0) return 2;
        samples[round] = last - start;
        firsts[round] = first - start;
        printf("round %d us %.1f\n", round, samples[round]);
        usleep(pause_us);
    }
    double own_after = own_cpu_us(), server_after = peer_cpu_us(bus_fd);
    print_fanout_medians(samples, firsts, rounds);
    print_cpu_per_round(server_before, server_after, own_before, own_after, rounds);
    return 0;
}
