#include "ek_stack.h"

extern uint32_t _sstack, _estack;

/* Kept out of line and free of locals so the painted region ends just below the caller's frame. */
__attribute__((noinline)) void ek_stack_paint(void)
{
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    volatile uint32_t *p = &_sstack;
    volatile uint32_t *stop = (volatile uint32_t *)(sp - 64u);   /* leave this frame's words alone */
    while (p < stop)
        *p++ = EK_STACK_PATTERN;
}

uint32_t ek_stack_used_bytes(void)
{
    const volatile uint32_t *p = &_sstack;
    while (p < &_estack && *p == EK_STACK_PATTERN)
        p++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

uint32_t ek_stack_size_bytes(void)
{
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sstack);
}
