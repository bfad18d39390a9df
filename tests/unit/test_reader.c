/*
 * test_reader.c - the line reader: plain and gzip input, a last line without
 * LF, blank lines, NUL bytes kept, a line over the record limit cut and
 * its tail skipped, and a corrupt gzip stream reported as an error.
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

#include "core/errors.h"
#include "ingest/reader.h"

static char path[64];

static void write_file(const void *data, size_t n, bool gz)
{
    strcpy(path, "/tmp/tg-reader-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    if (gz) {
        gzFile g = gzdopen(fd, "wb");
        assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
        gzclose(g);
    } else {
        assert_int_equal(write(fd, data, n), (ssize_t)n);
        close(fd);
    }
}

static void expect_lines(const char *const *want, const size_t *lens, size_t nwant)
{
    struct tg_reader *r;
    assert_int_equal(tg_reader_open(path, &r), 0);
    const char *rec, *err;
    size_t len;
    bool cut;
    for (size_t i = 0; i < nwant; i++) {
        assert_int_equal(tg_reader_next(r, &rec, &len, &cut, &err), 0);
        assert_int_equal(len, lens[i]);
        assert_memory_equal(rec, want[i], len);
        assert_false(cut);
    }
    assert_int_equal(tg_reader_next(r, &rec, &len, &cut, &err), TG_ECLOSED);
    tg_reader_close(r);
    unlink(path);
}

static void test_plain_and_gzip(void **state)
{
    static const char data[] = "one\n\ntwo\0with nul\nlast without lf";
    const char *const want[] = {"one", "", "two\0with nul", "last without lf"};
    const size_t lens[] = {3, 0, 12, 15};
    for (int gz = 0; gz <= 1; gz++) {
        write_file(data, sizeof(data) - 1, gz);
        expect_lines(want, lens, 4);
    }
}

static void test_long_line_is_cut(void **state)
{
    size_t big = TG_READER_MAX_RECORD + 1000;
    char *data = malloc(big + 10);
    memset(data, 'x', big);
    memcpy(data + big, "\nnext\n", 6);
    write_file(data, big + 6, false);
    free(data);
    struct tg_reader *r;
    assert_int_equal(tg_reader_open(path, &r), 0);
    const char *rec, *err;
    size_t len;
    bool cut;
    assert_int_equal(tg_reader_next(r, &rec, &len, &cut, &err), 0);
    assert_int_equal(len, TG_READER_MAX_RECORD);
    assert_true(cut);
    assert_int_equal(tg_reader_next(r, &rec, &len, &cut, &err), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(rec, "next", 4);
    assert_false(cut);
    assert_int_equal(tg_reader_next(r, &rec, &len, &cut, &err), TG_ECLOSED);
    tg_reader_close(r);
    unlink(path);
}

static void test_corrupt_gzip_is_an_error(void **state)
{
    char data[4096];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i % 26);
    write_file(data, sizeof(data), true);
    /* flip bytes in the middle of the deflate stream */
    FILE *f = fopen(path, "r+b");
    fseek(f, 20, SEEK_SET);
    fputs("\xff\xff\xff\xff\xff\xff", f);
    fclose(f);
    struct tg_reader *r;
    assert_int_equal(tg_reader_open(path, &r), 0);
    const char *rec, *err = NULL;
    size_t len;
    bool cut;
    int rc;
    int guard = 0;
    while ((rc = tg_reader_next(r, &rec, &len, &cut, &err)) == 0 && guard++ < 10000)
        ;
    assert_int_equal(rc, TG_EIO);
    assert_non_null(err);
    tg_reader_close(r);
    unlink(path);
}

static void test_missing_file(void **state)
{
    struct tg_reader *r;
    assert_int_equal(tg_reader_open("/nonexistent/file", &r), TG_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_gzip),
        cmocka_unit_test(test_long_line_is_cut),
        cmocka_unit_test(test_corrupt_gzip_is_an_error),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests_name("reader", tests, NULL, NULL);
}
