/* Framing of the serial protocol on the device side: find sync bytes, check length and CRC-32,
 * NAK damaged frames, keep the last response so a retransmitted request is answered again
 * without being executed twice. */
#ifndef EK_LINK_H
#define EK_LINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t version;
    uint8_t cmd;
    uint8_t seq;
    uint16_t len;
    uint32_t crc;             /* of the whole frame; with seq and cmd it identifies a retransmission */
    const uint8_t *payload;
} ek_frame;

void ek_link_receive(ek_frame *f);                 /* blocks until a frame with a valid CRC arrives */
void ek_link_consume(const ek_frame *f);           /* drop the frame from the receive buffer */
uint8_t *ek_link_payload(void);                    /* where a handler writes its response payload */
void ek_link_respond(const ek_frame *req, uint8_t status, uint16_t len);   /* send and keep */
int ek_link_resend_if_duplicate(const ek_frame *req);   /* 1 when answered from the kept response */
void ek_link_event(uint8_t evt, const void *payload, uint16_t len);        /* unsolicited, not kept */
void ek_link_send_raw(uint8_t cmd, uint8_t seq, uint8_t status, const void *payload, uint16_t len);

#endif
