/*
 * test_segment.c - the store format (sinks/segment.c): sidecar entries
 * round-trip (with ext bytes, derived start offsets) and a torn last entry
 * is told apart from a damaged one and format 1 from both; the
 * index and chain.head round-trip; the record time is read from the line;
 * the segment reader yields records and member ends across members, a
 * member without a final LF, a torn tail (TG_ETRUNC) and changed bytes
 * (TG_ECORRUPT); segments are listed in number order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/mem.h"
#include "sinks/segment.h"

static char dir[64];

static int setup(void **state)
{
    strcpy(dir, "/tmp/tg-seg-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char *cmd = tg_xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return 0;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* One complete gzip member of `text` appended to b. */
static void gz_member(struct tg_buf *b, const char *text)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t n = strlen(text);
    tg_buf_reserve(b, deflateBound(&z, n));
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)b->data + b->len;
    z.avail_out = (uInt)(b->cap - b->len);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    b->len = b->cap - z.avail_out;
    deflateEnd(&z);
}

static void test_sidecar_round_trip_and_torn(void **state)
{
    struct tg_seg_header h = {.seq = 7, .first_index = 100, .first_member = 30, .keyed = true};
    memset(h.prev, 0xab, sizeof(h.prev));
    memset(h.store_id, 0xcd, sizeof(h.store_id));
    uint8_t hdr[TG_SEG_HDR_LEN];
    tg_seg_header_encode(&h, hdr);
    struct tg_buf b = TG_BUF_INIT;
    tg_buf_append(&b, hdr, sizeof(hdr));
    uint32_t fp1[2] = {1, 0xdeadbeef}, fp2[1] = {42};
    struct tg_seg_member m1 = {.records = 2, .end_offset = 500, .min_ns = -5, .max_ns = 9};
    struct tg_seg_member m2 = {
        .records = 1, .end_offset = 900, .min_ns = INT64_MAX, .max_ns = INT64_MIN, .ext_len = 3};
    memset(m1.link, 1, 32);
    memset(m2.link, 2, 32);
    tg_seg_member_encode(&b, &m1, fp1, NULL);
    tg_seg_member_encode(&b, &m2, fp2, "xyz");
    char *p = tg_xasprintf("%s/x.chain", dir);
    for (size_t cut = 0; cut <= 3; cut++) { /* cut 1..3: a torn last entry */
        write_bytes(p, b.data, b.len - cut);
        struct tg_sidecar sc;
        uint64_t where;
        assert_int_equal(tg_sidecar_load(p, &sc, &where), 0);
        assert_int_equal(sc.hdr.seq, 7);
        assert_int_equal(sc.hdr.first_index, 100);
        assert_int_equal(sc.hdr.first_member, 30);
        assert_true(sc.hdr.keyed);
        assert_memory_equal(sc.hdr.prev, h.prev, 32);
        assert_memory_equal(sc.hdr.store_id, h.store_id, 16);
        assert_int_equal(sc.nm, cut ? 1 : 2);
        assert_int_equal(sc.nfp, cut ? 2 : 3);
        assert_int_equal(sc.fp[1], 0xdeadbeef);
        assert_int_equal(sc.m[0].end_offset, 500);
        assert_int_equal(sc.m[0].min_ns, -5);
        assert_memory_equal(sc.m[0].link, m1.link, 32);
        assert_int_equal(sc.torn_len, cut ? TG_SEG_ENTRY_LEN + 4 + 3 - cut : 0);
        if (!cut) {
            assert_int_equal(sc.m[1].max_ns, INT64_MIN);
            assert_int_equal(sc.m[1].first_fp, 2);
            assert_int_equal(sc.m[1].start_offset, 500); /* derived from the one before */
            assert_int_equal(sc.m[1].ext_len, 3);
            assert_memory_equal(sc.ext + sc.m[1].ext_off, "xyz", 3);
            assert_int_equal(tg_sidecar_records_after(&sc, 1), 103);
        }
        tg_sidecar_free(&sc);
    }
    /* the cursor walks the same entries without the fingerprints */
    write_bytes(p, b.data, b.len - 1);
    struct tg_sidecar_cursor cur;
    struct tg_seg_member m;
    assert_int_equal(tg_sidecar_cursor_open(p, &cur), 0);
    assert_int_equal(cur.hdr.seq, 7);
    assert_int_equal(tg_sidecar_cursor_next(&cur, &m), 1);
    assert_int_equal(m.records, 2);
    assert_int_equal(m.end_offset, 500);
    uint32_t fpb[2];
    assert_int_equal(tg_sidecar_cursor_detail(&cur, &m, fpb, NULL), 0);
    assert_int_equal(fpb[1], 0xdeadbeef);
    assert_int_equal(tg_sidecar_cursor_next(&cur, &m), 0); /* the torn one ends it */
    tg_sidecar_cursor_close(&cur);

    /* a changed entry magic is damage, not a torn write */
    b.data[TG_SEG_HDR_LEN] = 'X';
    write_bytes(p, b.data, b.len);
    struct tg_sidecar sc;
    uint64_t where;
    assert_int_equal(tg_sidecar_load(p, &sc, &where), TG_ECORRUPT);
    assert_int_equal(where, TG_SEG_HDR_LEN);
    /* format 1 is told apart */
    memcpy(hdr, "TGCHAIN1", 8);
    write_bytes(p, hdr, sizeof(hdr));
    assert_int_equal(tg_sidecar_load(p, &sc, &where), TG_EVERSION);
    tg_seg_header_encode(&h, hdr);
    /* a header cut short is a torn creation */
    write_bytes(p, hdr, 20);
    assert_int_equal(tg_sidecar_load(p, &sc, &where), 0);
    assert_int_equal(sc.good_len, 0);
    assert_int_equal(sc.torn_len, 20);
    tg_sidecar_free(&sc);
    free(p);
    tg_buf_free(&b);
}

static void test_index_and_head_round_trip(void **state)
{
    struct tg_seg_index ix = {.seq = 3,
                              .first_index = 10,
                              .first_member = 4,
                              .records = 5,
                              .members = 2,
                              .bytes = 1234,
                              .min_ns = 1795527751000000000,
                              .max_ns = 1795527752123456789,
                              .keyed = true};
    memset(ix.prev, 3, 32);
    memset(ix.last, 4, 32);
    char *p = tg_seg_path(dir, 3, TG_SEG_INDEX);
    assert_int_equal(tg_seg_index_write(p, &ix, true), 0);
    struct tg_seg_index back;
    assert_int_equal(tg_seg_index_read(p, &back), 0);
    assert_true(tg_seg_index_equal(&back, &ix));
    assert_int_equal(back.min_ns, ix.min_ns);
    assert_int_equal(back.max_ns, ix.max_ns);
    assert_true(back.keyed);
    assert_memory_equal(back.prev, ix.prev, 32);
    assert_memory_equal(back.last, ix.last, 32);
    write_bytes(p, "{\"segment\":3}", 13);
    assert_int_equal(tg_seg_index_read(p, &back), TG_ECORRUPT);
    free(p);

    struct tg_seg_head h = {.seq = 12, .records = 99999, .members = 77}, hb;
    memset(h.link, 0x5a, 32);
    char line[TG_SEG_HEAD_LEN + 1];
    tg_seg_head_format(&h, line);
    assert_int_equal(strlen(line), TG_SEG_HEAD_LEN);
    assert_int_equal(line[TG_SEG_HEAD_LEN - 1], '\n');
    assert_int_equal(tg_seg_head_read(dir, &hb), TG_ENOENT);
    p = tg_xasprintf("%s/%s", dir, TG_SEG_HEAD_FILE);
    write_bytes(p, line, TG_SEG_HEAD_LEN);
    assert_int_equal(tg_seg_head_read(dir, &hb), 0);
    assert_int_equal(hb.seq, 12);
    assert_int_equal(hb.records, 99999);
    assert_int_equal(hb.members, 77);
    assert_memory_equal(hb.link, h.link, 32);
    free(p);
}

static void test_record_time(void **state)
{
    int64_t ns;
    const char *a = "{\"@timestamp\":\"2026-11-24T13:42:31.123456Z\",\"x\":1}";
    assert_int_equal(tg_seg_record_time(a, strlen(a), &ns), 0);
    assert_int_equal(ns, 1795527751123456000);
    const char *b = "{\"x\":1,\"@timestamp\":\"2026-11-24T13:42:31Z\"}";
    assert_int_equal(tg_seg_record_time(b, strlen(b), &ns), 0);
    assert_int_equal(ns, 1795527751000000000);
    const char *c = "{\"x\":\"@timestamp\"}";
    assert_int_equal(tg_seg_record_time(c, strlen(c), &ns), TG_ENOENT);
}

static int next(struct tg_seg_reader *r, char *out, size_t cap)
{
    struct tg_str rec;
    int rc = tg_seg_reader_next(r, &rec);
    if (rc == TG_SEG_RECORD) {
        assert_true(rec.len < cap);
        memcpy(out, rec.p, rec.len);
        out[rec.len] = '\0';
    }
    return rc;
}

static void test_reader_members_torn_and_damaged(void **state)
{
    struct tg_buf b = TG_BUF_INIT;
    gz_member(&b, "one\ntwo\n");
    size_t end1 = b.len;
    gz_member(&b, "three\nno-lf");
    size_t end2 = b.len;
    char *p = tg_seg_path(dir, 1, TG_SEG_DATA);
    write_bytes(p, b.data, b.len);
    struct tg_seg_reader *r;
    char rec[64];
    assert_int_equal(tg_seg_reader_open(p, &r), 0);
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_RECORD);
    assert_string_equal(rec, "one");
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_RECORD);
    assert_string_equal(rec, "two");
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_MEMBER);
    assert_int_equal(tg_seg_reader_offset(r), end1);
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_RECORD);
    assert_string_equal(rec, "three");
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_RECORD);
    assert_string_equal(rec, "no-lf");
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_MEMBER);
    assert_int_equal(tg_seg_reader_offset(r), end2);
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_END);
    assert_int_equal(tg_seg_reader_raw_bytes(r), 8 + 11);
    tg_seg_reader_close(r);

    /* seek straight to the second member */
    assert_int_equal(tg_seg_reader_open(p, &r), 0);
    assert_int_equal(tg_seg_reader_seek(r, end1), 0);
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_RECORD);
    assert_string_equal(rec, "three");
    assert_int_equal(tg_seg_reader_seek(r, 0), 0); /* and back, mid-member */
    assert_int_equal(next(r, rec, sizeof(rec)), TG_SEG_RECORD);
    assert_string_equal(rec, "one");
    assert_int_equal(tg_seg_reader_in_bytes(r), (b.len - end1) + b.len);
    tg_seg_reader_close(r);

    /* torn: the second member cut short */
    write_bytes(p, b.data, end2 - 5);
    assert_int_equal(tg_seg_reader_open(p, &r), 0);
    int rc;
    int records = 0;
    while ((rc = next(r, rec, sizeof(rec))) > 0)
        records += rc == TG_SEG_RECORD;
    assert_int_equal(rc, TG_ETRUNC);
    assert_true(records >= 2);
    assert_int_equal(tg_seg_reader_offset(r), end1);
    tg_seg_reader_close(r);

    /* damaged: a byte changed inside the first member's deflate data */
    b.data[12] ^= 0x55;
    write_bytes(p, b.data, b.len);
    assert_int_equal(tg_seg_reader_open(p, &r), 0);
    while ((rc = next(r, rec, sizeof(rec))) > 0)
        ;
    assert_int_equal(rc, TG_ECORRUPT);
    tg_seg_reader_close(r);
    free(p);
    tg_buf_free(&b);
}

static void test_list_in_order(void **state)
{
    static const uint64_t seqs[] = {10, 2, 1};
    for (size_t i = 0; i < 3; i++) {
        char *p = tg_seg_path(dir, seqs[i], TG_SEG_CHAIN);
        write_bytes(p, "", 0);
        free(p);
    }
    char *other = tg_xasprintf("%s/seg-12.chain", dir); /* not a segment name */
    write_bytes(other, "", 0);
    free(other);
    struct tg_seg_entry *v;
    size_t n;
    assert_int_equal(tg_seg_list(dir, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].seq, 1);
    assert_int_equal(v[1].seq, 2);
    assert_int_equal(v[2].seq, 10);
    assert_true(v[2].has[TG_SEG_CHAIN]);
    assert_false(v[2].has[TG_SEG_DATA]);
    free(v);
    char name[32];
    assert_string_equal(tg_seg_name(1, TG_SEG_DATA, name), "seg-0000000001.ndjson.gz");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sidecar_round_trip_and_torn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_and_head_round_trip, setup, teardown),
        cmocka_unit_test(test_record_time),
        cmocka_unit_test_setup_teardown(test_reader_members_torn_and_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_in_order, setup, teardown),
    };
    return cmocka_run_group_tests_name("segment", tests, NULL, NULL);
}
