/* NUCLEO-L4R5ZI board support (see board.h). NOT VERIFIED ON SILICON. */
#include "ek_board.h"

#define REG(a) (*(volatile uint32_t *)(a))

#define RCC 0x40021000u
#define RCC_CR REG(RCC + 0x00u)
#define RCC_CFGR REG(RCC + 0x08u)
#define RCC_PLLCFGR REG(RCC + 0x0Cu)
#define RCC_AHB2ENR REG(RCC + 0x4Cu)
#define RCC_APB1ENR1 REG(RCC + 0x58u)
#define RCC_APB1ENR2 REG(RCC + 0x5Cu)
#define RCC_CCIPR REG(RCC + 0x88u)
#define PWR 0x40007000u
#define PWR_CR2 REG(PWR + 0x04u)
#define PWR_CR5 REG(PWR + 0x80u)
#define FLASH_ACR REG(0x40022000u)
#define GPIOG 0x48001800u
#define GPIO_MODER(b) REG((b) + 0x00u)
#define GPIO_OSPEEDR(b) REG((b) + 0x08u)
#define GPIO_AFRL(b) REG((b) + 0x20u)
#define GPIO_AFRH(b) REG((b) + 0x24u)
#define LPUART1 0x40008000u
#define UART_CR1 REG(LPUART1 + 0x00u)
#define UART_BRR REG(LPUART1 + 0x0Cu)
#define UART_ISR REG(LPUART1 + 0x1Cu)
#define UART_ICR REG(LPUART1 + 0x20u)
#define UART_RDR REG(LPUART1 + 0x24u)
#define UART_TDR REG(LPUART1 + 0x28u)

#define HSI16_HZ 16000000u
#define BAUD 115200u

static void delay_cycles(uint32_t n)
{
    while (n--)
        __asm volatile("nop");
}

static void clock_120mhz(void)
{
    RCC_APB1ENR1 |= 1u << 28;                        /* PWREN */
    (void)RCC_APB1ENR1;
    RCC_CR |= 1u << 8;                               /* HSION */
    while (!(RCC_CR & (1u << 10))) {                 /* HSIRDY */
    }
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | (0x8u << 4);   /* AHB /2 while stepping up */
    PWR_CR5 &= ~(1u << 8);                           /* R1MODE = 0: Range 1 boost (> 80 MHz) */
    FLASH_ACR = (FLASH_ACR & ~0xFu) | 5u | (1u << 8) | (1u << 9) | (1u << 10);  /* 5 WS, prefetch, I/D cache */
    while ((FLASH_ACR & 0xFu) != 5u) {
    }
    /* PLL: HSI16 / M=1 = 16 MHz -> x N=15 = 240 MHz VCO -> / R=2 = 120 MHz */
    RCC_CR &= ~(1u << 24);                           /* PLLON off before configuring */
    while (RCC_CR & (1u << 25)) {
    }
    RCC_PLLCFGR = 2u /* HSI16 */ | (0u << 4) /* M-1 */ | (15u << 8) /* N */ | (0u << 25) /* R=2 */ | (1u << 24);
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25))) {
    }
    RCC_CFGR = (RCC_CFGR & ~3u) | 3u;                /* SYSCLK = PLL */
    while (((RCC_CFGR >> 2) & 3u) != 3u) {
    }
    delay_cycles(200);                               /* >= 1 us at the new clock before AHB /1 */
    RCC_CFGR &= ~(0xFu << 4);
}

void ek_board_init(void)
{
    clock_120mhz();
    PWR_CR2 |= 1u << 9;                              /* IOSV: VDDIO2 valid, powers PG2..PG15 */
    RCC_AHB2ENR |= 1u << 6;                          /* GPIOGEN */
    RCC_APB1ENR2 |= 1u << 0;                         /* LPUART1EN */
    RCC_CCIPR = (RCC_CCIPR & ~(3u << 10)) | (2u << 10);   /* LPUART1 clock = HSI16 */
    (void)RCC_APB1ENR2;
    GPIO_MODER(GPIOG) = (GPIO_MODER(GPIOG) & ~((3u << 14) | (3u << 16))) | (2u << 14) | (2u << 16);
    GPIO_OSPEEDR(GPIOG) |= (2u << 14) | (2u << 16);
    GPIO_AFRL(GPIOG) = (GPIO_AFRL(GPIOG) & ~(0xFu << 28)) | (8u << 28);   /* PG7 AF8 LPUART1_TX */
    GPIO_AFRH(GPIOG) = (GPIO_AFRH(GPIOG) & ~0xFu) | 8u;                   /* PG8 AF8 LPUART1_RX */
    UART_CR1 = 0;
    UART_BRR = (uint32_t)(((uint64_t)HSI16_HZ * 256u + BAUD / 2u) / BAUD);   /* LPUART: 256 * fck / baud */
    UART_CR1 = (1u << 3) | (1u << 2) | 1u;           /* TE, RE, UE */
}

void ek_uart_putc(uint8_t c)
{
    while (!(UART_ISR & (1u << 7))) {                /* TXE */
    }
    UART_TDR = c;
}

int ek_uart_getc(void)
{
    uint32_t isr = UART_ISR;
    if (isr & (1u << 3))                             /* overrun: clear it or reception stalls */
        UART_ICR = 1u << 3;
    if (!(isr & (1u << 5)))                          /* RXNE */
        return -1;
    return (int)(UART_RDR & 0xFFu);
}

void ek_board_exit(int code)
{
    (void)code;
    __asm volatile("cpsid i");
    for (;;) {
    }
}
