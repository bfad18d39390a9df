/*
 * in_file.c - follow a log file ([input.file]): snoopy logs, Percona
 * audit.log, syslog files.  See inputs.h.
 *
 * One thread per file polls every TG_FILE_POLL_MS: it reads what was
 * appended, spools each complete line (a line is only taken once its LF is
 * there), and remembers (inode, offset) in <spool_dir>/file-<hash>.pos
 * after the lines are in the spool -- a crash in between re-reads a few
 * lines, which dedup drops.  Rotation:
 *   rename (logrotate's default)  the path now names another inode: the
 *                                 old file is read to its end (a last line
 *                                 without LF included), then the new one
 *                                 from offset 0
 *   copytruncate                  same inode, size below our offset: start
 *                                 again at 0
 * A path ending in .gz is read once, whole, through ingest/reader.h, and
 * marked done for that inode.  Lines longer than TG_FILE_MAX_LINE are cut
 * there and marked truncated.  `format` is checked here and applied by the
 * workers: the daemon parses this file's events with the parse context of
 * that format, as `ingest --format` does (tools/daemon.c).
 *
 * Threads: the follower thread does everything; reopen/stop set flags from
 * the main thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "ingest/inputs.h"
#include "ingest/reader.h"
#include "parsers/parse.h"

#define TG_FILE_POLL_MS  200
#define TG_FILE_MAX_LINE (1u << 20)
#define TG_FILE_CHUNK    (64u << 10)

struct tg_file_input {
    const struct tg_file_conf *conf;
    char *pos_path;
    struct tg_spool *sp;
    struct tg_source *src;
    pthread_t thread;
    atomic_bool stop, reopen;
    int fd;
    ino_t ino;
    uint64_t off;       /* bytes of the file read */
    uint64_t pending;   /* of which in the incomplete last line (re-read after a restart) */
    char *buf;          /* read buffer, TG_FILE_CHUNK */
    struct tg_buf line; /* the incomplete last line */
    bool cut;           /* the current line passed TG_FILE_MAX_LINE */
    uint64_t last_seq;
    bool unstored; /* a line could not be spooled while stopping */
    uint64_t lines, truncated;
    struct tg_input_counters *m; /* records and bytes in /metrics */
};

#define OFF(f) offsetof(struct tg_file_conf, f)
static const struct tg_opt tg_file_opts[] = {
    {"path", TG_OPT_STR, NULL, OFF(path), "file to follow (across rename and copytruncate)"},
    {"format", TG_OPT_STR, "auto", OFF(format),
     "record format, as for `trailguard ingest --format`: auto (detect per record), syslog "
     "(records have a syslog header), snoopy or percona (records of that kind only; others stay "
     "unparsed)"},
    {NULL},
};

static const char *tg_file_check(const void *section)
{
    const struct tg_file_conf *c = section;
    if (!c->path)
        return "path is required";
    if (c->format && tg_config_choice(tg_format_names, c->format) < 0)
        return "format: expected auto, syslog, snoopy or percona (as `trailguard ingest --format`)";
    return NULL;
}

const struct tg_section_def tg_file_section = {
    .name = "input.file",
    .multi = true,
    .doc = "A followed log file.",
    .opts = tg_file_opts,
    .size = sizeof(struct tg_file_conf),
    .name_offset = OFF(name),
    .check = tg_file_check,
};

static bool tg_is_gz(const char *path)
{
    size_t n = strlen(path);
    return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

/* Spool one record and hand its event over.  Retries until stored. */
static void tg_file_emit(struct tg_file_input *f, const char *p, size_t n, bool cut)
{
    struct tg_spool_rec rec = {.input = TG_SPOOL_IN_FILE,
                               .peer = tg_str_c(f->conf->path),
                               .received = tg_time_now(),
                               .truncated = cut,
                               .data = p,
                               .len = n};
    uint64_t seq;
    while (tg_spool_append(f->sp, &rec, &seq) != 0) {
        if (atomic_load(&f->stop)) {
            f->unstored = true; /* keep the saved position before this line */
            return;
        }
        sleep(1);
    }
    f->last_seq = seq;
    f->lines++;
    f->truncated += cut;
    tg_metrics_input_add(f->m, n);
    tg_source_add(f->src, tg_spool_event(&rec, seq));
}

static void tg_file_save_pos(struct tg_file_input *f, bool done)
{
    /* the saved position acknowledges the lines before it: not before they
     * are durable (a failed sync keeps the old one: re-read after a restart) */
    if (f->last_seq && tg_spool_commit(f->sp, f->last_seq) != 0)
        return;
    char *tmp = tg_xasprintf("%s.tmp", f->pos_path);
    FILE *o = fopen(tmp, "w");
    if (o) {
        fprintf(o, "%ju %" PRIu64 " %d\n", (uintmax_t)f->ino, f->off - f->pending, done ? 1 : 0);
        if (fclose(o) == 0 && rename(tmp, f->pos_path) == 0) {
            free(tmp);
            return;
        }
    }
    tg_warn("[input.file] %s: cannot save the position in %s: %s", f->conf->path, f->pos_path,
            strerror(errno));
    free(tmp);
}

/* Feed bytes; complete lines are emitted.  `eof_final`: flush an unterminated last line. */
static void tg_file_feed(struct tg_file_input *f, const char *p, size_t n, bool eof_final)
{
    while (n) {
        const char *lf = memchr(p, '\n', n);
        size_t take = lf ? (size_t)(lf - p) : n;
        size_t room = TG_FILE_MAX_LINE - f->line.len;
        if (take > room) {
            f->cut = true;
            tg_buf_append(&f->line, p, room);
        } else if (!f->cut) {
            tg_buf_append(&f->line, p, take);
        }
        f->off += take;
        f->pending += take;
        if (!lf)
            break;
        f->off++;
        f->pending = 0;
        if (f->line.len)
            tg_file_emit(f, f->line.data, f->line.len, f->cut);
        f->line.len = 0;
        f->cut = false;
        p = lf + 1;
        n -= take + 1;
    }
    if (eof_final && f->line.len) {
        tg_file_emit(f, f->line.data, f->line.len, f->cut);
        f->line.len = 0;
        f->cut = false;
    }
    if (eof_final)
        f->pending = 0;
}

/* Read what is there; returns bytes read (0 at EOF). */
static size_t tg_file_drain(struct tg_file_input *f, bool final)
{
    size_t total = 0;
    for (;;) {
        ssize_t r = read(f->fd, f->buf, TG_FILE_CHUNK);
        if (r <= 0)
            break;
        tg_file_feed(f, f->buf, (size_t)r, false);
        total += (size_t)r;
    }
    if (final)
        tg_file_feed(f, NULL, 0, true);
    return total;
}

/* Read a .gz file whole (once per inode). */
static void tg_file_read_gz(struct tg_file_input *f)
{
    struct tg_reader *r;
    if (tg_reader_open(f->conf->path, &r) != 0) {
        tg_warn("[input.file] %s: cannot open: %s", f->conf->path, strerror(errno));
        return;
    }
    const char *rec, *errmsg;
    size_t len;
    bool cut;
    int rc;
    while (!atomic_load(&f->stop) && (rc = tg_reader_next(r, &rec, &len, &cut, &errmsg)) == 0)
        if (len)
            tg_file_emit(f, rec, len, cut);
    if (rc == TG_EIO)
        tg_warn("[input.file] %s: read error: %s", f->conf->path, errmsg ? errmsg : "");
    f->off = tg_reader_offset(r);
    tg_reader_close(r);
    tg_source_flush(f->src);
    if (!atomic_load(&f->stop))
        tg_file_save_pos(f, true);
}

/* Open the path and position it (saved position if the inode matches). */
static void tg_file_open(struct tg_file_input *f, bool use_saved)
{
    struct stat st;
    f->fd = open(f->conf->path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0 || fstat(f->fd, &st) != 0) {
        if (f->fd >= 0)
            close(f->fd);
        f->fd = -1;
        return;
    }
    uintmax_t ino = 0;
    uint64_t off = 0;
    int done = 0;
    FILE *in = use_saved ? fopen(f->pos_path, "r") : NULL;
    bool have = in && fscanf(in, "%ju %" SCNu64 " %d", &ino, &off, &done) == 3;
    if (in)
        fclose(in);
    f->ino = st.st_ino;
    f->off = 0;
    f->pending = 0;
    f->line.len = 0;
    f->cut = false;
    if (have && ino == (uintmax_t)st.st_ino && off <= (uint64_t)st.st_size) {
        f->off = off;
        lseek(f->fd, (off_t)off, SEEK_SET);
    }
    if (tg_is_gz(f->conf->path)) {
        close(f->fd);
        f->fd = -1;
        if (!(have && done && ino == (uintmax_t)st.st_ino))
            tg_file_read_gz(f);
    }
}

static void *tg_file_main(void *arg)
{
    struct tg_file_input *f = arg;
    bool first = true, warned = false, gz = tg_is_gz(f->conf->path);
    while (!atomic_load(&f->stop)) {
        struct stat now;
        if (atomic_exchange(&f->reopen, false) && f->fd >= 0 && stat(f->conf->path, &now) == 0 &&
            now.st_ino == f->ino) {
            /* the same file: open it again where we are, before a last line
             * without its LF yet (read again); a renamed one is left to the
             * rotation check below, which reads the old file to its end */
            tg_file_drain(f, false);
            tg_source_flush(f->src);
            int fd = open(f->conf->path, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                close(f->fd);
                f->fd = fd;
                f->off -= f->pending;
                lseek(fd, (off_t)f->off, SEEK_SET);
                f->pending = 0;
                f->line.len = 0;
                f->cut = false;
            }
        }
        if (f->fd < 0 && (!gz || first)) {
            tg_file_open(f, first);
            if (f->fd < 0 && !gz && !warned) {
                tg_warn("[input.file] %s: cannot open (%s); waiting for it to appear",
                        f->conf->path, strerror(errno));
                warned = true;
            }
        }
        first = false;
        if (f->fd >= 0) {
            warned = false;
            size_t got = tg_file_drain(f, false);
            struct stat cur;
            bool renamed = stat(f->conf->path, &now) != 0 || now.st_ino != f->ino;
            if (renamed) {
                tg_file_drain(f, true); /* the rest of the old file */
                close(f->fd);
                f->fd = -1;
                tg_info("[input.file] %s: rotated (renamed); following the new file",
                        f->conf->path);
            } else if (fstat(f->fd, &cur) == 0 && (uint64_t)cur.st_size < f->off) {
                tg_info("[input.file] %s: truncated (copytruncate); reading from the start",
                        f->conf->path);
                lseek(f->fd, 0, SEEK_SET);
                f->off = 0;
                f->pending = 0;
                f->line.len = 0;
                f->cut = false;
                got = 1;
            }
            tg_source_flush(f->src);
            if (got && !renamed)
                tg_file_save_pos(f, false);
            if (renamed)
                continue; /* open the new file now; it starts at offset 0 */
        }
        usleep(TG_FILE_POLL_MS * 1000);
    }
    return NULL;
}

int tg_file_start(const struct tg_file_conf *conf, const char *state_dir, struct tg_spool *sp,
                  struct tg_pipeline *p, struct tg_file_input **out)
{
    struct tg_file_input *f = tg_xcalloc(1, sizeof(*f));
    f->conf = conf;
    f->sp = sp;
    f->fd = -1;
    f->line = TG_BUF_INIT;
    f->buf = tg_xmalloc(TG_FILE_CHUNK);
    f->pos_path = tg_xasprintf("%s/file-%08lx.pos", state_dir,
                               crc32(0L, (const Bytef *)conf->path, (uInt)strlen(conf->path)));
    f->src = tg_pipeline_source(p);
    char mlabel[80];
    snprintf(mlabel, sizeof(mlabel), "input.file%s%s", conf->name && conf->name[0] ? "." : "",
             conf->name ? conf->name : "");
    f->m = tg_metrics_input(mlabel, 0);
    pthread_create(&f->thread, NULL, tg_file_main, f);
    pthread_setname_np(f->thread, "tg-in-file");
    tg_info("[input.file] %s: following", conf->path);
    *out = f;
    return 0;
}

void tg_file_reopen(struct tg_file_input *f)
{
    atomic_store(&f->reopen, true);
}

void tg_file_stop(struct tg_file_input *f)
{
    if (!f)
        return;
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    if (f->fd >= 0) {
        tg_source_flush(f->src);
        if (!f->unstored)
            tg_file_save_pos(f, false);
        close(f->fd);
    }
    tg_info("[input.file] %s: %" PRIu64 " lines read (%" PRIu64 " truncated)", f->conf->path,
            f->lines, f->truncated);
    tg_buf_free(&f->line);
    free(f->buf);
    free(f->pos_path);
    free(f);
}
