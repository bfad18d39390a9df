/*
 * bench_kafka.c - events/s through the pipeline into the Kafka sink, until
 * every batch is confirmed by delivery reports (acks=all, idempotent).
 *
 *   bench_kafka [EVENTS]        (default 200000; `make bench-kafka`)
 *
 * The broker is librdkafka's in-process mock cluster (one broker, topic with
 * 3 partitions), so the figure is an upper bound for the producer side:
 * a real cluster adds network round trips and replication.  Records are the
 * snoopy lines of the shared rsyslog sample, cycled; each event is finished
 * (event.id + JSON) by the worker pool as in `serve`.  One run per
 * compression codec.  Not part of `make check`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/config.h"
#include "core/log.h"
#include "core/pipeline.h"
#include "sinks/sinks.h"

static void bench_process(void *ctx, struct tg_event *ev)
{
    ev->host_name = tg_event_strdup(ev, "web1.example.com", 16);
    ev->dataset = TG_DS_SNOOPY;
    tg_event_finish(ev);
}

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read the records to cycle through; exits when the sample is missing. */
static char **bench_records(size_t *n)
{
    const char *shared = getenv("TG_SHARED") ? getenv("TG_SHARED") : "../shared";
    char path[4096];
    snprintf(path, sizeof(path), "%s/samples/rsyslog-local-RSYSLOG_TraditionalFileFormat.log",
             shared);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_kafka: cannot open %s (set TG_SHARED)\n", path);
        exit(2);
    }
    char **recs = NULL, line[65536];
    *n = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        recs = realloc(recs, (*n + 1) * sizeof(*recs));
        recs[(*n)++] = strdup(line);
    }
    fclose(f);
    return recs;
}

int main(int argc, char **argv)
{
    size_t events = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    size_t nrec;
    char **recs = bench_records(&nrec);
    tg_log_set_level(TG_LOG_WARN);

    char errstr[256];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set(mconf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *mc = mrk ? rd_kafka_mock_cluster_new(mrk, 1) : NULL;
    if (!mc) {
        fprintf(stderr, "bench_kafka: cannot start the mock cluster\n");
        return 1;
    }
    rd_kafka_mock_topic_create(mc, "bench", 3, 1);

    static const char *const codecs[] = {"none", "lz4", "zstd"};
    printf("kafka sink, %zu events, mock broker (in process), acks=all, idempotent\n", events);
    printf("%-6s %12s %10s %9s\n", "codec", "events/s", "MB/s JSON", "seconds");
    for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "[sink.kafka]\nbrokers = %s\ntopic = bench\ncompression = %s\n"
                 "rdkafka.linger.ms = 5\n",
                 rd_kafka_mock_cluster_bootstraps(mc), codecs[c]);
        const struct tg_section_def *defs[] = {&tg_kafka_section};
        struct tg_config *cfg;
        if (tg_config_load_string("bench", text, defs, 1, &cfg) != 0)
            return 1;
        struct tg_pipeline_conf pc = {.workers = 2, .process = bench_process};
        struct tg_pipeline *p = tg_pipeline_new(&pc);
        tg_pipeline_add_sink(p, &tg_out_kafka, tg_config_get(cfg, "sink.kafka"));
        if (tg_pipeline_start(p) != 0)
            return 1;
        struct tg_source *src = tg_pipeline_source(p);
        struct tg_input_meta in = {.type = "file"};
        double t0 = bench_now();
        for (size_t i = 0; i < events; i++) {
            const char *r = recs[i % nrec];
            tg_source_add(src, tg_event_new(r, strlen(r), &in, tg_time_now()));
        }
        tg_pipeline_drain(p);
        double dt = bench_now() - t0;
        struct tg_sink *s = tg_pipeline_sink(p, 0);
        uint64_t delivered = atomic_load(&s->delivered);
        /* JSON volume: measured on one pass over the records */
        double bytes = 0;
        for (size_t i = 0; i < nrec; i++) {
            struct tg_event *ev = tg_event_new(recs[i], strlen(recs[i]), &in, tg_time_now());
            bench_process(NULL, ev);
            bytes += (double)ev->json.len;
            tg_event_free(ev);
        }
        bytes = bytes / (double)nrec * (double)events;
        printf("%-6s %12.0f %10.1f %9.2f%s\n", codecs[c], (double)delivered / dt, bytes / dt / 1e6,
               dt, delivered == events ? "" : "  (NOT ALL DELIVERED)");
        tg_pipeline_free(p);
        tg_config_free(cfg);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    for (size_t i = 0; i < nrec; i++)
        free(recs[i]);
    free(recs);
    return 0;
}
