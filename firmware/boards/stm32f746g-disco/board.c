/* STM32F746G-DISCO board support (see board.h). NOT VERIFIED ON SILICON. */
#include "ek_board.h"

#define REG(a) (*(volatile uint32_t *)(a))

#define RCC 0x40023800u
#define RCC_CR REG(RCC + 0x00u)
#define RCC_PLLCFGR REG(RCC + 0x04u)
#define RCC_CFGR REG(RCC + 0x08u)
#define RCC_AHB1ENR REG(RCC + 0x30u)
#define RCC_APB1ENR REG(RCC + 0x40u)
#define RCC_APB2ENR REG(RCC + 0x44u)
#define PWR_CR1 REG(0x40007000u)
#define PWR_CSR1 REG(0x40007004u)
#define FLASH_ACR REG(0x40023C00u)
#define GPIOA 0x40020000u
#define GPIOB 0x40020400u
#define GPIO_MODER(b) REG((b) + 0x00u)
#define GPIO_OSPEEDR(b) REG((b) + 0x08u)
#define GPIO_AFRL(b) REG((b) + 0x20u)
#define GPIO_AFRH(b) REG((b) + 0x24u)
#define USART1 0x40011000u
#define UART_CR1 REG(USART1 + 0x00u)
#define UART_BRR REG(USART1 + 0x0Cu)
#define UART_ISR REG(USART1 + 0x1Cu)
#define UART_ICR REG(USART1 + 0x20u)
#define UART_RDR REG(USART1 + 0x24u)
#define UART_TDR REG(USART1 + 0x28u)
/* Cortex-M7 cache maintenance */
#define SCB_CCR REG(0xE000ED14u)
#define SCB_CCSIDR REG(0xE000ED80u)
#define SCB_CSSELR REG(0xE000ED84u)
#define SCB_ICIALLU REG(0xE000EF50u)
#define SCB_DCISW REG(0xE000EF60u)

#define APB2_HZ 108000000u
#define BAUD 115200u

static void barrier(void) { __asm volatile("dsb\n isb" ::: "memory"); }

static void clock_216mhz(void)
{
    RCC_APB1ENR |= 1u << 28;                            /* PWREN */
    (void)RCC_APB1ENR;
    PWR_CR1 |= 3u << 14;                                /* VOS scale 1 */
    RCC_CR |= 1u << 16;                                 /* HSEON (25 MHz crystal) */
    while (!(RCC_CR & (1u << 17))) {
    }
    /* 25 MHz / M=25 = 1 MHz -> x N=432 = 432 MHz VCO -> / P=2 = 216 MHz; Q=9 -> 48 MHz */
    RCC_PLLCFGR = 25u | (432u << 6) | (0u << 16) | (1u << 22) | (9u << 24);
    RCC_CR |= 1u << 24;                                 /* PLLON */
    PWR_CR1 |= 1u << 16;                                /* over-drive on (needed above 180 MHz) */
    while (!(PWR_CSR1 & (1u << 16))) {
    }
    PWR_CR1 |= 1u << 17;                                /* switch to over-drive */
    while (!(PWR_CSR1 & (1u << 17))) {
    }
    FLASH_ACR = 7u | (1u << 8) | (1u << 9);             /* 7 WS, prefetch, ART */
    while ((FLASH_ACR & 0xFu) != 7u) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (7u << 10) | (7u << 13))) | (5u << 10) | (4u << 13);  /* APB1 /4, APB2 /2 */
    while (!(RCC_CR & (1u << 25))) {                    /* PLLRDY */
    }
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;                   /* SYSCLK = PLL */
    while (((RCC_CFGR >> 2) & 3u) != 2u) {
    }
}

static void caches_on(void)
{
    barrier();
    SCB_ICIALLU = 0;
    barrier();
    SCB_CCR |= 1u << 17;                                /* IC */
    barrier();
    SCB_CSSELR = 0;                                     /* level 1 data cache */
    barrier();
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
    uint32_t line_shift = (ccsidr & 7u) + 4u;           /* log2(line bytes) */
    for (uint32_t s = 0; s < sets; s++)
        for (uint32_t w = 0; w < ways; w++)
            SCB_DCISW = (s << line_shift) | (w << 30);  /* Cortex-M7: 4 ways -> way in bits 31:30 */
    barrier();
    SCB_CCR |= 1u << 16;                                /* DC */
    barrier();
}

void ek_board_init(void)
{
    clock_216mhz();
    caches_on();
    RCC_AHB1ENR |= (1u << 0) | (1u << 1);               /* GPIOA, GPIOB */
    RCC_APB2ENR |= 1u << 4;                             /* USART1 (clock: APB2, the reset default) */
    (void)RCC_APB2ENR;
    GPIO_MODER(GPIOA) = (GPIO_MODER(GPIOA) & ~(3u << 18)) | (2u << 18);   /* PA9 AF */
    GPIO_MODER(GPIOB) = (GPIO_MODER(GPIOB) & ~(3u << 14)) | (2u << 14);   /* PB7 AF */
    GPIO_OSPEEDR(GPIOA) |= 2u << 18;
    GPIO_AFRH(GPIOA) = (GPIO_AFRH(GPIOA) & ~(0xFu << 4)) | (7u << 4);     /* PA9 AF7 USART1_TX */
    GPIO_AFRL(GPIOB) = (GPIO_AFRL(GPIOB) & ~(0xFu << 28)) | (7u << 28);   /* PB7 AF7 USART1_RX */
    UART_CR1 = 0;
    UART_BRR = (APB2_HZ + BAUD / 2u) / BAUD;            /* oversampling by 16 */
    UART_CR1 = (1u << 3) | (1u << 2) | 1u;              /* TE, RE, UE */
}

void ek_uart_putc(uint8_t c)
{
    while (!(UART_ISR & (1u << 7))) {                   /* TXE */
    }
    UART_TDR = c;
}

int ek_uart_getc(void)
{
    uint32_t isr = UART_ISR;
    if (isr & (1u << 3))                                /* overrun */
        UART_ICR = 1u << 3;
    if (!(isr & (1u << 5)))                             /* RXNE */
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
