/* mps3-an547 as emulated by QEMU 7.2: Cortex-M55 (ITCM code, DTCM data). Memory map from QEMU's hw/arm model (checked with
 * `info mtree`); SysTick runs from the 32 MHz system clock, so under -icount shift=0 one
 * tick is 1e9 / EK_TIMER_HZ emulated instructions. */
#ifndef EK_BOARD_CONFIG_H
#define EK_BOARD_CONFIG_H

#define EK_BOARD_NAME "mps3-an547"
#define EK_CORE_CLOCK_HZ 32000000u
#define EK_TIMER_HZ 32000000u
#define EK_TIMER_DWT 0          /* QEMU does not model DWT CYCCNT (it reads 0) */
#define EK_HAS_SEMIHOSTING 1
#define EK_UART_BASE 0x59303000u
#define EK_UART_PCLK_HZ 32000000u
#define EK_BANK_BASE 0x60000000u        /* RAM outside the profile's budget, preloaded by -device loader */
#define EK_BANK_BYTES 0x01000000u

#endif
