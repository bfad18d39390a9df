/*
 * in_file.c - the [input.file] source plugin: follow a log file (snoopy
 * logs, Percona audit.log, syslog files).  See source.h.
 *
 * One thread per file polls every TG_FILE_POLL_MS and hands what was
 * appended to an intake stream (ingest/intake.h), which splits it into
 * lines, frames the lines into records, salts each record's event.id with
 * the file's identity and the record's offset, and spools it.  The stream's
 * resume offset (before a line without its LF yet, or a record still being
 * framed) is kept with the file's identity in <spool_dir>/file-<hash>.pos,
 * written after the records before it are committed to the spool: a crash
 * in between re-reads a few records, with the same ids, which dedup drops
 * after the replay.  `format` is checked here and passed to the intake,
 * which stores it with every record, so the workers (and a replay) parse
 * the file's records as `ingest --format` would.
 *
 * Identity: "<inode>.<generation>", the generation counting the
 * truncations seen (kept in the position file), so a line written again at
 * the same offset after a copytruncate is a new record, not a duplicate.
 *
 * Rotation:
 *   rename (logrotate's default)  the path names another inode, or none:
 *       the old file is read on while it grows and for TG_FILE_ROTATE_WAIT_MS
 *       after that (a writer that has not reopened yet still writes to it),
 *       then ended (a last line without LF becomes a record); the new file is
 *       followed from offset 0 as soon as it exists.  A rotation while the
 *       collector was stopped is found by the inode of "<path>.1", which is
 *       then read from the remembered position first.
 *   copytruncate  the file is shorter than our offset, or the bytes before
 *       our offset are not the ones we read (it was truncated and written
 *       past that point before we looked): what was appended after our last
 *       read and before the copy is read from "<path>.1" (logrotate's copy)
 *       when that holds the same bytes before our offset, then the file is
 *       read again from 0 under the next generation.  What the writer wrote
 *       between the copy and the truncation is in neither file: logrotate
 *       documents that loss of copytruncate itself.
 * A path ending in .gz is read once, whole (through ingest/reader.h), and
 * marked done for that inode.
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
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "core/collector_conf.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/mem.h"
#include "ingest/intake.h"
#include "ingest/reader.h"
#include "ingest/source.h"
#include "parsers/parse.h"

#define TG_FILE_POLL_MS        200
#define TG_FILE_ROTATE_WAIT_MS 5000
#define TG_FILE_CHUNK          (64u << 10)
#define TG_FILE_TAIL           64 /* bytes before the offset compared to find a rewrite */

/* [input.file] / [input.file.NAME] */
struct tg_file_conf {
    char *name;
    char *path;
    char *format; /* auto|syslog|snoopy|percona, as ingest --format; NULL = auto */
};

/* One open file and the stream of its bytes. */
struct tg_file_open {
    int fd; /* -1: none */
    ino_t ino;
    uint64_t gen;
    struct tg_intake_stream *st;
    char tail[TG_FILE_TAIL]; /* the last bytes read, just before the stream's offset */
    size_t tail_len;
    int64_t grew_ms; /* a renamed file: when it last grew */
};

struct tg_file_input {
    const struct tg_file_conf *conf;
    char *label, *pos_path, *rotated_path;
    struct tg_intake_src *src;
    pthread_t thread;
    atomic_bool stop, reopen;
    struct tg_file_open cur; /* the file the path names */
    struct tg_file_open old; /* a renamed one, read until it stays still */
    char *buf;               /* read buffer, TG_FILE_CHUNK */
    bool warned;
    uint64_t saved_ino, saved_off, saved_gen; /* what the position file holds */
    bool pos_stuck; /* a commit failed: the position file is not advanced any more */
};

#define OFF(f) offsetof(struct tg_file_conf, f)
static const struct tg_opt tg_file_opts[] = {
    {"path", TG_OPT_STR, NULL, OFF(path), "file to follow (across rename and copytruncate)"},
    {"format", TG_OPT_STR, "auto", OFF(format),
     "record format, as for `trailguard ingest --format`: auto (detect per record), syslog "
     "(records have a syslog header), snoopy, percona or sudo (records of that kind only; others "
     "stay unparsed)"},
    {NULL},
};

static const char *tg_file_section_check(const void *section)
{
    const struct tg_file_conf *c = section;
    if (!c->path)
        return "path is required";
    if (c->format && tg_config_choice(tg_format_names, c->format) < 0)
        return "format: expected auto, syslog, snoopy, percona or sudo (as `trailguard ingest "
               "--format`)";
    return NULL;
}

const struct tg_section_def tg_file_section = {
    .name = "input.file",
    .multi = true,
    .doc = "A followed log file.",
    .opts = tg_file_opts,
    .size = sizeof(struct tg_file_conf),
    .name_offset = OFF(name),
    .check = tg_file_section_check,
};

static bool tg_is_gz(const char *path)
{
    size_t n = strlen(path);
    return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

static int64_t tg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Begin the stream of an open file at `off` under generation `gen`. */
static void tg_file_begin(struct tg_file_input *f, struct tg_file_open *o, uint64_t gen,
                          uint64_t off)
{
    char id[48];
    snprintf(id, sizeof(id), "%ju.%" PRIu64, (uintmax_t)o->ino, gen);
    o->gen = gen;
    o->tail_len = 0;
    o->grew_ms = tg_now_ms();
    o->st = tg_intake_stream_new(f->src, tg_str_c(f->conf->path), tg_str_c(id), off);
}

/* End an open file: what its stream holds goes on; close it. */
static void tg_file_end(struct tg_file_open *o)
{
    if (o->st) {
        tg_intake_stream_end(o->st);
        tg_intake_stream_free(o->st);
    }
    if (o->fd >= 0)
        close(o->fd);
    *o = (struct tg_file_open){.fd = -1};
}

/* Feed bytes to o's stream and remember the last TG_FILE_TAIL of them. */
static void tg_file_feed(struct tg_file_open *o, const char *p, size_t n)
{
    tg_intake_stream_feed(o->st, p, n);
    if (n >= TG_FILE_TAIL) {
        memcpy(o->tail, p + n - TG_FILE_TAIL, TG_FILE_TAIL);
        o->tail_len = TG_FILE_TAIL;
        return;
    }
    size_t keep = o->tail_len + n > TG_FILE_TAIL ? TG_FILE_TAIL - n : o->tail_len;
    memmove(o->tail, o->tail + o->tail_len - keep, keep);
    memcpy(o->tail + keep, p, n);
    o->tail_len = keep + n;
}

/* Read fd from where it is to its end into o's stream; returns bytes read. */
static size_t tg_file_read_fd(struct tg_file_input *f, struct tg_file_open *o, int fd)
{
    size_t total = 0;
    ssize_t r;
    while (!atomic_load(&f->stop) && (r = read(fd, f->buf, TG_FILE_CHUNK)) > 0) {
        tg_file_feed(o, f->buf, (size_t)r);
        total += (size_t)r;
    }
    return total;
}

/* Whether the bytes of fd just before `off` are o's remembered tail. */
static bool tg_file_tail_matches(const struct tg_file_open *o, int fd, uint64_t off)
{
    char b[TG_FILE_TAIL];
    if (o->tail_len == 0)
        return true;
    if (off < o->tail_len)
        return false;
    return pread(fd, b, o->tail_len, (off_t)(off - o->tail_len)) == (ssize_t)o->tail_len &&
           memcmp(b, o->tail, o->tail_len) == 0;
}

/* The followed file was truncated (copytruncate): take what the copy holds
 * beyond our offset, end the old generation, start the next at 0. */
static void tg_file_truncated(struct tg_file_input *f)
{
    struct tg_file_open *o = &f->cur;
    uint64_t off = tg_intake_stream_offset(o->st);
    struct stat st;
    int cfd = open(f->rotated_path, O_RDONLY | O_CLOEXEC);
    size_t more = 0;
    if (cfd >= 0 && fstat(cfd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > off &&
        o->tail_len && tg_file_tail_matches(o, cfd, off) && lseek(cfd, (off_t)off, SEEK_SET) >= 0)
        more = tg_file_read_fd(f, o, cfd);
    if (cfd >= 0)
        close(cfd);
    if (more)
        tg_info("%s: truncated (copytruncate); read the %zu bytes appended before it from %s; "
                "reading the file from the start",
                f->label, more, f->rotated_path);
    else
        tg_info("%s: truncated (copytruncate); reading it from the start", f->label);
    uint64_t gen = o->gen + 1;
    tg_intake_stream_end(o->st);
    tg_intake_stream_free(o->st);
    lseek(o->fd, 0, SEEK_SET);
    tg_file_begin(f, o, gen, 0);
}

static void tg_file_save_pos(struct tg_file_input *f, bool done)
{
    struct tg_file_open *o = &f->cur;
    uint64_t off = tg_intake_stream_resume(o->st);
    if (f->pos_stuck || (!done && (uint64_t)o->ino == f->saved_ino && off == f->saved_off &&
                         o->gen == f->saved_gen))
        return;
    /* the saved position acknowledges the records before it: not before they
     * are durable.  After a failed sync it stays where it was for this run
     * (a later record's durability says nothing of the failed ones): the
     * next start reads them again */
    if (tg_intake_commit(f->src) != 0) {
        tg_err("%s: the spool could not make the records read durable; the saved position stays "
               "at %" PRIu64 " (they are read again at the next start)",
               f->label, f->saved_off);
        f->pos_stuck = true;
        return;
    }
    char *tmp = tg_xasprintf("%s.tmp", f->pos_path);
    FILE *out = fopen(tmp, "w");
    if (out) {
        fprintf(out, "%ju %" PRIu64 " %d %" PRIu64 "\n", (uintmax_t)o->ino, off, done ? 1 : 0,
                o->gen);
        if (fclose(out) == 0 && rename(tmp, f->pos_path) == 0) {
            f->saved_ino = (uint64_t)o->ino;
            f->saved_off = off;
            f->saved_gen = o->gen;
            free(tmp);
            return;
        }
    }
    tg_warn("%s: cannot save the position in %s: %s", f->label, f->pos_path, strerror(errno));
    free(tmp);
}

/* Read a .gz file whole (once per inode). */
static void tg_file_read_gz(struct tg_file_input *f)
{
    struct tg_reader *r;
    if (tg_reader_open(f->conf->path, &r) != 0) {
        tg_warn("%s: cannot open: %s", f->label, strerror(errno));
        return;
    }
    tg_file_begin(f, &f->cur, 0, 0);
    const char *p, *errmsg;
    size_t n;
    int rc;
    while (!atomic_load(&f->stop) && (rc = tg_reader_read(r, &p, &n, &errmsg)) == 0)
        tg_intake_stream_feed(f->cur.st, p, n);
    if (rc == TG_EIO)
        tg_warn("%s: read error: %s", f->label, errmsg ? errmsg : "");
    tg_reader_close(r);
    if (!atomic_load(&f->stop)) {
        tg_intake_stream_end(f->cur.st);
        tg_file_save_pos(f, true);
    }
    tg_intake_src_flush(f->src);
}

/* The remembered position: 0 with its fields, or TG_ENOENT. */
static int tg_file_load_pos(struct tg_file_input *f, uintmax_t *ino, uint64_t *off, int *done,
                            uint64_t *gen)
{
    FILE *in = fopen(f->pos_path, "r");
    *gen = 0;
    int n = in ? fscanf(in, "%ju %" SCNu64 " %d %" SCNu64, ino, off, done, gen) : 0;
    if (in)
        fclose(in);
    return n >= 3 ? 0 : TG_ENOENT;
}

/* Open the path.  The first time, resume from the remembered position: in
 * the same file, or in "<path>.1" when the file was rotated meanwhile. */
static void tg_file_open(struct tg_file_input *f, bool first)
{
    struct tg_file_open *o = &f->cur;
    struct stat st;
    o->fd = open(f->conf->path, O_RDONLY | O_CLOEXEC);
    if (o->fd < 0 || fstat(o->fd, &st) != 0) {
        if (o->fd >= 0)
            close(o->fd);
        o->fd = -1;
        return;
    }
    o->ino = st.st_ino;
    uintmax_t ino = 0;
    uint64_t off = 0, gen = 0;
    int done = 0;
    bool have = first && tg_file_load_pos(f, &ino, &off, &done, &gen) == 0;
    if (have) {
        f->saved_ino = ino;
        f->saved_off = off;
        f->saved_gen = gen;
    }
    if (tg_is_gz(f->conf->path)) {
        close(o->fd);
        o->fd = -1;
        if (!(have && done && ino == (uintmax_t)st.st_ino))
            tg_file_read_gz(f);
        return;
    }
    struct stat rst;
    if (have && ino != (uintmax_t)st.st_ino && stat(f->rotated_path, &rst) == 0 &&
        (uintmax_t)rst.st_ino == ino && (uint64_t)rst.st_size >= off) {
        /* rotated while we were stopped: the rest of the old file first */
        f->old.fd = open(f->rotated_path, O_RDONLY | O_CLOEXEC);
        if (f->old.fd >= 0) {
            f->old.ino = rst.st_ino;
            lseek(f->old.fd, (off_t)off, SEEK_SET);
            tg_file_begin(f, &f->old, gen, off);
            tg_info("%s: rotated while stopped; reading %s on from where it was", f->label,
                    f->rotated_path);
        }
    }
    if (have && ino == (uintmax_t)st.st_ino) {
        if (off <= (uint64_t)st.st_size) {
            lseek(o->fd, (off_t)off, SEEK_SET);
        } else { /* truncated while we were stopped */
            off = 0;
            gen++;
        }
    } else {
        off = 0;
        gen = 0;
    }
    tg_file_begin(f, o, gen, off);
}

/* SIGHUP: the same file is opened again where we are (a renamed one is left
 * to the rotation check, which reads the old file on). */
static void tg_file_do_reopen(struct tg_file_input *f)
{
    struct stat now;
    struct tg_file_open *o = &f->cur;
    if (o->fd < 0 || stat(f->conf->path, &now) != 0 || now.st_ino != o->ino)
        return;
    int fd = open(f->conf->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    close(o->fd);
    o->fd = fd;
    lseek(fd, (off_t)tg_intake_stream_offset(o->st), SEEK_SET);
}

/* One poll of the file the path names; true when it was renamed away. */
static bool tg_file_poll_cur(struct tg_file_input *f)
{
    struct tg_file_open *o = &f->cur;
    struct stat st, now;
    uint64_t off = tg_intake_stream_offset(o->st);
    if (fstat(o->fd, &st) == 0 &&
        ((uint64_t)st.st_size < off || !tg_file_tail_matches(o, o->fd, off)))
        tg_file_truncated(f);
    tg_file_read_fd(f, o, o->fd);
    tg_intake_stream_idle(o->st);
    if (stat(f->conf->path, &now) != 0 || now.st_ino != o->ino) {
        /* renamed (or removed): read it on while it grows; follow the new one */
        tg_file_read_fd(f, o, o->fd);
        if (f->old.fd >= 0) /* an earlier rotated file: what it still has, then done */
            tg_file_read_fd(f, &f->old, f->old.fd);
        tg_file_end(&f->old);
        f->old = *o;
        f->old.grew_ms = tg_now_ms();
        *o = (struct tg_file_open){.fd = -1};
        tg_info("%s: rotated (renamed); reading the old file on while it grows, following the "
                "new one",
                f->label);
        return true;
    }
    return false;
}

/* One poll of a renamed file: read what it grew by; end it once it stayed
 * still for TG_FILE_ROTATE_WAIT_MS. */
static void tg_file_poll_old(struct tg_file_input *f)
{
    struct tg_file_open *o = &f->old;
    int64_t now = tg_now_ms();
    if (tg_file_read_fd(f, o, o->fd))
        o->grew_ms = now;
    tg_intake_stream_idle(o->st);
    if (now - o->grew_ms >= TG_FILE_ROTATE_WAIT_MS) {
        tg_info("%s: done with the rotated file (%" PRIu64 " bytes read)", f->label,
                tg_intake_stream_offset(o->st));
        tg_file_end(o);
    }
}

static void *tg_file_main(void *arg)
{
    struct tg_file_input *f = arg;
    bool first = true, gz = tg_is_gz(f->conf->path);
    while (!atomic_load(&f->stop)) {
        if (atomic_exchange(&f->reopen, false))
            tg_file_do_reopen(f);
        if (f->cur.fd < 0 && !f->cur.st && (!gz || first)) {
            tg_file_open(f, first);
            if (f->cur.fd < 0 && !gz && !f->warned) {
                tg_warn("%s: cannot open (%s); waiting for it to appear", f->label,
                        strerror(errno));
                f->warned = true;
            }
        }
        first = false;
        bool renamed = false;
        if (f->old.fd >= 0)
            tg_file_poll_old(f);
        if (f->cur.fd >= 0) {
            f->warned = false;
            renamed = tg_file_poll_cur(f);
        }
        tg_intake_src_flush(f->src);
        if (f->cur.fd >= 0)
            tg_file_save_pos(f, false);
        if (!renamed) /* renamed: look for the new file at once */
            usleep(TG_FILE_POLL_MS * 1000);
    }
    return NULL;
}

/* A path that names a directory is never followed: a problem through ck
 * (s may be NULL in log mode), 0 or TG_ECONFIG. */
static int tg_file_check_dir(struct tg_findings *ck, const struct tg_section *s, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    tg_check_problem(ck, s, "path",
                     "%s is not a regular file but a directory; give the log file in it", path);
    return TG_ECONFIG;
}

/* `trailguard check`: the path readable (one that does not exist yet is a
 * note: the follower waits for it). */
static void tg_file_check(struct tg_findings *ck, const struct tg_section *s)
{
    const char *path = tg_config_str(s, "path");
    if (!path)
        return;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        tg_check_note(ck, s, "path", "%s does not exist yet; it is followed once it appears", path);
    else if (tg_file_check_dir(ck, s, path) == 0)
        tg_check_readable(ck, s, "path", path, "a file");
}

static int tg_file_start(struct tg_input *in, const void *section)
{
    const struct tg_file_conf *conf = section;
    const struct tg_collector_conf *cc = tg_config_get(in->config, "collector");
    char *label = tg_xasprintf("[input.file%s%s] %s", conf->name && conf->name[0] ? "." : "",
                               conf->name ? conf->name : "", conf->path);
    struct tg_findings ck = {.label = label}; /* log mode */
    if (tg_file_check_dir(&ck, NULL, conf->path) != 0) {
        free(label);
        return TG_ECONFIG;
    }
    struct tg_file_input *f = tg_xcalloc(1, sizeof(*f));
    f->conf = conf;
    f->cur.fd = f->old.fd = -1;
    f->buf = tg_xmalloc(TG_FILE_CHUNK);
    f->label = label;
    f->pos_path = tg_xasprintf("%s/file-%08lx.pos", cc->spool_dir,
                               crc32(0L, (const Bytef *)conf->path, (uInt)strlen(conf->path)));
    f->rotated_path = tg_xasprintf("%s.1", conf->path);
    f->saved_ino = UINT64_MAX;
    char mlabel[80];
    snprintf(mlabel, sizeof(mlabel), "input.file%s%s", conf->name && conf->name[0] ? "." : "",
             conf->name ? conf->name : "");
    struct tg_intake_src_conf ic = {
        .ops = &tg_in_file,
        .label = f->label,
        .format = conf->format ? (enum tg_format)tg_config_choice(tg_format_names, conf->format)
                               : TG_FMT_AUTO,
        .metrics_label = mlabel};
    f->src = tg_intake_src_new(in->intake, &ic);
    pthread_create(&f->thread, NULL, tg_file_main, f);
    pthread_setname_np(f->thread, "tg-in-file");
    tg_info("%s: following", f->label);
    in->ctx = f;
    return 0;
}

static void tg_file_reopen(struct tg_input *in)
{
    struct tg_file_input *f = in->ctx;
    atomic_store(&f->reopen, true);
}

static void tg_file_stop(struct tg_input *in)
{
    struct tg_file_input *f = in->ctx;
    if (!f)
        return;
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    if (f->cur.st) {
        /* a line without its LF, a record still framed: read again next time */
        if (f->cur.fd >= 0)
            tg_file_save_pos(f, false);
        tg_intake_stream_free(f->cur.st);
    }
    if (f->cur.fd >= 0)
        close(f->cur.fd);
    if (f->old.st)
        tg_intake_stream_free(f->old.st);
    if (f->old.fd >= 0)
        close(f->old.fd);
    struct tg_intake_stats st;
    tg_intake_src_stats(f->src, &st);
    tg_intake_src_free(f->src);
    tg_info("%s: %" PRIu64 " records read (%" PRIu64 " truncated, %" PRIu64
            " blank lines and JSON array brackets skipped)",
            f->label, st.records, st.truncated, st.skipped);
    free(f->buf);
    free(f->label);
    free(f->pos_path);
    free(f->rotated_path);
    free(f);
    in->ctx = NULL;
}

const struct tg_source_ops tg_in_file = {
    .name = "file",
    .code = TG_SPOOL_IN_FILE,
    .section = &tg_file_section,
    .check = tg_file_check,
    .start = tg_file_start,
    .reopen = tg_file_reopen,
    .stop = tg_file_stop,
};
