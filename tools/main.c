/*
 * main.c - the `trailguard` binary.  The only file outside libtrailguard.a:
 * everything, the command line included (tools/cli.c), lives in the library
 * so that tests, fuzzers and benchmarks link the same code.
 */
#include "tools/commands.h"

int main(int argc, char **argv)
{
    return tg_cli_main(argc, argv);
}
