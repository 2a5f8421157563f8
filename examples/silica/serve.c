/*
 * serve.c - silica_serve: the probe endpoints of a long-lived silica, over
 * plain sockets, one request at a time (a probe is a few bytes each way).
 *
 * Two threads. The startup thread runs strata_startup, which may wait for
 * the migration lock and run a long migration; the main thread listens from
 * the start, so /healthz answers during all of it and /readyz says "not
 * ready" instead of hanging. Until the startup returns, /readyz reads the
 * database through a handle of its own (strata_open; the startup's handle
 * belongs to the startup thread); after it, through the application's handle,
 * which the main thread then owns alone. Signals are turned into a byte on a
 * pipe that the main thread polls with the socket.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long one client may take to send its request. */
#define REQUEST_TIMEOUT_MS 2000
/* A probe's handle waits at most this long for SQLite's write lock. */
#define PROBE_BUSY_MS 1000

/* The signal handler's only ways out: a byte in the pipe the main thread
 * polls, and the flag strata polls while the startup migration runs
 * (strata_options.interrupt), which stops it as strata_interrupt would. */
static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_asked;

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    ssize_t n = write(signal_pipe[1], &c, 1); /* a full pipe already holds a byte */
    (void)n;
    stop_asked = 1;
    errno = saved;
}

__attribute__((format(printf, 3, 4))) static void say(const strata_options *opts, int level,
                                                      const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (!opts->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    opts->log(opts->log_ctx, level, msg);
}

struct startup {
    const strata_bundle *bundle;
    const strata_options *opts;
    strata *h;    /* the application's handle, on success */
    int status;   /* strata_startup's */
    int done_out; /* written once when strata_startup has returned */
};

static void *startup_main(void *arg)
{
    struct startup *s = arg;
    ssize_t n;
    s->status = strata_startup(&s->h, &s->bundle, 1, s->opts);
    n = write(s->done_out, "x", 1);
    (void)n;
    return NULL;
}

static int set_flags(int fd, int nonblock)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -1;
    return nonblock ? fcntl(fd, F_SETFL, fl | O_NONBLOCK) : 0;
}

/* An IPv4 listening socket on address:port; *bound is the port it got. */
static int listen_on(const char *address, unsigned port, unsigned *bound)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd, one = 1;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (port > 65535 || inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    if (set_flags(fd, 0) < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

/* The readiness verdict: 1 when the database is at the binary's heads. */
static int readiness(strata *db, const char *open_error, char *why, size_t n)
{
    const strata_report *r;

    if (!db) {
        snprintf(why, n, "not ready: %s\n", open_error);
        return 0;
    }
    if (strata_report_read(&r, db) != STRATA_OK) {
        snprintf(why, n, "not ready: %s\n", strata_errmsg(db));
        return 0;
    }
    if (r->npending || r->nedited || r->ndirty) {
        snprintf(why, n, "not ready: %s: %zu pending, %zu edited, %zu dirty\n",
                 strata_namespace(db), r->npending, r->nedited, r->ndirty);
        return 0;
    }
    snprintf(why, n, "ready: %s at %s (%zu applied)\n", strata_namespace(db),
             r->nheads == 1 ? r->heads[0] : "heads", r->napplied);
    return 1;
}

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client went away */
        p += n;
        len -= (size_t)n;
    }
}

/* Reads one request (its head: a probe sends no body), answers, closes. */
static void handle_client(int fd, strata *db, const char *open_error)
{
    char req[2048], body[1024], head[256], method[8], path[64];
    size_t len = 0, plen;
    const char *p, *status;
    int code, hn;

    while (len < sizeof req - 1) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;
        if (poll(&pfd, 1, REQUEST_TIMEOUT_MS) <= 0)
            break;
        n = read(fd, req + len, sizeof req - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[len] = '\0';

    /* "METHOD /path[?query] HTTP/1.x" */
    method[0] = path[0] = '\0';
    p = strchr(req, ' ');
    if (p && (size_t)(p - req) < sizeof method) {
        memcpy(method, req, (size_t)(p - req));
        method[p - req] = '\0';
        plen = strcspn(p + 1, " ?\r\n");
        if (plen < sizeof path) {
            memcpy(path, p + 1, plen);
            path[plen] = '\0';
        }
    }
    if (!method[0] || path[0] != '/') {
        code = 400, status = "Bad Request";
        snprintf(body, sizeof body, "bad request\n");
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        code = 405, status = "Method Not Allowed";
        snprintf(body, sizeof body, "GET or HEAD\n");
    } else if (strcmp(path, "/healthz") == 0) {
        code = 200, status = "OK";
        snprintf(body, sizeof body, "ok\n");
    } else if (strcmp(path, "/readyz") == 0) {
        int ok = readiness(db, open_error, body, sizeof body);
        code = ok ? 200 : 503, status = ok ? "OK" : "Service Unavailable";
    } else {
        code = 404, status = "Not Found";
        snprintf(body, sizeof body, "not found: /healthz, /readyz\n");
    }
    hn = snprintf(head, sizeof head,
                  "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                  code, status, strlen(body));
    write_all(fd, head, (size_t)hn);
    if (strcmp(method, "HEAD") != 0)
        write_all(fd, body, strlen(body));
    shutdown(fd, SHUT_WR);
    close(fd);
}

int silica_serve(const strata_bundle *bundle, const strata_options *opts, const char *address,
                 unsigned port)
{
    strata_options start_opts = *opts;
    struct startup s = {bundle, &start_opts, NULL, STRATA_OK, -1};
    struct sigaction sa;
    sigset_t block, old;
    strata_options probe_opts = *opts;
    strata *probe = NULL;
    char open_error[512] = "";
    pthread_t thread;
    int lfd, done[2] = {-1, -1}, starting = 1, signals = 0, rc = 0;
    unsigned bound = 0;

    if ((lfd = listen_on(address, port, &bound)) < 0) {
        say(opts, STRATA_LOG_ERROR, "cannot listen on %s:%u: %s", address, port, strerror(errno));
        return 1;
    }
    if (pipe(signal_pipe) < 0 || pipe(done) < 0 || set_flags(signal_pipe[0], 1) < 0 ||
        set_flags(signal_pipe[1], 1) < 0 || set_flags(done[0], 0) < 0 ||
        set_flags(done[1], 0) < 0) {
        say(opts, STRATA_LOG_ERROR, "pipe: %s", strerror(errno));
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* a client that hangs up is not fatal */
    say(opts, STRATA_LOG_INFO, "Listening on http://%s:%u (GET /healthz, GET /readyz)", address,
        bound);

    /* The probe's own handle: quiet (startup logs), and never long behind a lock. */
    start_opts.interrupt = &stop_asked;
    probe_opts.log = NULL;
    probe_opts.lock_wait_ms = PROBE_BUSY_MS;
    if (strata_open(&probe, bundle, &probe_opts) != STRATA_OK) {
        snprintf(open_error, sizeof open_error, "%s", strata_errmsg(probe));
        strata_close(probe);
        probe = NULL;
    }

    /* The startup thread takes no signal: they are the main thread's. */
    s.done_out = done[1];
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (pthread_create(&thread, NULL, startup_main, &s) != 0) {
        say(opts, STRATA_LOG_ERROR, "cannot start the startup thread");
        strata_close(probe);
        return 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    for (;;) {
        struct pollfd fds[3] = {{signal_pipe[0], POLLIN, 0},
                                {starting ? done[0] : -1, POLLIN, 0}, /* < 0: not polled */
                                {lfd, POLLIN, 0}};
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            say(opts, STRATA_LOG_ERROR, "poll: %s", strerror(errno));
            rc = 1;
            break;
        }
        if (fds[0].revents & POLLIN) {
            unsigned char sig[16];
            ssize_t n = read(signal_pipe[0], sig, sizeof sig);
            if (n > 0 && !starting) {
                say(opts, STRATA_LOG_INFO, "Shutting down (%s)",
                    sig[0] == SIGTERM ? "SIGTERM" : "SIGINT");
                break;
            }
            if (n > 0 && ++signals == 1) {
                /* The handler set stop_asked: strata cancels the statement in
                 * progress, rolls its transaction back and releases the lock. */
                say(opts, STRATA_LOG_INFO,
                    "%s during startup: interrupting the migration step (again: stop now)",
                    sig[0] == SIGTERM ? "SIGTERM" : "SIGINT");
            } else if (n > 0) {
                say(opts, STRATA_LOG_WARN,
                    "stopping now, during startup: the database rolls "
                    "back the migration in progress");
                return 1; /* the startup thread ends with the process */
            }
        }
        if (starting && (fds[1].revents & POLLIN)) {
            pthread_join(thread, NULL);
            starting = 0;
            strata_close(probe);
            probe = NULL;
            if (s.status != STRATA_OK) {
                rc = strata_exit_code(s.status); /* the logger has said why */
                if (signals)
                    say(opts, STRATA_LOG_INFO, "Shutting down (signalled during startup)");
                break;
            }
            if (signals) {
                say(opts, STRATA_LOG_INFO, "Shutting down (signalled during startup)");
                break;
            }
            say(opts, STRATA_LOG_INFO, "Application startup complete");
        }
        if (fds[2].revents & POLLIN) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd >= 0)
                handle_client(cfd, starting ? probe : s.h, open_error);
        }
    }
    close(lfd);
    close(done[0]);
    close(done[1]);
    strata_close(probe);
    strata_close(s.h);
    if (rc == 0)
        say(opts, STRATA_LOG_INFO, "Application shutdown complete");
    return rc;
}
