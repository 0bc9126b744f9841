/* Board support shared by the QEMU-emulated MPS2/MPS3 images: one CMSDK UART, semihosting exit.
 * Each boards/<board>/board.h names the UART base and the clocks; QEMU needs no clock set-up. */
#include "cmsdk_uart.h"
#include "ek_board.h"
#include "semihost.h"

void ek_board_init(void)
{
    cmsdk_uart_init(EK_UART_BASE, EK_UART_PCLK_HZ, 115200u);
}

void ek_uart_putc(uint8_t c)
{
    cmsdk_uart_putc(EK_UART_BASE, c);
}

int ek_uart_getc(void)
{
    return cmsdk_uart_getc(EK_UART_BASE);
}

void ek_board_exit(int code)
{
    semihost_exit(code);
    for (;;) {
    }
}
