/*
 * bench_parsers.c - throughput of the parsers and of the JSON serializer on
 * the shared samples (`make bench`; not part of `make check`).
 *
 * Each benchmark loops over the records of a sample, single-threaded, for
 * about TG_BENCH_SECONDS of this thread's CPU time, and prints records/s and
 * MB/s (of record bytes) per core: CPU time, not wall time, so that other
 * load on the machine does not skew the figures.  A "parse" figure includes
 * what a worker does per record: tg_event_new (one malloc + copy), the
 * parse, tg_event_free.  Samples come from $TG_SHARED/samples.
 *
 * Usage: bench_parsers [seconds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "core/mem.h"
#include "parsers/parse.h"
#include "parsers/syslog.h"

struct tg_bench_set {
    char **rec;
    size_t *len;
    size_t n;
    size_t bytes;
};

static double tg_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Lines of $TG_SHARED/samples/name accepted by keep(); exits if unreadable. */
static struct tg_bench_set tg_bench_load(const char *name, const char *must_contain)
{
    const char *shared = getenv("TG_SHARED");
    char *path = tg_xasprintf("%s/samples/%s", shared ? shared : "../shared", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_parsers: cannot open %s (set TG_SHARED to the shared directory)\n",
                path);
        exit(2);
    }
    struct tg_bench_set s = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            n--;
        if (n == 0 ||
            (must_contain && !memmem(line, (size_t)n, must_contain, strlen(must_contain))))
            continue;
        s.rec = tg_xrealloc(s.rec, (s.n + 1) * sizeof(*s.rec));
        s.len = tg_xrealloc(s.len, (s.n + 1) * sizeof(*s.len));
        s.rec[s.n] = tg_xstrndup(line, (size_t)n);
        s.len[s.n] = (size_t)n;
        s.bytes += (size_t)n;
        s.n++;
    }
    free(line);
    fclose(f);
    free(path);
    return s;
}

static void tg_bench_free(struct tg_bench_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->rec[i]);
    free(s->rec);
    free(s->len);
}

static void tg_bench_report(const char *what, double recs, double bytes, double secs)
{
    printf("%-44s %12.0f records/s  %8.1f MB/s\n", what, recs / secs, bytes / secs / 1e6);
}

static double tg_bench_seconds = 2.0;

/* Parse every record of s with pc, repeatedly. */
static void tg_bench_parse(const char *what, const struct tg_parse_ctx *pc,
                           const struct tg_bench_set *s)
{
    struct tg_time now = tg_time_now();
    double t0 = tg_cpu_now(), t, recs = 0, bytes = 0;
    do {
        for (int rep = 0; rep < 100; rep++)
            for (size_t i = 0; i < s->n; i++) {
                struct tg_event *ev = tg_event_new(s->rec[i], s->len[i], NULL, now);
                tg_parse_event(pc, ev);
                tg_event_free(ev);
            }
        recs += 100.0 * s->n;
        bytes += 100.0 * s->bytes;
        t = tg_cpu_now() - t0;
    } while (t < tg_bench_seconds);
    tg_bench_report(what, recs, bytes, t);
}

static void tg_bench_envelope(const struct tg_bench_set *s)
{
    struct tg_time now = tg_time_now();
    double t0 = tg_cpu_now(), t, recs = 0, bytes = 0;
    do {
        for (int rep = 0; rep < 100; rep++)
            for (size_t i = 0; i < s->n; i++) {
                struct tg_event *ev = tg_event_new(s->rec[i], s->len[i], NULL, now);
                tg_syslog_parse(ev);
                tg_event_free(ev);
            }
        recs += 100.0 * s->n;
        bytes += 100.0 * s->bytes;
        t = tg_cpu_now() - t0;
    } while (t < tg_bench_seconds);
    tg_bench_report("syslog envelope (RFC 3164 + RFC 3339)", recs, bytes, t);
}

/* Serialize pre-parsed events (finish = event.id + serialize when with_id). */
static void tg_bench_serialize(const struct tg_parse_ctx *pc, const struct tg_bench_set *a,
                               const struct tg_bench_set *b, bool with_id)
{
    size_t n = a->n + b->n;
    struct tg_event **evs = tg_xcalloc(n, sizeof(*evs));
    struct tg_time now = tg_time_now();
    for (size_t i = 0; i < n; i++) {
        const struct tg_bench_set *s = i < a->n ? a : b;
        size_t k = i < a->n ? i : i - a->n;
        evs[i] = tg_event_new(s->rec[k], s->len[k], NULL, now);
        tg_parse_event(pc, evs[i]);
        tg_event_finish(evs[i]);
    }
    double t0 = tg_cpu_now(), t, recs = 0, bytes = 0;
    do {
        for (int rep = 0; rep < 100; rep++)
            for (size_t i = 0; i < n; i++) {
                if (with_id)
                    tg_event_finish(evs[i]);
                else
                    tg_event_serialize(evs[i]);
                bytes += (double)evs[i]->json.len;
            }
        recs += 100.0 * n;
        t = tg_cpu_now() - t0;
    } while (t < tg_bench_seconds);
    tg_bench_report(with_id ? "tg_event_finish (event.id + JSON)"
                            : "JSON serialization (tg_event_serialize)",
                    recs, bytes, t);
    for (size_t i = 0; i < n; i++)
        tg_event_free(evs[i]);
    free(evs);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        tg_bench_seconds = atof(argv[1]);
    struct tg_bench_set deb = tg_bench_load("snoopy-2.5.1-default.log", "[login:");
    struct tg_bench_set up = tg_bench_load("snoopy-2.5.1-upstream-default-format.log", "[uid:");
    struct tg_bench_set pj = tg_bench_load("percona-audit.json", NULL);
    struct tg_bench_set pm = tg_bench_load("percona-audit-derived-from-mtr.json", NULL);
    struct tg_bench_set tf = tg_bench_load("rsyslog-local-RSYSLOG_TraditionalFileFormat.log", NULL);
    char *err = NULL;
    struct tg_parse_ctx *snoopy = tg_parse_ctx_new(NULL, TG_FMT_SNOOPY, &err);
    struct tg_parse_ctx *percona = tg_parse_ctx_new(NULL, TG_FMT_PERCONA, &err);
    struct tg_parse_ctx *autod = tg_parse_ctx_new(NULL, TG_FMT_AUTO, &err);
    printf("single thread, %.1f s of CPU time each; MB/s counts record bytes (JSON bytes for "
           "serialization)\n",
           tg_bench_seconds);
    tg_bench_parse("snoopy, Debian default format", snoopy, &deb);
    tg_bench_parse("snoopy, upstream default format", snoopy, &up);
    tg_bench_parse("percona plugin JSON (13 real records)", percona, &pj);
    tg_bench_parse("percona plugin JSON (31 mtr-derived records)", percona, &pm);
    tg_bench_envelope(&tf);
    tg_bench_parse("auto: rsyslog file (snoopy, percona, other)", autod, &tf);
    tg_bench_serialize(autod, &deb, &pm, false);
    tg_bench_serialize(autod, &deb, &pm, true);
    tg_parse_ctx_free(snoopy);
    tg_parse_ctx_free(percona);
    tg_parse_ctx_free(autod);
    tg_bench_free(&deb);
    tg_bench_free(&up);
    tg_bench_free(&pj);
    tg_bench_free(&pm);
    tg_bench_free(&tf);
    return 0;
}
