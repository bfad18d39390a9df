/*
 * fuzz.h - what every fuzz harness in tests/fuzz/ provides.
 *
 * A harness defines LLVMFuzzerTestOneInput (libFuzzer's entry point).  It is
 * linked either with -fsanitize=fuzzer (./configure --enable-fuzzers
 * CC=clang: a real fuzzer) or with replay.c (a plain main that feeds every
 * file of tests/fuzz/corpus/<name>/ once and speaks TAP; `make check` runs
 * it).  A harness aborts on any broken invariant so that both notice.
 *
 * Fuzzing (not part of make check), from a build directory:
 *   ../configure --enable-fuzzers CC=clang && make tests/fuzz/fuzz_snoopy
 *   mkdir -p work && cp ../tests/fuzz/corpus/snoopy/\* work/
 *   ./tests/fuzz/fuzz_snoopy -max_total_time=300 -max_len=12000 work
 *   ./tests/fuzz/fuzz_snoopy -merge=1 NEWDIR ../tests/fuzz/corpus/snoopy work
 * then replace the corpus with NEWDIR, and turn every crash-* file into a
 * golden case (tests/golden/) before fixing it.
 */
#ifndef TG_FUZZ_H
#define TG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed receive time, so runs are reproducible. */
#define TG_FUZZ_NOW ((struct tg_time){1764000000, 0, 6})

/* Abort unless [p, p+n) is exactly one strict, valid-UTF-8 JSON object
 * (json-c's strict mode): the invariant of every serialized event. */
static inline void tg_fuzz_json_object(const char *p, size_t n)
{
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, p, (int)n);
    if (!o || !json_object_is_type(o, json_type_object) || json_tokener_get_parse_end(tok) != n)
        abort();
    json_object_put(o);
    json_tokener_free(tok);
}

#endif
