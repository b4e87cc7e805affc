/* armsim run --between: a stretch of known length between two global labels (ten NOPs),
 * and a loop in a function called after it. */
#include <stdint.h>

volatile uint32_t sink;

__attribute__((noinline)) void work(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        sink += i;
    }
}

int main(void)
{
    __asm volatile(".global bench_start\nbench_start:\n"
                   " nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"
                   ".global bench_end\nbench_end:\n nop");
    work(100);
    return 0;
}
