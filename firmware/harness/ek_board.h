/* What every board port provides (firmware/boards/<board>/board.c + board.h).
 * The harness is board-independent; a board only knows its clocks, its UART and how to stop. */
#ifndef EK_BOARD_H
#define EK_BOARD_H

#include <stdint.h>

/* board.h defines (at least):
 *   EK_BOARD_NAME        "mps2-an386"
 *   EK_CORE_CLOCK_HZ     core clock after ek_board_init()
 *   EK_TIMER_HZ          rate of the timing counter (SysTick clock under QEMU, core clock for DWT)
 *   EK_TIMER_DWT         1: DWT CYCCNT (real cores); 0: SysTick (QEMU, CYCCNT is not modelled there)
 *   EK_HAS_SEMIHOSTING   1 when an exit status can be reported to the host (QEMU)
 *   EK_BANK_BASE/BYTES   memory the host may preload with inputs (QEMU -device loader); 0 bytes = none */
#include "board.h"

void ek_board_init(void);             /* clocks, pins, UART; runs before main() */
void ek_uart_putc(uint8_t c);         /* blocking */
int ek_uart_getc(void);               /* a byte 0..255, or -1 when none is waiting (never blocks) */
void ek_board_exit(int code);         /* QEMU: semihosting exit; real board: halt */

#endif
