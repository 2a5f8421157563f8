/*
 * perf_run.c - runs whole processes side by side and prints markdown rows of
 * paired ratios (bench/perf_bench.sh; bench/README.md, "Performance").
 *
 *   perf_run [--rounds R] [--target-ms T] [--max-runs K] [--label TEXT]
 *            [--warmups W] [--header] [--log FILE]
 *            [--assert[-cpu] NAME[/REF]<RATIO]... SPEC
 *
 * SPEC has one contender per line, four fields separated by tabs:
 *
 *   NAME  SETUP  COMMAND  NOTE
 *
 * The first line is the floor. SETUP is a shell command run before every run
 * of COMMAND and not timed (a fresh database), or "-". COMMAND is words
 * separated by spaces ('single quotes' keep spaces in a word, and are
 * removed): leading NAME=VALUE words go to the environment, the rest is
 * executed directly (fork, exec, wait4: no shell in the timing); "sh:" before
 * it runs the rest with /bin/sh -c instead. NOTE is printed in the last
 * column ("-" for none). Lines starting with '#' are comments.
 *
 * Why paired: on a shared machine the median of a 5 ms program drifts by
 * +-40% between two series taken minutes apart, while the ratio of two
 * programs run in the same moment stays within a few percent. So every
 * round runs every contender, their runs spread evenly over the round and
 * interleaved (floor, strata, peer, floor, strata, ..., in an order that
 * rotates each round), and each contender's round is divided by the floor's
 * round of the same round: the table gives the median and the range of
 * those paired ratios, next to the plain times.
 *
 * W warm-up runs per contender (2), their output appended to the log, check
 * that it works; the last sets how many runs make a round (about T ms, 1 to K);
 * a round's time is the mean of its runs. A contender that fails is shown as
 * failed and left out of the rounds; a failing floor is an error (exit 2).
 * Besides wall time, each run's CPU time (user + system, from wait4) is
 * paired the same way: it leaves out the waiting (for a core, for the disk),
 * so it moves less with the machine's load, and says less about I/O.
 *
 * --assert makes the exit status 1 when NAME's paired median wall-time ratio
 * to the floor (or to the contender REF) is at or above RATIO, or NAME failed;
 * --assert-cpu the same with CPU time. Nothing else is ever asserted, never a
 * time.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONTENDERS 32
#define MAX_ROUNDS     200
#define MAX_WORDS      64
#define MAX_ASSERTS    8

typedef struct contender {
    char *name, *setup, *note;
    char *words[MAX_WORDS + 1]; /* the command, NULL-terminated */
    char *env[MAX_WORDS + 1];   /* NAME=VALUE words, NULL-terminated */
    int shell;                  /* "sh:" */
    int runs;                   /* per round, from the warm-up */
    int failed;
    double round_ms[MAX_ROUNDS];  /* wall time, mean of the round's runs */
    double round_cpu[MAX_ROUNDS]; /* user + system time of the process */
    double cpu_ms;                /* of the last run */
    long maxrss_kb;
} contender;

static contender cs[MAX_CONTENDERS];
static int ncs;
static const char *logpath;

#if defined(__GNUC__)
#define PRINTF_LIKE __attribute__((format(printf, 1, 2)))
#else
#define PRINTF_LIKE
#endif
static void die(const char *fmt, ...) PRINTF_LIKE;
static void log_line(const char *fmt, ...) PRINTF_LIKE;

static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("perf_run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *dup_str(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        die("out of memory");
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Splits `cmd` (modified in place) into the contender's env and words. */
static void parse_command(contender *c, char *cmd)
{
    int nw = 0, ne = 0;
    char *p = cmd;

    if (strncmp(p, "sh:", 3) == 0) {
        c->shell = 1;
        c->words[0] = p + 3;
        c->words[1] = NULL;
        return;
    }
    while (*p) {
        char *w, *o;
        int quoted = 0;
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        /* the word is copied onto itself without its quotes */
        w = o = p;
        while (*p && (quoted || *p != ' ')) {
            if (*p == '\'')
                quoted = !quoted;
            else
                *o++ = *p;
            p++;
        }
        if (quoted)
            die("%s: unclosed quote in the command", c->name);
        if (*p)
            p++;
        *o = '\0';
        if (nw == 0 && strchr(w, '=') && w[0] != '=' && w[0] != '/' && w[0] != '.') {
            if (ne == MAX_WORDS)
                die("%s: too many environment words", c->name);
            c->env[ne++] = w;
        } else {
            if (nw == MAX_WORDS)
                die("%s: too many words", c->name);
            c->words[nw++] = w;
        }
    }
    if (nw == 0)
        die("%s: empty command", c->name);
    c->words[nw] = NULL;
    c->env[ne] = NULL;
}

static void read_spec(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[16384];

    if (!f)
        die("%s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        char *field[4], *p = line;
        size_t len = strlen(line);
        int k;
        contender *c;

        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        for (k = 0; k < 4; k++) {
            char *tab = strchr(p, '\t');
            if (!tab && k < 3)
                die("%s: a line needs four tab-separated fields: %s", path, line);
            field[k] = p;
            if (tab) {
                *tab = '\0';
                p = tab + 1;
            }
        }
        if (ncs == MAX_CONTENDERS)
            die("%s: more than %d contenders", path, MAX_CONTENDERS);
        c = &cs[ncs++];
        c->name = dup_str(field[0], strlen(field[0]));
        c->setup = strcmp(field[1], "-") ? dup_str(field[1], strlen(field[1])) : NULL;
        c->note = dup_str(field[3], strlen(field[3]));
        parse_command(c, dup_str(field[2], strlen(field[2])));
    }
    fclose(f);
    if (ncs == 0)
        die("%s: no contender", path);
}

/* Runs the setup (untimed): 0 on success. Output goes to the log. */
static int run_setup(const contender *c)
{
    char cmd[16384];
    if (!c->setup)
        return 0;
    if (logpath)
        snprintf(cmd, sizeof(cmd), "(%s) </dev/null >>'%s' 2>&1", c->setup, logpath);
    else
        snprintf(cmd, sizeof(cmd), "(%s) </dev/null >/dev/null 2>&1", c->setup);
    return system(cmd) == 0 ? 0 : -1;
}

/* One run of the command; returns its wall time in ms, or -1 when it fails.
 * Output goes to the log when `logged`, else to /dev/null. */
static double run_once(contender *c, int logged)
{
    struct rusage ru;
    double t0, t1;
    pid_t pid;
    int status, i;

    fflush(NULL);
    t0 = now_ms();
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = logged && logpath ? open(logpath, O_WRONLY | O_APPEND | O_CREAT, 0644)
                                    : open("/dev/null", O_WRONLY);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(126);
        for (i = 0; c->env[i]; i++)
            putenv(c->env[i]);
        if (c->shell)
            execl("/bin/sh", "sh", "-c", c->words[0], (char *)NULL);
        else
            execvp(c->words[0], c->words);
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            die("wait4: %s", strerror(errno));
    t1 = now_ms();
    c->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    if (ru.ru_maxrss > c->maxrss_kb)
        c->maxrss_kb = ru.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return t1 - t0;
}

static void log_line(const char *fmt, ...)
{
    FILE *f;
    va_list ap;
    if (!logpath || !(f = fopen(logpath, "a")))
        return;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Milliseconds with three significant digits or so. */
static void fmt_ms(char *buf, size_t n, double ms)
{
    if (ms < 10)
        snprintf(buf, n, "%.2f", ms);
    else if (ms < 100)
        snprintf(buf, n, "%.1f", ms);
    else
        snprintf(buf, n, "%.0f", ms);
}

static long parse_long(const char *s, const char *what, long lo, long hi)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        die("bad %s '%s' (%ld to %ld)", what, s, lo, hi);
    return v;
}

static contender *find(const char *name)
{
    int k;
    for (k = 0; k < ncs; k++)
        if (strcmp(cs[k].name, name) == 0)
            return &cs[k];
    return NULL;
}

/* The median over the rounds of c's time divided by ref's in the same round,
 * and the range of those ratios. */
static double paired(const contender *c, const contender *ref, int cpu, long rounds, double *lo,
                     double *hi)
{
    double ratio[MAX_ROUNDS], m;
    long r;
    for (r = 0; r < rounds; r++) {
        double a = cpu ? c->round_cpu[r] : c->round_ms[r];
        double b = cpu ? ref->round_cpu[r] : ref->round_ms[r];
        ratio[r] = b > 0 ? a / b : 0;
    }
    m = median(ratio, (int)rounds);
    if (lo)
        *lo = ratio[0];
    if (hi)
        *hi = ratio[rounds - 1];
    return m;
}

/* The plain median over the rounds, and the range. */
static double plain(const contender *c, int cpu, long rounds, double *lo, double *hi)
{
    double v[MAX_ROUNDS], m;
    long r;
    for (r = 0; r < rounds; r++)
        v[r] = cpu ? c->round_cpu[r] : c->round_ms[r];
    m = median(v, (int)rounds);
    *lo = v[0];
    *hi = v[rounds - 1];
    return m;
}

typedef struct check {
    char *name, *ref; /* ref NULL: the floor */
    double max;
    int cpu;
} check;

static void print_rows(const char *label, long rounds, int header)
{
    int k;

    if (header) {
        printf("| N | contender | median ms | min-max ms | / floor, paired | paired min-max "
               "| CPU ms | CPU / floor | runs | peak RSS MB | notes |\n");
        printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    }
    for (k = 0; k < ncs; k++) {
        const contender *c = &cs[k];
        const char *note = strcmp(c->note, "-") ? c->note : "";
        char m[32], a[32], b[32], cm[32];
        double lo, hi;

        if (c->failed) {
            printf("| %s | %s | failed | | | | | | | | see the log%s%s |\n", label, c->name,
                   logpath ? " " : "", logpath ? logpath : "");
            continue;
        }
        fmt_ms(m, sizeof(m), plain(c, 0, rounds, &lo, &hi));
        fmt_ms(a, sizeof(a), lo);
        fmt_ms(b, sizeof(b), hi);
        fmt_ms(cm, sizeof(cm), plain(c, 1, rounds, &lo, &hi));
        printf("| %s | %s | %s | %s-%s | ", label, c->name, m, a, b);
        if (k == 0) {
            printf("floor | | %s | floor | ", cm);
        } else {
            double rm = paired(c, &cs[0], 0, rounds, &lo, &hi);
            printf("**%.2f** | %.2f-%.2f | %s | %.2f | ", rm, lo, hi, cm,
                   paired(c, &cs[0], 1, rounds, NULL, NULL));
        }
        printf("%ldx%d | %.1f | %s |\n", rounds, c->runs, (double)c->maxrss_kb / 1024.0, note);
    }
}

/* The checks of --assert: 0 when all hold. */
static int run_checks(const check *checks, int n, const char *label, long rounds)
{
    int i, status = 0;

    for (i = 0; i < n; i++) {
        const check *x = &checks[i];
        const contender *c = find(x->name), *ref = x->ref ? find(x->ref) : &cs[0];
        const char *what = x->cpu ? "CPU time" : "wall time";
        double got;

        if (!c || !ref) {
            fprintf(stderr, "perf_run: --assert names no contender: %s\n", c ? x->ref : x->name);
            status = 1;
            continue;
        }
        if (c->failed || ref->failed || c == ref) {
            fprintf(stderr, "perf_run: N=%s %s: failed, or compared with itself\n", label, x->name);
            status = 1;
            continue;
        }
        got = paired(c, ref, x->cpu, rounds, NULL, NULL);
        fprintf(stderr, "perf_run: N=%s %s: %s %.2fx %s's, paired median: %s %.2f\n", label,
                c->name, what, got, ref->name, got < x->max ? "under" : "NOT under", x->max);
        if (got >= x->max)
            status = 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    long rounds = 7, target_ms = 100, max_runs = 50, warmups = 2;
    const char *label = "";
    check checks[MAX_ASSERTS];
    int nchecks = 0, header = 0, slots = 1, i, r, k;

    for (i = 1; i < argc - 1; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 2 < argc)
            rounds = parse_long(argv[++i], "--rounds", 1, MAX_ROUNDS);
        else if (strcmp(argv[i], "--target-ms") == 0 && i + 2 < argc)
            target_ms = parse_long(argv[++i], "--target-ms", 0, 600000);
        else if (strcmp(argv[i], "--max-runs") == 0 && i + 2 < argc)
            max_runs = parse_long(argv[++i], "--max-runs", 1, 100000);
        else if (strcmp(argv[i], "--warmups") == 0 && i + 2 < argc)
            warmups = parse_long(argv[++i], "--warmups", 1, 10);
        else if (strcmp(argv[i], "--label") == 0 && i + 2 < argc)
            label = argv[++i];
        else if (strcmp(argv[i], "--log") == 0 && i + 2 < argc)
            logpath = argv[++i];
        else if (strcmp(argv[i], "--header") == 0)
            header = 1;
        else if ((strcmp(argv[i], "--assert") == 0 || strcmp(argv[i], "--assert-cpu") == 0) &&
                 i + 2 < argc) {
            check *x = &checks[nchecks];
            char *spec = argv[i + 1], *lt = strrchr(spec, '<'), *slash, *end;
            if (!lt || lt == spec || nchecks == MAX_ASSERTS)
                die("bad %s '%s' (NAME[/REF]<RATIO)", argv[i], spec);
            x->cpu = strcmp(argv[i++], "--assert-cpu") == 0;
            *lt = '\0';
            slash = strchr(spec, '/');
            if (slash)
                *slash = '\0';
            x->name = spec;
            x->ref = slash ? slash + 1 : NULL;
            x->max = strtod(lt + 1, &end);
            if (*end || x->max <= 0)
                die("bad --assert ratio '%s'", lt + 1);
            nchecks++;
        } else
            break;
    }
    if (i != argc - 1 || argv[i][0] == '-') {
        fprintf(stderr,
                "usage: perf_run [--rounds R] [--target-ms T] [--max-runs K] [--warmups W]\n"
                "                [--label TEXT] [--header] [--log FILE]\n"
                "                [--assert[-cpu] NAME[/REF]<RATIO]... SPEC\n");
        return 2;
    }
    read_spec(argv[i]);
    signal(SIGPIPE, SIG_IGN);

    /* Warm-up: does it work, and how many runs make a round. */
    for (k = 0; k < ncs; k++) {
        contender *c = &cs[k];
        double t = -1;
        long w;
        log_line("== perf_run %s: warm-up of %s\n", label, c->name);
        for (w = 0; w < warmups && !c->failed; w++) {
            if (run_setup(c) != 0) {
                c->failed = 1;
                log_line("== %s: setup failed: %s\n", c->name, c->setup);
            } else if ((t = run_once(c, 1)) < 0) {
                c->failed = 1;
                log_line("== %s: the command failed\n", c->name);
            }
        }
        if (!c->failed) {
            long runs = t > 0 ? (long)((double)target_ms / t) : max_runs;
            c->runs = (int)(runs < 1 ? 1 : runs > max_runs ? max_runs : runs);
        }
        if (c->failed && k == 0)
            die("the floor (%s) failed%s%s", c->name, logpath ? ": see " : "",
                logpath ? logpath : "");
        if (c->failed)
            fprintf(stderr, "perf_run: %s failed%s%s\n", c->name, logpath ? ": see " : "",
                    logpath ? logpath : "");
    }

    /* A round has `slots` slots (the most runs any contender makes in a
     * round); a contender with k runs runs in the k slots where
     * (j * k + slots / 2) / slots steps up: spread evenly and centred, so
     * that a contender with one run per round runs mid-round, not last. */
    for (k = 0; k < ncs; k++)
        if (!cs[k].failed && cs[k].runs > slots)
            slots = cs[k].runs;
    for (r = 0; r < rounds; r++) {
        double sum[MAX_CONTENDERS] = {0}, cpu[MAX_CONTENDERS] = {0};
        int j;
        for (j = 0; j < slots; j++) {
            for (i = 0; i < ncs; i++) {
                contender *c = &cs[(i + r) % ncs];
                double t;
                long half = slots / 2;
                if (c->failed ||
                    ((long)j * c->runs + half) / slots == ((long)(j + 1) * c->runs + half) / slots)
                    continue;
                if (run_setup(c) != 0 || (t = run_once(c, 0)) < 0) {
                    c->failed = 1;
                    log_line("== %s: a run of round %d failed\n", c->name, r);
                    continue;
                }
                sum[c - cs] += t;
                cpu[c - cs] += c->cpu_ms;
            }
        }
        if (cs[0].failed)
            die("the floor (%s) failed in round %d", cs[0].name, r);
        for (k = 0; k < ncs; k++) {
            if (!cs[k].failed) {
                cs[k].round_ms[r] = sum[k] / cs[k].runs;
                cs[k].round_cpu[r] = cpu[k] / cs[k].runs;
            }
        }
    }

    print_rows(label, rounds, header);
    fflush(stdout);
    return run_checks(checks, nchecks, label, rounds);
}
