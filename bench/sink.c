/* A TCP sink for bench/network.sh's bulk transfer: listens on the port
 * given (all addresses), takes one connection, reads it to its end with a
 * large buffer and closes it. Built static and put in the benchmark's
 * busybox image, so that the receiver is not what limits the transfer
 * (busybox nc reads a few KiB at a time). */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    static char buf[1 << 20];
    struct sockaddr_in addr = {.sin_family = AF_INET};
    int one = 1, l, c;
    long long total = 0;
    ssize_t n;

    if (argc != 2) {
        fprintf(stderr, "usage: sink PORT\n");
        return 2;
    }
    addr.sin_port = htons(atoi(argv[1]));
    l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(l, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(l, 1) < 0) {
        perror("sink: listening");
        return 1;
    }
    c = accept(l, NULL, NULL);
    if (c < 0) {
        perror("sink: accepting");
        return 1;
    }
    while ((n = read(c, buf, sizeof buf)) > 0)
        total += n;
    if (n < 0) {
        perror("sink: reading");
        return 1;
    }
    fprintf(stderr, "sink: %lld bytes\n", total);
    close(c);
    return 0;
}
