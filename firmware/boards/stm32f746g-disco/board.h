/* ST STM32F746G-DISCO (STM32F746NG, Cortex-M7), register level, no vendor HAL.
 * 216 MHz from the PLL on the 25 MHz HSE crystal with over-drive; L1 I- and D-cache on. The
 * ST-LINK virtual COM port is USART1: PA9 (TX) / PB7 (RX), AF7, on APB2 (108 MHz).
 * Timing: DWT CYCCNT at the core clock.
 * NOT VERIFIED ON SILICON: compiled in CI only; register values from RM0385 and UM1907. */
#ifndef EK_BOARD_CONFIG_H
#define EK_BOARD_CONFIG_H

#define EK_BOARD_NAME "stm32f746g-disco"
#define EK_CORE_CLOCK_HZ 216000000u
#define EK_TIMER_HZ EK_CORE_CLOCK_HZ
#define EK_TIMER_DWT 1
#define EK_HAS_SEMIHOSTING 0
#define EK_BANK_BASE 0u
#define EK_BANK_BYTES 0u

#endif
