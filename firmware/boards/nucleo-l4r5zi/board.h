/* ST NUCLEO-L4R5ZI (STM32L4R5ZI, Cortex-M4F), register level, no vendor HAL.
 * 120 MHz from the PLL on HSI16 (Range 1 boost); the ST-LINK virtual COM port is LPUART1 on
 * PG7 (TX) / PG8 (RX), AF8, clocked from HSI16. Timing: DWT CYCCNT at the core clock.
 * NOT VERIFIED ON SILICON: compiled in CI only; register values from RM0432 and UM2179. */
#ifndef EK_BOARD_CONFIG_H
#define EK_BOARD_CONFIG_H

#define EK_BOARD_NAME "nucleo-l4r5zi"
#define EK_CORE_CLOCK_HZ 120000000u
#define EK_TIMER_HZ EK_CORE_CLOCK_HZ
#define EK_TIMER_DWT 1
#define EK_HAS_SEMIHOSTING 0
#define EK_BANK_BASE 0u
#define EK_BANK_BYTES 0u

#endif
