/* Nordic nRF52840-DK (nRF52840, Cortex-M4F at 64 MHz), register level, no vendor SDK.
 * The interface MCU's virtual COM port is UARTE0 on P0.06 (TX) / P0.08 (RX). Reception runs
 * continuously by EasyDMA into two alternating buffers; PPI counts received bytes in TIMER1, so
 * the polled harness never misses a byte between polls. Timing: DWT CYCCNT at the core clock.
 * NOT VERIFIED ON SILICON: compiled in CI only; register values from the nRF52840 PS v1.7. */
#ifndef EK_BOARD_CONFIG_H
#define EK_BOARD_CONFIG_H

#define EK_BOARD_NAME "nrf52840dk"
#define EK_CORE_CLOCK_HZ 64000000u
#define EK_TIMER_HZ EK_CORE_CLOCK_HZ
#define EK_TIMER_DWT 1
#define EK_HAS_SEMIHOSTING 0
#define EK_BANK_BASE 0u
#define EK_BANK_BYTES 0u

#endif
