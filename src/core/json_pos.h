/* Positions of values in raw JSON text, for error messages of the config
 * loader (jansson keeps no positions). Runs only on the error path, over text
 * that jansson accepted (or, for a duplicate key, the valid prefix before it).
 * Lines and columns are 1-based and counted like jansson: lines by '\n',
 * columns in characters (UTF-8 continuation bytes do not count). */
#ifndef N4D_JSON_POS_H
#define N4D_JSON_POS_H

#include <stdbool.h>
#include <stddef.h>

/* One step of a key path: an object key (decoded UTF-8, as jansson gives it)
 * or, when key is NULL, an array index. */
typedef struct n4d__json_seg {
    const char *key;
    size_t index;
} n4d__json_seg;

/* Line and column of the value at `path` (depth segments; depth 0 = the root
 * value), or of its key when `at_key` and the last segment is a key. When the
 * path does not exist completely, the position of the deepest element that
 * does (so a missing key reports its parent object). Returns the number of
 * segments found. */
size_t n4d__json_pos(const char *text, size_t len, const n4d__json_seg *path, size_t depth,
                     bool at_key, int *line, int *col);

/* For jansson's duplicate-key error: finds the object key whose closing quote
 * ends just before byte `offset`, writes its key path ("a.b[2].key", keys as
 * written in the text) to buf (cap bytes, truncated, NUL-terminated) and the
 * line and column of its opening quote. Returns false if there is none. */
bool n4d__json_key_ending_at(const char *text, size_t len, size_t offset, char *buf, size_t cap,
                             int *line, int *col);

/* Line and column of byte `offset`. */
void n4d__json_linecol(const char *text, size_t len, size_t offset, int *line, int *col);

#endif
