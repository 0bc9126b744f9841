/* Arm CMSDK APB UART (the UART of the MPS2/MPS3 FPGA images, as QEMU models it).
 * DATA +0x0, STATE +0x4 (bit0 TX full, bit1 RX full), CTRL +0x8 (bit0 TX en, bit1 RX en),
 * BAUDDIV +0x10 (>= 16). Without TX enable QEMU drops output silently. */
#ifndef EK_CMSDK_UART_H
#define EK_CMSDK_UART_H

#include <stdint.h>

#define CMSDK_UART_DATA(b) (*(volatile uint32_t *)((b) + 0x00u))
#define CMSDK_UART_STATE(b) (*(volatile uint32_t *)((b) + 0x04u))
#define CMSDK_UART_CTRL(b) (*(volatile uint32_t *)((b) + 0x08u))
#define CMSDK_UART_BAUDDIV(b) (*(volatile uint32_t *)((b) + 0x10u))

static inline void cmsdk_uart_init(uint32_t base, uint32_t pclk_hz, uint32_t baud)
{
    uint32_t div = pclk_hz / baud;
    CMSDK_UART_BAUDDIV(base) = div < 16u ? 16u : div;
    CMSDK_UART_CTRL(base) = 0x3u;
}

static inline void cmsdk_uart_putc(uint32_t base, uint8_t c)
{
    while (CMSDK_UART_STATE(base) & 0x1u) {
    }
    CMSDK_UART_DATA(base) = c;
}

static inline int cmsdk_uart_getc(uint32_t base)
{
    if (!(CMSDK_UART_STATE(base) & 0x2u))
        return -1;
    return (int)(CMSDK_UART_DATA(base) & 0xFFu);
}

#endif
