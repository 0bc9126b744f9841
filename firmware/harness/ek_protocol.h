/* edgekit serial protocol, version 1: the constants both ends share (see firmware/PROTOCOL.md).
 * edgekit/measure/mcu_protocol.py mirrors these values; a unit test checks they agree. */
#ifndef EK_PROTOCOL_H
#define EK_PROTOCOL_H

#define EK_PROTO_VERSION 1u
#define EK_SYNC0 0xA5u
#define EK_SYNC1 0x5Au
#define EK_HEADER_BYTES 9u       /* sync0 sync1 version cmd seq status len_lo len_hi hcrc */
#define EK_CRC_BYTES 4u
#define EK_MAX_PAYLOAD 1024u

/* requests (host -> device); a response carries cmd | EK_RESPONSE_BIT */
#define EK_CMD_HELLO 0x01u
#define EK_CMD_WRITE_INPUT 0x02u
#define EK_CMD_LOAD_BANK 0x03u
#define EK_CMD_INVOKE 0x04u
#define EK_CMD_READ_OUTPUT 0x05u
#define EK_CMD_READ_LAYERS 0x06u
#define EK_CMD_READ_MEMORY 0x07u
#define EK_CMD_CALIBRATE 0x08u
#define EK_CMD_RESET 0x09u
#define EK_CMD_EXIT 0x0Au
#define EK_RESPONSE_BIT 0x80u

/* unsolicited events (device -> host) */
#define EK_EVT_BOOT 0x40u
#define EK_EVT_PROGRESS 0x41u
#define EK_EVT_FAULT 0x42u

/* status byte of a response */
#define EK_ST_OK 0u
#define EK_ST_ACCEPTED 1u        /* INVOKE started; the result follows in a second frame */
#define EK_ST_BAD_VERSION 2u
#define EK_ST_BAD_CMD 3u
#define EK_ST_BAD_ARG 4u
#define EK_ST_MODEL_ERROR 5u
#define EK_ST_NO_SPACE 6u
#define EK_ST_BAD_CRC 7u         /* NAK: the frame arrived damaged; send it again */
#define EK_ST_UNSUPPORTED 8u
#define EK_ST_TIMER_OVERFLOW 9u

/* HELLO timer_method */
#define EK_TIMER_SYSTICK_ICOUNT 1u   /* SysTick under QEMU -icount shift=0: emulated instructions */
#define EK_TIMER_DWT_CYCCNT 2u       /* DWT CYCCNT on a real core: cycles */

#endif
