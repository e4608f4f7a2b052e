/* dbus-call: the D-Bus baseline of a request/response. A service thread owns
 * com.example.Bench and answers Status with a status-sized string; the main thread calls it
 * COUNT times through the bus and measures each round trip.
 *
 * usage: dbus-call BUS_ADDRESS COUNT RESPONSE_BYTES
 * prints "p50_us X p99_us Y" (after 10% warm-up calls, not counted) */
#define _GNU_SOURCE
#include <dbus/dbus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"

static char *response;

static void *serve(void *argument) {
    DBusConnection *connection = argument;
    while (dbus_connection_read_write(connection, -1)) {
        DBusMessage *message;
        while ((message = dbus_connection_pop_message(connection))) {
            if (dbus_message_is_method_call(message, "com.example.Bench", "Status")) {
                DBusMessage *reply = dbus_message_new_method_return(message);
                dbus_message_append_args(reply, DBUS_TYPE_STRING, &response, DBUS_TYPE_INVALID);
                dbus_connection_send(connection, reply, NULL);
                dbus_connection_flush(connection);
                dbus_message_unref(reply);
            }
            dbus_message_unref(message);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    unblock_signals();
    if (argc != 4) { fprintf(stderr, "usage: dbus-call BUS_ADDRESS COUNT RESPONSE_BYTES\n"); return 64; }
    int count = atoi(argv[2]), size = atoi(argv[3]);
    dbus_threads_init_default();
    response = malloc((size_t)size + 1);
    memset(response, 'x', (size_t)size);
    response[size] = 0;
    DBusConnection *service = open_bus(argv[1]);
    DBusError error;
    dbus_error_init(&error);
    if (dbus_bus_request_name(service, "com.example.Bench", DBUS_NAME_FLAG_DO_NOT_QUEUE, &error) != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
        fprintf(stderr, "name: %s\n", error.message ? error.message : "taken");
        return 2;
    }
    pthread_t thread;
    pthread_create(&thread, NULL, serve, service);
    DBusConnection *caller = open_bus(argv[1]);
    int warmup = count / 10;
    double *samples = calloc((size_t)count, sizeof *samples);
    for (int i = 0; i < warmup + count; i++) {
        DBusMessage *call = dbus_message_new_method_call("com.example.Bench", "/com/example/Bench", "com.example.Bench", "Status");
        double start = now_us();
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(caller, call, 5000, &error);
        double elapsed = now_us() - start;
        if (!reply) { fprintf(stderr, "call: %s\n", error.message); return 2; }
        dbus_message_unref(reply);
        dbus_message_unref(call);
        if (i >= warmup) samples[i - warmup] = elapsed;
    }
    qsort(samples, (size_t)count, sizeof *samples, compare_doubles);
    printf("p50_us %.1f p99_us %.1f\n", samples[count / 2], samples[count * 99 / 100]);
    return 0;
}
