/* nRF52840-DK board support (see board.h). NOT VERIFIED ON SILICON. */
#include "ek_board.h"

#define REG(a) (*(volatile uint32_t *)(a))

#define CLOCK 0x40000000u
#define CLOCK_TASKS_HFCLKSTART REG(CLOCK + 0x000u)
#define CLOCK_EVENTS_HFCLKSTARTED REG(CLOCK + 0x100u)
#define UARTE0 0x40002000u
#define U_TASKS_STARTRX REG(UARTE0 + 0x000u)
#define U_TASKS_STARTTX REG(UARTE0 + 0x008u)
#define U_EVENTS_RXDRDY (UARTE0 + 0x108u)
#define U_EVENTS_ENDTX REG(UARTE0 + 0x120u)
#define U_EVENTS_RXSTARTED REG(UARTE0 + 0x14Cu)
#define U_SHORTS REG(UARTE0 + 0x200u)
#define U_ENABLE REG(UARTE0 + 0x500u)
#define U_PSEL_RTS REG(UARTE0 + 0x508u)
#define U_PSEL_TXD REG(UARTE0 + 0x50Cu)
#define U_PSEL_CTS REG(UARTE0 + 0x510u)
#define U_PSEL_RXD REG(UARTE0 + 0x514u)
#define U_BAUDRATE REG(UARTE0 + 0x524u)
#define U_RXD_PTR REG(UARTE0 + 0x534u)
#define U_RXD_MAXCNT REG(UARTE0 + 0x538u)
#define U_TXD_PTR REG(UARTE0 + 0x544u)
#define U_TXD_MAXCNT REG(UARTE0 + 0x548u)
#define U_CONFIG REG(UARTE0 + 0x56Cu)
#define TIMER1 0x40009000u
#define T_TASKS_START REG(TIMER1 + 0x000u)
#define T_TASKS_COUNT (TIMER1 + 0x008u)
#define T_TASKS_CLEAR REG(TIMER1 + 0x00Cu)
#define T_TASKS_CAPTURE0 REG(TIMER1 + 0x040u)
#define T_MODE REG(TIMER1 + 0x504u)
#define T_BITMODE REG(TIMER1 + 0x508u)
#define T_CC0 REG(TIMER1 + 0x540u)
#define PPI 0x4001F000u
#define PPI_CHENSET REG(PPI + 0x504u)
#define PPI_CH0_EEP REG(PPI + 0x510u)
#define PPI_CH0_TEP REG(PPI + 0x514u)
#define P0 0x50000000u
#define P0_OUTSET REG(P0 + 0x508u)
#define P0_DIRSET REG(P0 + 0x518u)

#define PIN_TX 6u
#define PIN_RX 8u
#define BAUD_115200 0x01D7E000u
#define RX_BUF 512u

static uint8_t rx_buf[2][RX_BUF];      /* EasyDMA writes these alternately (ENDRX -> STARTRX short) */
static uint32_t rx_starts;             /* RXSTARTED events seen: buffer (rx_starts - 1) % 2 is filling */
static uint32_t rx_consumed;           /* bytes handed to the harness */
static uint32_t rx_counted_before;     /* byte count at the previous poll: those bytes are in RAM */
static uint8_t tx_byte;                /* EasyDMA can only read RAM */

static uint32_t bytes_received(void)
{
    T_TASKS_CAPTURE0 = 1u;
    return T_CC0;
}

void ek_board_init(void)
{
    CLOCK_EVENTS_HFCLKSTARTED = 0;
    CLOCK_TASKS_HFCLKSTART = 1u;       /* crystal oscillator: accurate baud rate */
    while (!CLOCK_EVENTS_HFCLKSTARTED) {
    }
    P0_OUTSET = 1u << PIN_TX;          /* idle high before the UART takes the pin */
    P0_DIRSET = 1u << PIN_TX;
    T_MODE = 2u;                       /* low-power counter */
    T_BITMODE = 3u;                    /* 32 bit */
    T_TASKS_CLEAR = 1u;
    T_TASKS_START = 1u;
    PPI_CH0_EEP = U_EVENTS_RXDRDY;     /* every received byte ... */
    PPI_CH0_TEP = T_TASKS_COUNT;       /* ... counts once */
    PPI_CHENSET = 1u;
    U_PSEL_TXD = PIN_TX;
    U_PSEL_RXD = PIN_RX;
    U_PSEL_RTS = 0xFFFFFFFFu;          /* disconnected */
    U_PSEL_CTS = 0xFFFFFFFFu;
    U_BAUDRATE = BAUD_115200;
    U_CONFIG = 0;                      /* 8N1, no flow control */
    U_ENABLE = 8u;                     /* UARTE */
    U_SHORTS = 1u << 5;                /* ENDRX -> STARTRX: reception never stops */
    U_RXD_PTR = (uint32_t)(uintptr_t)rx_buf[0];
    U_RXD_MAXCNT = RX_BUF;
    U_EVENTS_RXSTARTED = 0;
    U_TASKS_STARTRX = 1u;
}

void ek_uart_putc(uint8_t c)
{
    tx_byte = c;
    U_TXD_PTR = (uint32_t)(uintptr_t)&tx_byte;
    U_TXD_MAXCNT = 1u;
    U_EVENTS_ENDTX = 0;
    U_TASKS_STARTTX = 1u;
    while (!U_EVENTS_ENDTX) {
    }
}

int ek_uart_getc(void)
{
    if (U_EVENTS_RXSTARTED) {          /* RXD.PTR is double-buffered: name the buffer after this one */
        U_EVENTS_RXSTARTED = 0;
        rx_starts++;
        U_RXD_PTR = (uint32_t)(uintptr_t)rx_buf[rx_starts % 2u];
    }
    /* RXDRDY can fire before EasyDMA has stored the byte: hand out only bytes counted one poll ago */
    uint32_t safe = rx_counted_before;
    rx_counted_before = bytes_received();
    if (rx_consumed == safe)
        return -1;
    uint32_t k = rx_consumed++;
    return rx_buf[(k / RX_BUF) % 2u][k % RX_BUF];
}

void ek_board_exit(int code)
{
    (void)code;
    __asm volatile("cpsid i");
    for (;;) {
    }
}
