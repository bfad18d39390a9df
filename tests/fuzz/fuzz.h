/*
 * fuzz.h - what every fuzz harness in tests/fuzz/ provides.
 *
 * A harness defines LLVMFuzzerTestOneInput (libFuzzer's entry point).  It is
 * linked either with -fsanitize=fuzzer (./configure --enable-fuzzers
 * CC=clang: a real fuzzer) or with replay.c (a plain main that feeds every
 * file of tests/fuzz/corpus/<name>/ once and speaks TAP; `make check` runs
 * it).  A harness aborts on any broken invariant so that both notice.
 */
#ifndef TG_FUZZ_H
#define TG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed receive time, so runs are reproducible. */
#define TG_FUZZ_NOW ((struct tg_time){1764000000, 0, 6})

#endif
