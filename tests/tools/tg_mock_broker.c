/*
 * tg_mock_broker.c - a Kafka cluster for tests and demos, from librdkafka's
 * mock cluster (rdkafka_mock.h), since Debian ships no Kafka server.
 *
 *   tg_mock_broker -o ADDR_FILE [-b BROKERS] [-t TOPIC[:PARTITIONS]]...
 *
 * Starts BROKERS (default 1) mock brokers listening on 127.0.0.1 (ports
 * chosen by the kernel: librdkafka 2.0 cannot pin them), creates the topics,
 * then writes the bootstrap list ("127.0.0.1:PORT,...") to ADDR_FILE
 * atomically (written to ADDR_FILE.tmp, then renamed), so a test can wait
 * for the file to appear.  Commands, one per line on stdin, each answered
 * with "ok LINE" or "error: ..." on stdout (flushed):
 *
 *   down [ID]              take broker ID (default: every broker) down:
 *                          connections are closed and refused
 *   up [ID]                bring it back
 *   error N [ERRNAME [API]] fail the next N requests of Kafka API key API
 *                          (default 0, Produce) with ERRNAME (default
 *                          NOT_ENOUGH_REPLICAS, a retriable error)
 *   quit                   exit
 *
 * End of stdin only stops reading commands; SIGTERM or SIGINT exits 0.
 * Single-threaded apart from librdkafka's own mock-cluster thread.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define TG_MOCK_API_PRODUCE 0 /* Kafka protocol ApiKey of Produce */

static volatile sig_atomic_t tg_mock_stop;

static void tg_mock_on_signal(int sig)
{
    tg_mock_stop = 1;
}

static int tg_mock_usage(void)
{
    fprintf(stderr, "usage: tg_mock_broker -o ADDR_FILE [-b BROKERS] [-t TOPIC[:PARTITIONS]]...\n"
                    "stdin commands: down [ID] | up [ID] | error N [ERRNAME [API]] | quit\n");
    return 2;
}

/* The error code whose name (without "RD_KAFKA_RESP_ERR_") is `name`, or -1. */
static int tg_mock_err_by_name(const char *name)
{
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++)
        if (descs[i].name && strcmp(descs[i].name, name) == 0)
            return descs[i].code;
    return -1;
}

/* Apply one command line; prints the answer. */
static void tg_mock_command(rd_kafka_mock_cluster_t *mc, int nbrokers, char *line)
{
    char cmd[16] = "", arg2[64] = "";
    long arg1 = -1, api = TG_MOCK_API_PRODUCE;
    line[strcspn(line, "\r\n")] = '\0';
    int n = sscanf(line, "%15s %ld %63s %ld", cmd, &arg1, arg2, &api);
    if (n < 1)
        return;
    if (strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) {
        bool down = cmd[0] == 'd';
        for (int id = 1; id <= nbrokers; id++) {
            if (n >= 2 && id != arg1)
                continue;
            rd_kafka_resp_err_t err =
                down ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);
            if (err) {
                printf("error: %s broker %d: %s\n", cmd, id, rd_kafka_err2str(err));
                fflush(stdout);
                return;
            }
        }
    } else if (strcmp(cmd, "error") == 0 && n >= 2 && arg1 > 0) {
        int code = tg_mock_err_by_name(n >= 3 ? arg2 : "NOT_ENOUGH_REPLICAS");
        if (code < 0) {
            printf("error: unknown error name '%s' (use a name from rdkafka.h without "
                   "RD_KAFKA_RESP_ERR_)\n",
                   arg2);
            fflush(stdout);
            return;
        }
        for (long i = 0; i < arg1; i++)
            rd_kafka_mock_push_request_errors(mc, (int16_t)api, 1, (rd_kafka_resp_err_t)code);
    } else if (strcmp(cmd, "quit") == 0) {
        tg_mock_stop = 1;
    } else {
        printf("error: unknown command '%s' (down [ID], up [ID], error N [ERRNAME [API]], quit)\n",
               line);
        fflush(stdout);
        return;
    }
    printf("ok %s\n", line);
    fflush(stdout);
}

static int tg_mock_write_addr(const char *path, const char *addr)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", addr) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "tg_mock_broker: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *addr_file = NULL;
    int nbrokers = 1;
    char *topics[32];
    int ntopics = 0;
    int c;
    while ((c = getopt(argc, argv, "o:b:t:")) != -1) {
        switch (c) {
        case 'o':
            addr_file = optarg;
            break;
        case 'b':
            nbrokers = atoi(optarg);
            break;
        case 't':
            if (ntopics == 32)
                return tg_mock_usage();
            topics[ntopics++] = optarg;
            break;
        default:
            return tg_mock_usage();
        }
    }
    if (!addr_file || nbrokers < 1 || nbrokers > 16)
        return tg_mock_usage();

    struct sigaction sa = {.sa_handler = tg_mock_on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "tg_mock_broker: rd_kafka_new: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        fprintf(stderr, "tg_mock_broker: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        char *colon = strchr(topics[i], ':');
        int parts = colon ? atoi(colon + 1) : 1;
        if (colon)
            *colon = '\0';
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(mc, topics[i], parts > 0 ? parts : 1, nbrokers);
        if (err)
            fprintf(stderr, "tg_mock_broker: topic %s: %s\n", topics[i], rd_kafka_err2str(err));
    }
    int rc = 0;
    if (tg_mock_write_addr(addr_file, rd_kafka_mock_cluster_bootstraps(mc)) != 0) {
        rc = 1;
        goto out;
    }
    fprintf(stderr, "tg_mock_broker: %d broker%s at %s\n", nbrokers, nbrokers == 1 ? "" : "s",
            rd_kafka_mock_cluster_bootstraps(mc));

    char line[256];
    size_t used = 0;
    bool stdin_open = true;
    while (!tg_mock_stop) {
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        if (!stdin_open || poll(&pfd, 1, 200) <= 0) {
            if (!stdin_open)
                usleep(200 * 1000);
            continue;
        }
        ssize_t got = read(0, line + used, sizeof(line) - 1 - used);
        if (got <= 0) {
            stdin_open = got < 0 && errno == EINTR;
            continue;
        }
        used += (size_t)got;
        line[used] = '\0';
        char *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            tg_mock_command(mc, nbrokers, line);
            used -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, used + 1);
        }
        if (used == sizeof(line) - 1)
            used = 0; /* an overlong line: dropped */
    }
out:
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}
