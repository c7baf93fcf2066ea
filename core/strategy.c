/* Strategy capabilities as words (pb_strategy.h, and the lock kind's own
 * bits of pb_lock.h), for `pendbench list`, the micro summary and the
 * README's table. */
#include <stdio.h>
#include <string.h>

#include "pb_lock.h"
#include "pb_strategy.h"

static const struct { unsigned flag; const char *word; } flag_words[] = {
    { PB_BASELINE, "baseline" },
    { PB_REFERENCE, "reference" },
    { PB_IN_SUITE, "in-suite" },
    { PB_MAY_BE_UNAVAILABLE, "may-be-unavailable" },
    { PB_NEVER_YIELDS, "never-yields" },
    { PB_TYPE_STABLE, "type-stable" },
    { PB_BOUNDED, "bounded" },
    { PB_SHARED, "shared" },
    { PB_STEALS, "steals" },
    { PB_FIFO_PER_PRODUCER, "fifo-per-producer" },
    { PB_BROKEN, "broken" },
    /* locks (pb_lock.h) */
    { PB_LOCK_FIFO, "fifo" },
    { PB_LOCK_NUMA, "numa" },
    { PB_LOCK_SLEEPS, "sleeps" },
    { PB_LOCK_TRYLOCK, "trylock" },
    { PB_LOCK_IN_WORD, "in-word" },
    { PB_LOCK_PTHREAD, "pthread" },
};

const char *pb_strategy_flag_word(unsigned flag)
{
    for (size_t i = 0; i < sizeof flag_words / sizeof flag_words[0]; i++)
        if (flag_words[i].flag == flag)
            return flag_words[i].word;
    return NULL;
}

const char *pb_strategy_flags_text(unsigned flags, char *buf, size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = 0;
    for (unsigned bit = 0; bit < 32; bit++) {
        const char *w = (flags >> bit) & 1u ? pb_strategy_flag_word(1u << bit) : NULL;
        if (!w)
            continue;
        int n = snprintf(buf + used, used < size ? size - used : 0, "%s%s", used ? " " : "", w);
        if (n < 0 || used + (size_t)n >= size)
            break;
        used += (size_t)n;
    }
    return buf;
}
