/* A firmware that enables clocks the way STM32F4 code does (RCC_AHB1ENR at 0x40023830)
 * and reads the register back: an unmodelled peripheral for armsim while a script's
 * set-up has opened them, a fault under --peripherals strict or with no script. */
#include <stdint.h>

int main(void) {
    volatile uint32_t *ahb1enr = (volatile uint32_t *)0x40023830u;
    *ahb1enr |= 0x1FFu;
    return (int)(*ahb1enr & 0xFFu);
}
