/* IT blocks whose conditions fail on some iterations: a per-instruction hook misses those
 * instructions, the CPU executes them (as no-ops). Counted by hand for N = 10:
 *   Reset_Handler: movs, bl                              2
 *   it_kernel prologue: movs, movs, movs                 3
 *   loop body x10: cmp, ite, add, add, cmp, itt, add,
 *                  add, subs, bne                       100
 *   epilogue: bx lr                                      1
 *   Reset_Handler tail: b armsim_halt                    1
 *   total to the halt (not executed)                   107 */
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
    movs r0, #0
    bl it_kernel
    b armsim_halt

    .type it_kernel, %function
    .global it_kernel
it_kernel:
    movs r0, #0
    movs r2, #0
    movs r1, #10
1:  cmp r1, #5
    ite gt
    addgt r0, r0, #1
    addle r0, r0, #2
    cmp r1, #3
    itt lt
    addlt r2, r2, #1
    addlt r2, r2, #1
    subs r1, #1
    bne 1b
    bx lr
    .size it_kernel, . - it_kernel

    .type armsim_halt, %function
    .global armsim_halt
armsim_halt:
    bkpt #0
    b armsim_halt
    .size armsim_halt, . - armsim_halt
