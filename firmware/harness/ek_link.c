#include "ek_link.h"

#include "ek_board.h"
#include "ek_crc32.h"
#include "ek_protocol.h"
#include "ek_timer.h"

#define FRAME_MAX (EK_HEADER_BYTES + EK_MAX_PAYLOAD + EK_CRC_BYTES)

static uint8_t rx[FRAME_MAX];
static uint32_t rx_len;
static uint8_t tx[FRAME_MAX];
static uint32_t tx_len;            /* bytes of the kept response; 0 = none */
static uint8_t kept_seq, kept_cmd;
static uint32_t kept_crc;

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* CRC-8 (polynomial 0x07) of the six header bytes after the sync: a damaged length is caught at
 * once, instead of making the receiver wait for a payload that never comes. */
static uint8_t header_crc(const uint8_t *p)
{
    uint8_t c = 0;
    for (int i = 0; i < 6; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (uint8_t)((c & 0x80u) ? ((unsigned)c << 1) ^ 0x07u : (unsigned)c << 1);
    }
    return c;
}

/* (a forward copy instead of memmove, which would add 250 bytes of flash for this one use) */
static void drop(uint32_t n)
{
    for (uint32_t i = n; i < rx_len; i++)
        rx[i - n] = rx[i];
    rx_len -= n;
}

static void write_bytes(const uint8_t *p, uint32_t n)
{
    while (n--)
        ek_uart_putc(*p++);
}

static void fill_header(uint8_t *h, uint8_t cmd, uint8_t seq, uint8_t status, uint16_t len)
{
    h[0] = EK_SYNC0;
    h[1] = EK_SYNC1;
    h[2] = EK_PROTO_VERSION;
    h[3] = cmd;
    h[4] = seq;
    h[5] = status;
    h[6] = (uint8_t)len;
    h[7] = (uint8_t)(len >> 8);
    h[8] = header_crc(h + 2);
}

/* Send header, payload (anywhere in memory) and CRC; the CRC covers version..payload. */
void ek_link_send_raw(uint8_t cmd, uint8_t seq, uint8_t status, const void *payload, uint16_t len)
{
    uint8_t head[EK_HEADER_BYTES], tail[EK_CRC_BYTES];
    fill_header(head, cmd, seq, status, len);
    uint32_t crc = ek_crc32_update(EK_CRC32_INIT, head + 2, EK_HEADER_BYTES - 2u);
    put_le32(tail, ek_crc32_final(ek_crc32_update(crc, payload, len)));
    write_bytes(head, EK_HEADER_BYTES);
    write_bytes((const uint8_t *)payload, len);
    write_bytes(tail, EK_CRC_BYTES);
}

/* Look for a complete frame at the start of rx, discarding garbage before it.
 * Returns 1 with *f filled, 0 when more bytes are needed. */
static int parse(ek_frame *f)
{
    for (;;) {
        if (rx_len >= 1 && rx[0] != EK_SYNC0) {
            drop(1);
            continue;
        }
        if (rx_len >= 2 && rx[1] != EK_SYNC1) {
            drop(1);
            continue;
        }
        if (rx_len < EK_HEADER_BYTES)
            return 0;
        uint32_t len = (uint32_t)rx[6] | ((uint32_t)rx[7] << 8);
        if (rx[8] != header_crc(rx + 2) || len > EK_MAX_PAYLOAD) {   /* damaged header: rescan */
            drop(1);
            continue;
        }
        uint32_t total = EK_HEADER_BYTES + len + EK_CRC_BYTES;
        if (rx_len < total)
            return 0;
        uint32_t crc = ek_crc32(rx + 2, EK_HEADER_BYTES - 2u + len);
        if (crc != get_le32(rx + EK_HEADER_BYTES + len)) {
            ek_link_send_raw((uint8_t)(rx[3] | EK_RESPONSE_BIT), rx[4], EK_ST_BAD_CRC, 0, 0);
            drop(1);                          /* a good frame may start inside this one */
            continue;
        }
        f->version = rx[2];
        f->cmd = rx[3];
        f->seq = rx[4];
        f->len = (uint16_t)len;
        f->crc = crc;
        f->payload = rx + EK_HEADER_BYTES;
        return 1;
    }
}

void ek_link_receive(ek_frame *f)
{
    /* A partial frame that stops growing (a dropped byte, a damaged length) is given up after
     * ~50 ms of timer time so the host's retransmission is not swallowed as its tail. */
    const uint64_t idle_ticks = (uint64_t)EK_TIMER_HZ / 20u;
    uint64_t last = ek_timer_now();
    for (;;) {
        if (parse(f))
            return;
        int c = ek_uart_getc();
        if (c >= 0) {
            if (rx_len == FRAME_MAX)
                drop(1);
            rx[rx_len++] = (uint8_t)c;
            last = ek_timer_now();
        } else if (rx_len > 0 && ek_timer_now() - last > idle_ticks) {
            drop(1);
            last = ek_timer_now();
        }
    }
}

void ek_link_consume(const ek_frame *f)
{
    drop(EK_HEADER_BYTES + f->len + EK_CRC_BYTES);
}

uint8_t *ek_link_payload(void)
{
    return tx + EK_HEADER_BYTES;
}

void ek_link_respond(const ek_frame *req, uint8_t status, uint16_t len)
{
    /* the whole frame is kept in tx (the payload is already there) to answer a retransmission */
    fill_header(tx, (uint8_t)(req->cmd | EK_RESPONSE_BIT), req->seq, status, len);
    put_le32(tx + EK_HEADER_BYTES + len, ek_crc32(tx + 2, EK_HEADER_BYTES - 2u + len));
    tx_len = EK_HEADER_BYTES + len + EK_CRC_BYTES;
    kept_seq = req->seq;
    kept_cmd = req->cmd;
    kept_crc = req->crc;
    write_bytes(tx, tx_len);
}

int ek_link_resend_if_duplicate(const ek_frame *req)
{
    if (tx_len == 0 || req->seq != kept_seq || req->cmd != kept_cmd || req->crc != kept_crc)
        return 0;
    write_bytes(tx, tx_len);
    return 1;
}

void ek_link_event(uint8_t evt, const void *payload, uint16_t len)
{
    ek_link_send_raw(evt, 0, EK_ST_OK, payload, len);
}
