/*
 * fuzz_config.c - libFuzzer harness for the INI configuration loader: any
 * bytes must give either a config or TG_ECONFIG with messages, never a
 * crash, a leak or undefined behaviour.  The loader's messages go to
 * stderr (run libFuzzer with -close_fd_mask=2 to silence them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/errors.h"
#include "tests/fuzz/fuzz.h"
#include "tools/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0'; /* the loader reads C strings: stop at the first NUL */
    struct tg_config *cfg = NULL;
    if (tg_registry_load_config_string("fuzz.ini", text, &cfg) == 0) {
        if (!tg_config_get(cfg, "collector"))
            abort(); /* an implicit section must always exist */
        tg_config_free(cfg);
    }
    free(text);
    return 0;
}
