/* The timing counter. SysTick under QEMU (with -icount shift=0 it advances with executed
 * instructions, so counts are deterministic), DWT CYCCNT on real cores. Both are extended to 64
 * bits: SysTick wraps every 2^24 ticks and CYCCNT every 2^32 cycles; the SysTick interrupt counts
 * the wraps (for DWT boards it samples CYCCNT often enough to see each of its wraps). */
#ifndef EK_TIMER_H
#define EK_TIMER_H

#include <stdint.h>
#include "ek_board.h"

#define EK_SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define EK_SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define EK_SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define EK_DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define EK_DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)

/* EK_TIMER_RAW(): the cheapest read of the counter, for per-layer stamps (3 instructions).
 * EK_TIMER_ELAPSED(a, b): ticks from stamp a to stamp b, valid for spans below one wrap. */
#if EK_TIMER_DWT
#define EK_TIMER_RAW() (EK_DWT_CYCCNT)
#define EK_TIMER_ELAPSED(a, b) ((uint32_t)((b) - (a)))
#define EK_TIMER_RAW_SPAN 0xFFFFFFFFu
#else
#define EK_TIMER_RAW() (EK_SYST_CVR)
#define EK_TIMER_ELAPSED(a, b) ((uint32_t)(((a) - (b)) & 0x00FFFFFFu))  /* SysTick counts down */
#define EK_TIMER_RAW_SPAN 0x00FFFFFFu
#endif

void ek_timer_init(void);
uint64_t ek_timer_now(void);   /* monotonic, 64-bit, in timer ticks */

/* Start a measurement at a fixed phase of the counter. SysTick under QEMU ticks every 31-50
 * instructions, so a count taken from an arbitrary instant depends on where between two ticks it
 * started, which depends on how long the harness polled the UART before (i.e. on the host). This
 * locks to a tick edge to the exact instruction, so two runs give identical counts. Real cores
 * (DWT) count every cycle: nothing to do. */
void ek_timer_sync(void);
extern volatile uint32_t ek_sync_reads;

#endif
