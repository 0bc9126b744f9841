/* Reset and exception handling shared by every Cortex-M board: vector table, .data/.bss set-up,
 * FPU enable, stack painting (for the high-water mark) and a fault handler that tells the host. */
#include <stdint.h>
#include <string.h>

#include "ek_board.h"
#include "ek_stack.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
extern int main(void);
void ek_reset_handler(void);
void ek_fault_report(uint32_t kind, const uint32_t *frame);   /* ek_main.c */

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)

static void default_handler(void)
{
    for (;;) {
    }
}

/* Faults: hand the stacked frame to the harness, which sends a FAULT event and stops. */
__attribute__((naked)) static void fault_entry(void)
{
    __asm volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r1, msp\n"
        "mrsne r1, psp\n"
        "mrs r0, ipsr\n"
        "b ek_fault_report\n");
}

void SysTick_Handler(void);   /* ek_timer.c */

typedef void (*vector_fn)(void);
__attribute__((section(".vectors"), used)) const vector_fn ek_vectors[16] = {
    (vector_fn)(uintptr_t)&_estack,
    ek_reset_handler,
    fault_entry,      /* NMI */
    fault_entry,      /* HardFault */
    fault_entry,      /* MemManage */
    fault_entry,      /* BusFault */
    fault_entry,      /* UsageFault */
    fault_entry,      /* SecureFault (v8-M) */
    0, 0, 0,
    default_handler,  /* SVC */
    default_handler,  /* DebugMon */
    0,
    default_handler,  /* PendSV */
    SysTick_Handler,
};

void ek_reset_handler(void)
{
    /* Enable CP10/CP11 first: later code (even the copy loops, on M55 with MVE) may use them. */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n isb" ::: "memory");
    SCB_VTOR = (uint32_t)(uintptr_t)ek_vectors;
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    /* v8-M: a stack overflow faults instead of silently running into .data */
    __asm volatile("msr msplim, %0" ::"r"((uint32_t)(uintptr_t)&_sstack));
#endif
    SCB_SHCSR |= 0x7u << 16;      /* separate MemManage/BusFault/UsageFault handlers */

    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
    ek_stack_paint();
    ek_board_init();
    (void)main();
    ek_board_exit(0);
    for (;;) {
    }
}
