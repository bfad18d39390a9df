/*
 * timeutil.c - timestamp parsing.  See timeutil.h.
 *
 * Hand-written digit scanning rather than strptime(): strptime is locale-
 * and TZ-dependent, slow, and cannot report fraction digits.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/timeutil.h"

int64_t tg_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int tg_digits(const char *p, size_t n, size_t k, unsigned *out)
{
    unsigned v = 0;
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return 1;
}

static int tg_valid_hms(unsigned h, unsigned mi, unsigned s)
{
    return h < 24 && mi < 60 && s <= 60;
}

/* A day that exists: no February 30th (which timegm-style arithmetic would
 * quietly turn into March 2nd). */
static int tg_valid_date(unsigned y, unsigned mo, unsigned d)
{
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1)
        return 0;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= (unsigned)(mdays[mo - 1] + (mo == 2 && leap));
}

size_t tg_time_parse_iso(const char *p, size_t n, struct tg_time *out)
{
    unsigned y, mo, d, h, mi, s;
    if (n < 19 || !tg_digits(p, n, 4, &y) || p[4] != '-' || !tg_digits(p + 5, 2, 2, &mo) ||
        p[7] != '-' || !tg_digits(p + 8, 2, 2, &d) ||
        (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || !tg_digits(p + 11, 2, 2, &h) ||
        p[13] != ':' || !tg_digits(p + 14, 2, 2, &mi) || p[16] != ':' ||
        !tg_digits(p + 17, 2, 2, &s))
        return 0;
    if (!tg_valid_date(y, mo, d) || !tg_valid_hms(h, mi, s))
        return 0;
    size_t i = 19;
    int32_t nsec = 0;
    int frac = 0;
    if (i < n && (p[i] == '.' || p[i] == ',') && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '9') {
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (frac < 9) {
                nsec = nsec * 10 + (p[i] - '0');
                frac++;
            }
            i++;
        }
        for (int k = frac; k < 9; k++)
            nsec *= 10;
    }
    int64_t off = 0;
    if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
        i++;
    } else if (i < n && (p[i] == '+' || p[i] == '-')) {
        unsigned oh, om;
        int sign = p[i] == '-' ? -1 : 1;
        if (!tg_digits(p + i + 1, n - i - 1, 2, &oh))
            return 0;
        size_t j = i + 3;
        if (j < n && p[j] == ':')
            j++;
        if (!tg_digits(p + j, n - j, 2, &om) || oh > 23 || om > 59)
            return 0;
        off = sign * (int64_t)(oh * 3600 + om * 60);
        i = j + 2;
    } else if (n - i >= 4 && memcmp(p + i, " UTC", 4) == 0) {
        i += 4;
    }
    out->sec = tg_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
    out->nsec = nsec;
    out->frac = (int8_t)frac;
    return i;
}

size_t tg_time_parse_bsd(const char *p, size_t n, int64_t ref_sec, struct tg_time *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    unsigned d, h, mi, s, mo = 0;
    if (n < 15 || p[3] != ' ')
        return 0;
    for (unsigned m = 0; m < 12; m++)
        if (memcmp(p, months + 3 * m, 3) == 0)
            mo = m + 1;
    if (!mo)
        return 0;
    if (p[4] == ' ') {
        if (!tg_digits(p + 5, 1, 1, &d))
            return 0;
    } else if (!tg_digits(p + 4, 2, 2, &d)) {
        return 0;
    }
    if (p[6] != ' ' || !tg_digits(p + 7, 2, 2, &h) || p[9] != ':' ||
        !tg_digits(p + 10, 2, 2, &mi) || p[12] != ':' || !tg_digits(p + 13, 2, 2, &s) || d < 1 ||
        d > 31 || !tg_valid_hms(h, mi, s))
        return 0;
    int64_t ref_days = ref_sec / 86400;
    /* year of the reference time */
    int64_t y = 1970 + ref_days / 366;
    while (tg_days_from_civil(y + 1, 1, 1) <= ref_days)
        y++;
    int64_t best = 0, best_dist = INT64_MAX;
    for (int64_t cand = y - 1; cand <= y + 1; cand++) {
        if (!tg_valid_date((unsigned)cand, mo, d))
            continue; /* Feb 29 only in a leap year */
        int64_t t = tg_days_from_civil(cand, mo, d) * 86400 + h * 3600 + mi * 60 + s;
        int64_t dist = llabs(t - ref_sec);
        if (dist < best_dist) {
            best_dist = dist;
            best = t;
        }
    }
    if (best_dist == INT64_MAX)
        return 0;
    out->sec = best;
    out->nsec = 0;
    out->frac = 0;
    return 15;
}

int tg_time_parse_arg(const char *s, struct tg_time now, struct tg_time *out)
{
    size_t n = strlen(s);
    *out = now;
    if (strcmp(s, "now") == 0)
        return 0;
    if (s[0] == '-' || s[0] == '+') {
        char *end;
        long long v = strtoll(s + 1, &end, 10);
        if (end == s + 1 || v < 0 || end[0] == '\0' || end[1] != '\0')
            return TG_EINVAL;
        long long mult;
        switch (*end) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        case 'w':
            mult = 7 * 86400;
            break;
        default:
            return TG_EINVAL;
        }
        out->sec = now.sec + (s[0] == '-' ? -1 : 1) * v * mult;
        return 0;
    }
    if (tg_time_parse_iso(s, n, out) == n)
        return 0;
    unsigned y, mo, d;
    if (n == 10 && tg_digits(s, 4, 4, &y) && s[4] == '-' && tg_digits(s + 5, 2, 2, &mo) &&
        s[7] == '-' && tg_digits(s + 8, 2, 2, &d) && tg_valid_date(y, mo, d)) {
        *out = (struct tg_time){tg_days_from_civil(y, mo, d) * 86400, 0, 0};
        return 0;
    }
    return TG_EINVAL;
}
