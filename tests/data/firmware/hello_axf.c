/* A tiny program for the armlink-style image test: a loop to profile, ITM output, a result. */
#include <stdint.h>

#define ITM_PORT0_U8 (*(volatile uint8_t *)0xE0000000u)
#define ITM_PORT0 (*(volatile uint32_t *)0xE0000000u)

volatile int32_t result;
int32_t table[64] = {1, 2, 3};

static void itm_puts(const char *s)
{
    for (; *s; s++) {
        while (ITM_PORT0 == 0) {
        }
        ITM_PORT0_U8 = (uint8_t)*s;
    }
}

__attribute__((noinline)) int32_t accumulate(const int32_t *v, int n)
{
    int32_t s = 0;
    for (int i = 0; i < n; i++) {
        s += v[i] * (i + 1);
    }
    return s;
}

int main(void)
{
    for (int i = 3; i < 64; i++) {
        table[i] = i;
    }
    result = accumulate(table, 64);
    itm_puts("axf ok\n");
    return 0;
}
