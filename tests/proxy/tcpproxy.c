/*
 * tcpproxy - a TCP proxy on loopback for the PostgreSQL tests. It sits
 * between strata and the test server and breaks a connection at a chosen
 * moment, as a network, a pooler or a middlebox does: it cuts (closes both
 * sides), resets (closes both sides with RST) or stalls (stops forwarding in
 * both directions and keeps both sides open: the peers see a live but silent
 * connection, and TCP keepalives are still answered by this host's kernel).
 *
 *   tcpproxy --target HOST:PORT [--listen PORT] [--port-file FILE] [--log FILE]
 *            [--conn K] [--after-bytes N | --after-messages N | --on-text TEXT]
 *            [--before] [--action cut|reset|stall] [--all]
 *
 * The trigger watches what the client sends (client to server) on the K-th
 * connection accepted (--conn K, 1-based; any connection without it) and
 * fires once:
 *   --after-bytes N     once exactly N bytes of the client have been passed on
 *   --after-messages N  once the client's N-th protocol message has been passed
 *                       on (the SSLRequest and the startup packet count)
 *   --on-text TEXT      once a client message holding TEXT has been passed on
 *                       (with --before: before it is passed on, so the server
 *                       never sees it)
 * The action applies to that connection, or to every connection with --all
 * (a stall with --all also stalls every connection accepted later: a hung
 * pooler). Signals act at once, on every connection:
 *   SIGUSR1  cut;  SIGUSR2  stall (and every later connection);
 *   SIGHUP   resume: stalled connections forward what they hold and go on;
 *   SIGTERM, SIGINT  exit.
 * The client's bytes are passed on message by message (the PostgreSQL
 * protocol's framing: an untyped startup packet, then a type byte and a
 * length), so a text or message trigger acts on message boundaries; a byte
 * trigger may fall inside a message.
 *
 * The log (stderr, or --log) has one line per event, e.g.
 *   [   412 ms] conn 1: stall after 2215 client bytes, 9 messages (message 'Q' holds "COMMIT")
 *   [   988 ms] conn 2: closed by the client: client 310 bytes, 6 messages; server 512 bytes
 * and --port-file gets the port listened on (--listen 0, the default: any).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ACT_CUT, ACT_RESET, ACT_STALL };

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

typedef struct conn {
    int id;
    int cfd, sfd; /* client and server sockets */
    int stalled;
    int typed;     /* past the startup packet: messages have a type byte */
    int raw;       /* TLS or unreadable framing: bytes pass unjudged */
    int ssl_asked; /* an SSLRequest or GSSENCRequest awaits the server's one-byte answer */
    buf up;        /* from the client, not yet judged */
    buf to_server; /* judged, to be written to the server */
    buf to_client;
    unsigned long long up_bytes, down_bytes; /* passed on, each way */
    unsigned long msgs;                      /* client messages passed on */
    struct conn *next;
} conn;

static struct {
    long long after_bytes;
    long after_msgs;
    const char *text;
    int before, action, all, conn_k, fired;
} trig = {-1, -1, NULL, 0, ACT_CUT, 0, 0, 0};

static FILE *logfile;
static struct timespec t0;
static conn *conns;
static int nconns, global_stall;
static volatile sig_atomic_t sig_cut, sig_stall, sig_resume, sig_exit;

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void
say(const char *fmt, ...)
{
    struct timespec t;
    va_list ap;
    long ms;

    clock_gettime(CLOCK_MONOTONIC, &t);
    ms = (long)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
    fprintf(logfile, "[%6ld ms] ", ms);
    va_start(ap, fmt);
    vfprintf(logfile, fmt, ap);
    va_end(ap);
    fputc('\n', logfile);
    fflush(logfile);
}

static void die(const char *what)
{
    fprintf(stderr, "tcpproxy: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void buf_add(buf *b, const char *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *q;
        while (cap < b->len + n)
            cap *= 2;
        if (!(q = realloc(b->p, cap)))
            die("out of memory");
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_drop(buf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static unsigned long be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (unsigned long)u[0] << 24 | (unsigned long)u[1] << 16 | (unsigned long)u[2] << 8 | u[3];
}

static int holds(const char *p, size_t n, const char *text)
{
    size_t k = strlen(text), i;
    for (i = 0; k && i + k <= n; i++)
        if (memcmp(p + i, text, k) == 0)
            return 1;
    return 0;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        die("fcntl");
}

static void close_conn(conn *c, const char *why, int reset)
{
    conn **pp;

    if (reset) {
        struct linger l = {1, 0};
        setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        setsockopt(c->sfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    close(c->cfd);
    close(c->sfd);
    say("conn %d: %s: client %llu bytes, %lu messages; server %llu bytes", c->id, why, c->up_bytes,
        c->msgs, c->down_bytes);
    for (pp = &conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    free(c->up.p);
    free(c->to_server.p);
    free(c->to_client.p);
    free(c);
}

static int flush_to(int fd, buf *b);

/* What was passed on before the trigger reaches the server first (a reset
 * may still discard it: RST drops what the kernel has not sent). */
static void act(conn *c, int action)
{
    flush_to(c->sfd, &c->to_server);
    if (action == ACT_STALL)
        c->stalled = 1;
    else
        close_conn(c, action == ACT_RESET ? "reset" : "cut", action == ACT_RESET);
}

/* Fires the trigger on c (and on every connection with --all). */
static void fire(conn *c, const char *detail)
{
    static const char *const names[] = {"cut", "reset", "stall"};
    conn *x, *next;

    trig.fired = 1;
    say("conn %d: %s%s after %llu client bytes, %lu messages%s", c->id, names[trig.action],
        trig.all ? " (every connection)" : "", c->up_bytes, c->msgs, detail);
    if (!trig.all) {
        act(c, trig.action);
        return;
    }
    if (trig.action == ACT_STALL)
        global_stall = 1;
    for (x = conns; x; x = next) {
        next = x->next;
        act(x, trig.action);
    }
}

static int armed(const conn *c)
{
    return !trig.fired && (trig.after_bytes >= 0 || trig.after_msgs >= 0 || trig.text) &&
           (trig.conn_k == 0 || trig.conn_k == c->id);
}

static void pass(conn *c, size_t n)
{
    buf_add(&c->to_server, c->up.p, n);
    buf_drop(&c->up, n);
    c->up_bytes += n;
}

/* Length of the complete message at the head of c->up, 0 while incomplete;
 * switches c to raw when the framing cannot be read. */
static size_t message_length(conn *c)
{
    unsigned long len;

    if (c->raw)
        return c->up.len;
    if (!c->typed) {
        if (c->up.len < 8)
            return 0;
        len = be32(c->up.p);
        if (len < 8 || len > 10000) {
            c->raw = 1;
            return c->up.len;
        }
        return c->up.len >= len ? len : 0;
    }
    if (c->up.len < 5)
        return 0;
    len = be32(c->up.p + 1);
    if (len < 4) {
        c->raw = 1;
        return c->up.len;
    }
    return c->up.len >= len + 1 ? len + 1 : 0;
}

/* Passes on what the client sent, message by message, firing the trigger
 * where it says. Returns 0 when the connection is gone. */
static int judge(conn *c)
{
    char detail[200];
    size_t n;

    while (c->up.len && !c->stalled) {
        if (armed(c) && trig.after_bytes >= 0 &&
            (unsigned long long)trig.after_bytes - c->up_bytes <= c->up.len) {
            pass(c, (size_t)((unsigned long long)trig.after_bytes - c->up_bytes));
            fire(c, "");
            return trig.action == ACT_STALL; /* a cut closed c */
        }
        if (!(n = message_length(c)))
            return 1;
        snprintf(detail, sizeof(detail), " (message '%c' holds \"%.60s\")",
                 c->typed && !c->raw ? c->up.p[0] : '-', trig.text ? trig.text : "");
        if (!c->typed && !c->raw) {
            unsigned long code = be32(c->up.p + 4);
            c->ssl_asked = code == 80877103ul || code == 80877104ul;
            c->typed = !c->ssl_asked && code != 80877102ul;
        }
        if (armed(c) && trig.text && holds(c->up.p, n, trig.text)) {
            if (!trig.before) {
                pass(c, n);
                c->msgs++;
            }
            fire(c, detail);
            return trig.action == ACT_STALL;
        }
        pass(c, n);
        c->msgs++;
        if (armed(c) && trig.after_msgs >= 0 && c->msgs >= (unsigned long)trig.after_msgs) {
            fire(c, "");
            return trig.action == ACT_STALL;
        }
    }
    return 1;
}

/* Writes what b holds to fd, as much as it takes now. 0 on a broken socket. */
static int flush_to(int fd, buf *b)
{
    while (b->len) {
        ssize_t w = send(fd, b->p, b->len, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        buf_drop(b, (size_t)w);
    }
    return 1;
}

static int connect_target(const char *host, const char *port)
{
    struct addrinfo hints, *ai, *a;
    int fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    for (a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

static void accept_one(int lfd, const char *host, const char *port)
{
    int cfd = accept(lfd, NULL, NULL), sfd;
    conn *c, **tail;

    if (cfd < 0)
        return;
    if ((sfd = connect_target(host, port)) < 0) {
        say("conn %d: cannot connect to %s:%s: %s", nconns + 1, host, port, strerror(errno));
        close(cfd);
        return;
    }
    set_nonblock(cfd);
    set_nonblock(sfd);
    if (!(c = calloc(1, sizeof(*c))))
        die("out of memory");
    c->id = ++nconns;
    c->cfd = cfd;
    c->sfd = sfd;
    c->stalled = global_stall;
    for (tail = &conns; *tail; tail = &(*tail)->next)
        ;
    *tail = c;
    say("conn %d: open%s", c->id, c->stalled ? " (stalled: every connection is)" : "");
}

/* Reads what fd has into b; 0 at end of stream or on error. */
static int fill(int fd, buf *b)
{
    char chunk[65536];
    ssize_t r = recv(fd, chunk, sizeof(chunk), 0);

    if (r < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (r == 0)
        return 0;
    buf_add(b, chunk, (size_t)r);
    return 1;
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        sig_cut = 1;
    else if (sig == SIGUSR2)
        sig_stall = 1;
    else if (sig == SIGHUP)
        sig_resume = 1;
    else
        sig_exit = 1;
}

static void signals(void)
{
    conn *c, *next;

    if (sig_cut) {
        sig_cut = 0;
        say("SIGUSR1: cut every connection");
        for (c = conns; c; c = next) {
            next = c->next;
            close_conn(c, "cut", 0);
        }
    }
    if (sig_stall) {
        sig_stall = 0;
        say("SIGUSR2: stall every connection, and every later one");
        global_stall = 1;
        for (c = conns; c; c = c->next)
            c->stalled = 1;
    }
    if (sig_resume) {
        sig_resume = 0;
        say("SIGHUP: resume");
        global_stall = 0;
        for (c = conns; c; c = c->next)
            c->stalled = 0;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: tcpproxy --target HOST:PORT [--listen PORT] [--port-file FILE] "
                    "[--log FILE] [--conn K] [--after-bytes N | --after-messages N | --on-text "
                    "TEXT] [--before] [--action cut|reset|stall] [--all]\n");
    exit(2);
}

static long long number(const char *s)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    const char *target = NULL, *port_file = NULL, *listen_port = "0";
    char host[256], port[16];
    struct sigaction sa;
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    int lfd, i, one = 1;

    logfile = stderr;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--before") || !strcmp(a, "--all")) {
            *(a[2] == 'b' ? &trig.before : &trig.all) = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--target"))
            target = v;
        else if (!strcmp(a, "--listen"))
            listen_port = v;
        else if (!strcmp(a, "--port-file"))
            port_file = v;
        else if (!strcmp(a, "--log")) {
            if (!(logfile = fopen(v, "a")))
                die(v);
        } else if (!strcmp(a, "--conn"))
            trig.conn_k = (int)number(v);
        else if (!strcmp(a, "--after-bytes"))
            trig.after_bytes = number(v);
        else if (!strcmp(a, "--after-messages"))
            trig.after_msgs = (long)number(v);
        else if (!strcmp(a, "--on-text"))
            trig.text = v;
        else if (!strcmp(a, "--action"))
            trig.action = !strcmp(v, "cut")     ? ACT_CUT
                          : !strcmp(v, "reset") ? ACT_RESET
                          : !strcmp(v, "stall") ? ACT_STALL
                                                : (usage(), 0);
        else
            usage();
    }
    if (!target || !strchr(target, ':') || (size_t)(strrchr(target, ':') - target) >= sizeof(host))
        usage();
    snprintf(host, sizeof(host), "%.*s", (int)(strrchr(target, ':') - target), target);
    snprintf(port, sizeof(port), "%s", strrchr(target, ':') + 1);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)number(listen_port));
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 64) < 0)
        die("bind/listen");
    if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
        die("getsockname");
    say("listening on 127.0.0.1:%u, forwarding to %s", (unsigned)ntohs(addr.sin_port), target);
    if (port_file) {
        char tmp[4096];
        FILE *f;
        snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
        if (!(f = fopen(tmp, "w")))
            die(tmp);
        fprintf(f, "%u\n", (unsigned)ntohs(addr.sin_port));
        if (fclose(f) != 0 || rename(tmp, port_file) != 0)
            die(port_file);
    }

    while (!sig_exit) {
        struct pollfd p[1 + 2 * 256];
        conn *c, *next, *at[256];
        int n = 1, k;

        signals();
        p[0].fd = lfd;
        p[0].events = POLLIN;
        for (c = conns, k = 0; c && k < 256; c = c->next, k++) {
            at[k] = c;
            p[n].fd = c->cfd;
            p[n].events = c->stalled ? 0 : (short)(POLLIN | (c->to_client.len ? POLLOUT : 0));
            p[n + 1].fd = c->sfd;
            p[n + 1].events = c->stalled ? 0 : (short)(POLLIN | (c->to_server.len ? POLLOUT : 0));
            n += 2;
        }
        if (poll(p, (nfds_t)n, 50) < 0 && errno != EINTR)
            die("poll");
        if (sig_cut || sig_stall || sig_resume || sig_exit)
            continue; /* at[] may name connections the signal closes */
        for (i = 0; i < k; i++) {
            short ce = p[1 + 2 * i].revents, se = p[2 + 2 * i].revents;
            int ok = 1;
            c = at[i];
            for (next = conns; next && next != c; next = next->next)
                ;
            if (!next || c->stalled)
                continue; /* closed or stalled by a trigger on this round */
            if (ce & (POLLIN | POLLHUP | POLLERR))
                ok = fill(c->cfd, &c->up);
            if (!ok) {
                flush_to(c->sfd, &c->to_server);
                close_conn(c, "closed by the client", 0);
                continue;
            }
            if (c->up.len && !judge(c))
                continue; /* cut by the trigger */
            for (next = conns; next && next != c; next = next->next)
                ;
            if (!next || c->stalled)
                continue;
            if (se & (POLLIN | POLLHUP | POLLERR)) {
                size_t before = c->to_client.len;
                ok = fill(c->sfd, &c->to_client);
                c->down_bytes += c->to_client.len - before;
                if (c->ssl_asked && c->to_client.len > before) {
                    char answer = c->to_client.p[before];
                    c->ssl_asked = 0;
                    c->raw = answer == 'S' || answer == 'G';
                }
            }
            if (!flush_to(c->sfd, &c->to_server) || !flush_to(c->cfd, &c->to_client) || !ok) {
                flush_to(c->cfd, &c->to_client);
                close_conn(c, ok ? "broken" : "closed by the server", 0);
            }
        }
        if (p[0].revents & POLLIN)
            accept_one(lfd, host, port);
        /* A resumed connection judges what it held while stalled. */
        for (c = conns; c; c = next) {
            next = c->next;
            if (!c->stalled && c->up.len)
                judge(c);
        }
    }
    say("exit");
    return 0;
}
