/**
 * @file startup.c
 * @brief Vector table and reset handler: copy .data, zero .bss, enable the FPU, run the C++
 *        constructors (ARMSIM_CXX), run main,
 *        then stop at armsim_halt (a BKPT the emulator uses as its stop address).
 */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);

#if defined(ARMSIM_HOSTED)
/* Programs built with `armsim build --sources` link newlib's rdimon (semihosting): open the
 * console handles as rdimon's own crt0 would, and leave through exit() so stdio is flushed
 * and the status reaches the host (SYS_EXIT_EXTENDED). */
extern void initialise_monitor_handles(void);
extern void exit(int) __attribute__((noreturn));
#endif
#if defined(ARMSIM_CXX)
/* C++ programs (TFLM applications): run the global constructors (.init_array) first. */
extern void __libc_init_array(void);
#endif

void Reset_Handler(void) __attribute__((noreturn));
void armsim_halt(void) __attribute__((noreturn, naked));
void armsim_default_handler(void) __attribute__((noreturn, naked));

/** Coprocessor Access Control Register (System Control Space). */
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

__attribute__((section(".isr_vector"), used))
void (*const armsim_vectors[16])(void) = {
    (void (*)(void))(&_estack), /* initial SP */
    Reset_Handler,
    armsim_default_handler,     /* NMI */
    armsim_default_handler,     /* HardFault */
    armsim_default_handler,     /* MemManage */
    armsim_default_handler,     /* BusFault */
    armsim_default_handler,     /* UsageFault */
    0, 0, 0, 0,
    armsim_default_handler,     /* SVCall */
    armsim_default_handler,     /* DebugMon */
    0,
    armsim_default_handler,     /* PendSV */
    armsim_default_handler,     /* SysTick */
};

static void system_init(void)
{
#if defined(__ARM_FP)
    SCB_CPACR |= (0xFu << 20); /* full access to CP10 and CP11 */
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
}

void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    system_init();
#if defined(ARMSIM_CXX)
    __libc_init_array();
#endif
#if defined(ARMSIM_HOSTED)
    initialise_monitor_handles();
    exit(main());
#else
    (void)main();
    armsim_halt();
#endif
}

/** Where a finished run stops: the emulator's stop address and return sentinel. */
void armsim_halt(void)
{
    __asm volatile("1: bkpt #0\n\tb 1b");
}

/** Any exception: a BKPT with a different immediate, reported as a fault. */
void armsim_default_handler(void)
{
    __asm volatile("1: bkpt #1\n\tb 1b");
}
