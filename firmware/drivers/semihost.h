/* Arm semihosting SYS_EXIT_EXTENDED: QEMU (-semihosting-config enable=on,target=native) exits
 * with the given status. Without semihosting enabled this BKPT faults, so only QEMU boards use it. */
#ifndef EK_SEMIHOST_H
#define EK_SEMIHOST_H

#include <stdint.h>

static inline void semihost_exit(int code)
{
    volatile uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
    register uint32_t r0 __asm__("r0") = 0x20u;   /* SYS_EXIT_EXTENDED */
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

#endif
