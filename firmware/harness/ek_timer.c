#include "ek_timer.h"

#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define SCB_DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_LAR (*(volatile uint32_t *)0xE0001FB0u)
#define ICSR_PENDSTSET (1u << 26)
#define SYST_RELOAD 0x00FFFFFFu

static volatile uint32_t wraps;          /* completed wraps of the 24-bit SysTick or of CYCCNT */
#if EK_TIMER_DWT
static volatile uint32_t last_cyccnt;
#endif

void SysTick_Handler(void)
{
#if EK_TIMER_DWT
    uint32_t now = EK_DWT_CYCCNT;
    if (now < last_cyccnt)
        wraps++;
    last_cyccnt = now;
#else
    wraps++;
#endif
}

void ek_timer_init(void)
{
#if EK_TIMER_DWT
    SCB_DEMCR |= 1u << 24;        /* TRCENA: power the DWT */
    DWT_LAR = 0xC5ACCE55u;        /* unlock (needed on Cortex-M7, ignored elsewhere) */
    EK_DWT_CYCCNT = 0;
    EK_DWT_CTRL |= 1u;            /* CYCCNTENA */
    last_cyccnt = 0;
#endif
    wraps = 0;
    EK_SYST_RVR = SYST_RELOAD;
    EK_SYST_CVR = 0;
    EK_SYST_CSR = 7u;             /* processor clock, interrupt, enable */
#if !EK_TIMER_DWT
    /* QEMU's SysTick reads 0 until its first reload: wait for it so the first stamps are valid */
    while (EK_SYST_CVR == 0) {
    }
#endif
}

uint64_t ek_timer_now(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
#if EK_TIMER_DWT
    uint32_t lo = EK_DWT_CYCCNT;
    uint32_t hi = wraps;
    if (lo < last_cyccnt)         /* wrapped since the interrupt last looked */
        hi++;
    uint64_t t = ((uint64_t)hi << 32) | lo;
#else
    uint32_t lo = EK_SYST_CVR;
    uint32_t hi = wraps;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        /* wrapped, interrupt not yet taken; lo may be from before or after the wrap: read again */
        lo = EK_SYST_CVR;
        hi++;
    }
    uint64_t t = ((uint64_t)hi << 24) + (SYST_RELOAD - lo);
#endif
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
    return t;
}

/* reads (1..8) the last sync saw before the edge: 1 or 8 would mean the edge fell outside the
 * sampling window (the lock failed); CALIBRATE reports it so tests can check the lock */
volatile uint32_t ek_sync_reads;

#if EK_TIMER_DWT
void ek_timer_sync(void)
{
}
#else
#ifndef EK_SYNC_SPIN
/* Loop count that centres the 8 sampling reads on the next edge, one tick period after the first. */
#define EK_SYNC_SPIN (((1000000000u / EK_TIMER_HZ) - 9u) / 2u)
#endif
/* Three steps, all with fixed instruction counts except where noted:
 * 1. coarse: wait for a value v with v % 4 == 1, then for the edge to v - 1 (v % 4 == 0 makes
 *    the edge pattern of a fractional ticks-per-instruction ratio, as on mps3-an547, repeat);
 *    this loop exits 0..2 instructions after the edge;
 * 2. spin to just before the next edge and read the counter 8 times in a row, one instruction
 *    apart: the number i of reads before the change gives the exact phase;
 * 3. burn i more instructions (branch-free count, then a 2-instruction loop and a 1-instruction
 *    odd fix-up whose taken/not-taken paths differ by exactly one instruction). */
__attribute__((naked, noinline)) void ek_timer_sync(void)
{
    __asm volatile(
        "push {r4, r5, r6, lr}\n"
        "ldr r0, =0xE000E018\n"
        "1: ldr r1, [r0]\n"
        "and r2, r1, #3\n"
        "cmp r2, #1\n"
        "bne 1b\n"
        "2: ldr r2, [r0]\n"
        "cmp r2, r1\n"
        "beq 2b\n"
        "movs r3, %[spin]\n"
        "3: subs r3, r3, #1\n"
        "bne 3b\n"
        "ldr r1, [r0]\n"
        "ldr r2, [r0]\n"
        "ldr r3, [r0]\n"
        "ldr r4, [r0]\n"
        "ldr r5, [r0]\n"
        "ldr r6, [r0]\n"
        "ldr r12, [r0]\n"
        "ldr lr, [r0]\n"
        "movs r0, #1\n"
        "subs r2, r2, r1\n clz r2, r2\n lsrs r2, r2, #5\n add r0, r0, r2\n"
        "subs r3, r3, r1\n clz r3, r3\n lsrs r3, r3, #5\n add r0, r0, r3\n"
        "subs r4, r4, r1\n clz r4, r4\n lsrs r4, r4, #5\n add r0, r0, r4\n"
        "subs r5, r5, r1\n clz r5, r5\n lsrs r5, r5, #5\n add r0, r0, r5\n"
        "subs r6, r6, r1\n clz r6, r6\n lsrs r6, r6, #5\n add r0, r0, r6\n"
        "subs r12, r12, r1\n clz r12, r12\n lsrs r12, r12, #5\n add r0, r0, r12\n"
        "subs lr, lr, r1\n clz lr, lr\n lsrs lr, lr, #5\n add r0, r0, lr\n"
        "ldr r1, =ek_sync_reads\n"
        "str r0, [r1]\n"
        "lsrs r1, r0, #1\n"
        "beq 5f\n"
        "4: subs r1, r1, #1\n"
        "bne 4b\n"
        "5: tst r0, #1\n"
        "beq 6f\n"
        "nop\n"
        "6: pop {r4, r5, r6, pc}\n"
        ".ltorg\n"
        :: [spin] "i"(EK_SYNC_SPIN));
}
#endif
