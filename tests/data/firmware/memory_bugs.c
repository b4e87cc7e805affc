/* Firmware with the memory errors a board never shows; BUG selects one (0: none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BUG
#define BUG 0
#endif

static int sum(const int *v, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++) {
        s += v[i];
    }
    return s;
}

__attribute__((noipa)) void fill_table(int *table, int n)
{
    for (int i = 0; i <= n - (BUG == 1 ? 0 : 1); i++) { /* BUG 1: one element too many */
        table[i] = i * i;
    }
}

__attribute__((noipa)) void label(char *name)
{
    name[0] = 'S';
}

__attribute__((noipa)) int use_after_free(void)
{
    char *name = malloc(16);
    strcpy(name, "sensor");
    free(name);
#if BUG == 2
    label(name); /* BUG 2: write after free */
#endif
    return 0;
}

__attribute__((noipa)) int average(int n)
{
    int *samples = malloc(n * sizeof(int));
    for (int i = 0; i < n - (BUG == 3 ? 1 : 0); i++) { /* BUG 3: last sample never set */
        samples[i] = 10 + i;
    }
    int s = sum(samples, n);
    free(samples);
    return s / n;
}

#if BUG == 4
/* BUG 4: recursion that grows the stack down into the heap */
__attribute__((noipa)) int deep(const char *heap_block, int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if ((const char *)frame > heap_block + 16) {
        return deep(heap_block, depth + 1) + frame[0];
    }
    return frame[0];
}
#endif

int main(void)
{
    int *table = malloc(8 * sizeof(int));
    int *other = malloc(8 * sizeof(int));
    memset(other, 0, 8 * sizeof(int));
    fill_table(table, 8);
    printf("table sum %d, other %d\n", sum(table, 8), other[0]);
    use_after_free();
    printf("average %d\n", average(6));
    char *text = calloc(32, 1);
    snprintf(text, 32, "%s-%d", "ok", 7);
    text = realloc(text, 64);
    strcat(text, " done");
    puts(text);
    free(text);
#if BUG == 4
    printf("depth %d\n", deep((const char *)other, 0));
#endif
    free(other);
    free(table);
    return 0;
}
