/* Firmware that talks: printf through semihosting, ITM port 0, DWT CYCCNT around a loop,
 * globals of every --read type, a BKPT or an endless loop on request, an exit status. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ITM_PORT0 (*(volatile uint32_t *)0xE0000000u)
#define ITM_PORT0_U8 (*(volatile uint8_t *)0xE0000000u)
#define ITM_TER (*(volatile uint32_t *)0xE0000E00u)
#define ITM_TCR (*(volatile uint32_t *)0xE0000E80u)
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)

#ifndef LOOPS
#define LOOPS 100
#endif
#ifndef STATUS
#define STATUS 3
#endif

float f32_values[3] = {1.5f, -2.25f, 1e-3f};
int8_t i8_values[4] = {-128, -1, 0, 127};
uint8_t u8_values[4] = {0, 1, 200, 255};
int16_t i16_values[2] = {-32768, 1234};
uint16_t u16_values[2] = {65535, 7};
int32_t i32_values[2] = {-2147483647 - 1, 42};
uint32_t u32_values[2] = {4294967295u, 9};
volatile uint32_t cycles_measured;

static void itm_send(char c)
{
    if ((ITM_TCR & 1u) && (ITM_TER & 1u)) { /* as CMSIS's ITM_SendChar */
        while (ITM_PORT0 == 0u) {
        }
        ITM_PORT0_U8 = (uint8_t)c;
    }
}

__attribute__((noipa)) void busy_loop(volatile int *counter, int n)
{
    for (int i = 0; i < n; i++) {
        *counter += i;
    }
}

__attribute__((noipa)) void reached(void)
{
}

/* the host reads these after the run: keep them (--gc-sections drops unreferenced data) */
static void *volatile keep[] = {f32_values, i8_values, u8_values, i16_values, u16_values,
                                i32_values, u32_values};

int main(void)
{
    volatile int counter = 0;
    (void)keep[0];
    printf("hello from the firmware: %d\n", 42);
    for (const char *s = "itm says hi\n"; *s; s++) {
        itm_send(*s);
    }
    SYST_RVR = 1000;
    SYST_CSR = 7; /* SysTick on: armsim must not fault */
    DEMCR |= 1u << 24;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
    uint32_t t0 = DWT_CYCCNT;
    busy_loop(&counter, LOOPS);
    uint32_t t1 = DWT_CYCCNT;
    cycles_measured = t1 - t0;
    printf("cycles %lu\n", (unsigned long)cycles_measured);
    reached();
#ifdef DO_BKPT
    __asm volatile("bkpt #3");
#endif
#ifdef HANG
    for (;;) {
        counter++;
    }
#endif
    return STATUS;
}
