/* One misbehaving kernel per FAULT_CASE, each reached from the reset handler:
 *   1 read of unmapped memory     2 endless loop (b .)     3 write to flash */
    .syntax unified
    .cpu cortex-m4
    .thumb

    .section .isr_vector, "a"
    .word 0x20008000
    .word Reset_Handler

    .text
    .type Reset_Handler, %function
    .global Reset_Handler
Reset_Handler:
    bl bad_kernel
    b armsim_halt

    .type bad_kernel, %function
    .global bad_kernel
bad_kernel:
#if FAULT_CASE == 1
    ldr r1, =0x30000000
    ldr r0, [r1, #4]
#elif FAULT_CASE == 2
    b .
#elif FAULT_CASE == 3
    ldr r1, =0x00000100
    str r0, [r1]
#endif
    bx lr
    .ltorg
    .size bad_kernel, . - bad_kernel

    .type armsim_halt, %function
    .global armsim_halt
armsim_halt:
    bkpt #0
    b armsim_halt
    .size armsim_halt, . - armsim_halt
