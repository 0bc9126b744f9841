/* mps2-an500 as emulated by QEMU 7.2: Cortex-M7. Memory map from QEMU's hw/arm model (checked with
 * `info mtree`); SysTick runs from the 25 MHz system clock, so under -icount shift=0 one
 * tick is 1e9 / EK_TIMER_HZ emulated instructions. */
#ifndef EK_BOARD_CONFIG_H
#define EK_BOARD_CONFIG_H

#define EK_BOARD_NAME "mps2-an500"
#define EK_CORE_CLOCK_HZ 25000000u
#define EK_TIMER_HZ 25000000u
#define EK_TIMER_DWT 0          /* QEMU does not model DWT CYCCNT (it reads 0) */
#define EK_HAS_SEMIHOSTING 1
#define EK_UART_BASE 0x40004000u
#define EK_UART_PCLK_HZ 25000000u
#define EK_BANK_BASE 0x60000000u        /* RAM outside the profile's budget, preloaded by -device loader */
#define EK_BANK_BYTES 0x01000000u

#endif
