/*
 * test_reader.c - the byte reader: plain and gzip input give the same bytes
 * (NUL bytes kept, a last line without LF too), a large input comes whole,
 * and a corrupt gzip stream is reported as an error.  Lines are the
 * intake's (test_intake.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* Everything the reader gives for `path`, into a malloc'd buffer. */
static char *read_all(size_t *len)
{
    struct tg_reader *r;
    assert_int_equal(tg_reader_open(path, &r), 0);
    const char *p, *err;
    size_t n, total = 0;
    char *all = NULL;
    int rc;
    while ((rc = tg_reader_read(r, &p, &n, &err)) == 0) {
        assert_true(n > 0);
        all = realloc(all, total + n);
        memcpy(all + total, p, n);
        total += n;
    }
    assert_int_equal(rc, TG_ECLOSED);
    tg_reader_close(r);
    unlink(path);
    *len = total;
    return all;
}

static void test_plain_and_gzip(void **state)
{
    static const char data[] = "one\n\ntwo\0with nul\nlast without lf";
    for (int gz = 0; gz <= 1; gz++) {
        write_file(data, sizeof(data) - 1, gz);
        size_t n;
        char *got = read_all(&n);
        assert_int_equal(n, sizeof(data) - 1);
        assert_memory_equal(got, data, n);
        free(got);
    }
}

static void test_large_input_whole(void **state)
{
    size_t big = (3u << 20) + 17;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i % 251);
    for (int gz = 0; gz <= 1; gz++) {
        write_file(data, big, gz);
        size_t n;
        char *got = read_all(&n);
        assert_int_equal(n, big);
        assert_memory_equal(got, data, big);
        free(got);
    }
    free(data);
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
    const char *p, *err = NULL;
    size_t n;
    int rc;
    int guard = 0;
    while ((rc = tg_reader_read(r, &p, &n, &err)) == 0 && guard++ < 10000)
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
        cmocka_unit_test(test_large_input_whole),
        cmocka_unit_test(test_corrupt_gzip_is_an_error),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests_name("reader", tests, NULL, NULL);
}
