/* Positions of values in raw JSON text (see json_pos.h): a minimal tokenizer
 * (strings with escapes, scalars, nesting) over text jansson has accepted. */
#include "json_pos.h"

#include <stdio.h>
#include <string.h>

typedef struct scan {
    const char *s;
    size_t n, i;
} scan;

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(scan *p)
{
    while (p->i < p->n && is_ws(p->s[p->i]))
        p->i++;
}

/* At '"': moves past the closing quote. */
static bool skip_string(scan *p)
{
    p->i++;
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c == '\\')
            p->i += 2;
        else if (c == '"') {
            p->i++;
            return true;
        } else
            p->i++;
    }
    return false;
}

/* A number or a literal: up to the next delimiter (always advances). */
static void skip_scalar(scan *p)
{
    do
        p->i++;
    while (p->i < p->n && !is_ws(p->s[p->i]) && !strchr(",:]}[{\"", p->s[p->i]));
}

static bool skip_value(scan *p)
{
    size_t depth = 0;
    do {
        if (p->i >= p->n)
            return false;
        char c = p->s[p->i];
        if (c == '"') {
            if (!skip_string(p))
                return false;
        } else if (c == '{' || c == '[') {
            depth++;
            p->i++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return false;
            depth--;
            p->i++;
        } else if (is_ws(c) || c == ',' || c == ':') {
            if (depth == 0)
                return false;
            p->i++;
        } else {
            skip_scalar(p);
        }
    } while (depth > 0);
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(const char *s, size_t i, size_t end, unsigned long *v)
{
    if (i + 4 > end)
        return false;
    *v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(s[i + k]);
        if (h < 0)
            return false;
        *v = (*v << 4) | (unsigned long)h;
    }
    return true;
}

static size_t utf8_put(unsigned long cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Whether the raw string contents s[i, end) (escapes undecoded) equal the
 * decoded, NUL-terminated `key`. */
static bool key_equals(const char *s, size_t i, size_t end, const char *key)
{
    const unsigned char *k = (const unsigned char *)key;
    while (i < end) {
        unsigned char buf[4];
        size_t nb = 1;
        if (s[i] != '\\') {
            buf[0] = (unsigned char)s[i++];
        } else {
            if (i + 1 >= end)
                return false;
            char e = s[i + 1];
            i += 2;
            switch (e) {
            case '"': case '\\': case '/': buf[0] = (unsigned char)e; break;
            case 'b': buf[0] = '\b'; break;
            case 'f': buf[0] = '\f'; break;
            case 'n': buf[0] = '\n'; break;
            case 'r': buf[0] = '\r'; break;
            case 't': buf[0] = '\t'; break;
            case 'u': {
                unsigned long cp, lo;
                if (!hex4(s, i, end, &cp))
                    return false;
                i += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= end && s[i] == '\\' && s[i + 1] == 'u'
                    && hex4(s, i + 2, end, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
                nb = utf8_put(cp, buf);
                break;
            }
            default: return false;
            }
        }
        for (size_t j = 0; j < nb; j++)
            if (*k++ != buf[j])
                return false;
    }
    return *k == '\0';
}

void n4d__json_linecol(const char *text, size_t len, size_t offset, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* At the value of a container: moves to the value of member `seg` (and
 * its key's offset into *keypos). */
static bool enter(scan *p, const n4d__json_seg *seg, size_t *keypos)
{
    const char open = seg->key ? '{' : '[', close = seg->key ? '}' : ']';
    if (p->i >= p->n || p->s[p->i] != open)
        return false;
    p->i++;
    for (size_t idx = 0;; idx++) {
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] == close)
            return false;
        if (seg->key) {
            if (p->s[p->i] != '"')
                return false;
            size_t k0 = p->i;
            if (!skip_string(p))
                return false;
            bool eq = key_equals(p->s, k0 + 1, p->i - 1, seg->key);
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':')
                return false;
            p->i++;
            skip_ws(p);
            if (eq) {
                *keypos = k0;
                return true;
            }
        } else if (idx == seg->index) {
            *keypos = p->i;
            return true;
        }
        if (!skip_value(p))
            return false;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',')
            p->i++;
    }
}

size_t n4d__json_pos(const char *text, size_t len, const n4d__json_seg *path, size_t depth,
                     bool at_key, int *line, int *col)
{
    scan p = {text, len, 0};
    skip_ws(&p);
    size_t best = p.i, k;
    for (k = 0; k < depth; k++) {
        size_t keypos;
        if (!enter(&p, &path[k], &keypos))
            break;
        best = (at_key && k + 1 == depth && path[k].key) ? keypos : p.i;
    }
    n4d__json_linecol(text, len, best, line, col);
    return k;
}

/* ---- path of the key ending at an offset -------------------------------- */

#define MAX_LEVELS 64

typedef struct level {
    char kind;            /* '{' or '[' */
    bool expect_key;      /* object: next token is a key (or ',' / '}') */
    size_t index;         /* array: index of the current element */
    size_t key0, key1;    /* object: raw contents of the current key */
} level;

static void append(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
    while (len-- && *n + 1 < cap)
        buf[(*n)++] = *s++;
    buf[*n] = '\0';
}

static void write_path(const char *text, const level *st, size_t d, size_t key0, size_t key1,
                       char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    /* the member of each enclosing container, then the key itself */
    for (size_t l = 0; l + 1 < d; l++) {
        if (st[l].kind == '[') {
            char idx[32];
            int k = snprintf(idx, sizeof idx, "[%zu]", st[l].index);
            append(buf, cap, &n, idx, (size_t)k);
        } else {
            if (n > 0)
                append(buf, cap, &n, ".", 1);
            append(buf, cap, &n, text + st[l].key0, st[l].key1 - st[l].key0);
        }
    }
    if (n > 0)
        append(buf, cap, &n, ".", 1);
    append(buf, cap, &n, text + key0, key1 - key0);
}

bool n4d__json_key_ending_at(const char *text, size_t len, size_t offset, char *buf, size_t cap,
                             int *line, int *col)
{
    level st[MAX_LEVELS];
    size_t d = 0;
    scan p = {text, len, 0};
    if (cap == 0)
        return false;
    for (;;) {
        skip_ws(&p);
        if (p.i >= p.n || p.i >= offset)
            return false;
        char c = text[p.i];
        level *top = d ? &st[d - 1] : NULL;
        if (top && top->kind == '{' && top->expect_key) {
            if (c == ',') {
                p.i++;
                continue;
            }
            if (c != '"')
                goto close_or_fail;
            size_t k0 = p.i;
            if (!skip_string(&p))
                return false;
            if (p.i == offset) {
                write_path(text, st, d, k0 + 1, p.i - 1, buf, cap);
                n4d__json_linecol(text, len, k0, line, col);
                return true;
            }
            top->key0 = k0 + 1;
            top->key1 = p.i - 1;
            top->expect_key = false;
            skip_ws(&p);
            if (p.i >= p.n || text[p.i] != ':')
                return false;
            p.i++;
            continue;
        }
        if (top && top->kind == '[' && c == ',') {
            top->index++;
            p.i++;
            continue;
        }
        if (c == '{' || c == '[') {
            if (d == MAX_LEVELS)
                return false;
            st[d].kind = c;
            st[d].expect_key = (c == '{');
            st[d].index = 0;
            st[d].key0 = st[d].key1 = 0;
            d++;
            p.i++;
            continue;
        }
    close_or_fail:
        if (c == '}' || c == ']') {
            if (!top)
                return false;
            d--;
            p.i++;
        } else if (c == '"') {
            if (!skip_string(&p))
                return false;
        } else {
            skip_scalar(&p);
        }
        /* a value ended */
        if (d == 0)
            return false;
        if (st[d - 1].kind == '{')
            st[d - 1].expect_key = true;
    }
}
