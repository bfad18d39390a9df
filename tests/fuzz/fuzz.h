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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed receive time, so runs are reproducible. */
#define TG_FUZZ_NOW ((struct tg_time){1764000000, 0, 6})

#endif
