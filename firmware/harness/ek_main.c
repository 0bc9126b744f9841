/* The harness: answers the host's protocol requests (see firmware/PROTOCOL.md) around one
 * generated model library. Inputs are staged in free RAM and copied into the model's arena
 * before every invoke (the arena plan may reuse the input's bytes during the invoke). */
#include <stdint.h>
#include <string.h>

#include "ek_board.h"
#include "ek_crc32.h"
#include "ek_layer_hooks.h"
#include "ek_link.h"
#include "ek_model.h"
#include "ek_protocol.h"
#include "ek_stack.h"
#include "ek_timer.h"

#ifndef EK_BUILD_ID
#define EK_BUILD_ID "0000000000000000"
#endif

extern uint8_t _sdata, _edata, _sbss, _ebss, _ek_free_start, _ek_free_end;

#define NI EK_MODEL_NUM_INPUTS
#define NO EK_MODEL_NUM_OUTPUTS
#define NOT_MEASURED 0xFFFFFFFFu

#if EK_PER_LAYER
volatile uint32_t ek_layer_marks[EK_MAX_LAYERS];
static uint64_t layer_ticks[EK_MAX_LAYERS];
static uint8_t layer_measured[EK_MAX_LAYERS];
static uint16_t layers_seen;
#endif

static uint8_t *const stage = &_ek_free_start;
static uint32_t stage_offset[NI + 1];      /* input i occupies stage[offset[i] .. offset[i+1]) */
static uint32_t timer_overhead;            /* ticks one empty now()..now() window reads */
static uint32_t stack_peak;                /* deepest stack use seen in any invoke */
static uint32_t last_repeats;

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (get16(p + 2) << 16); }

/* (a loop instead of strlen: newlib-nano's strlen alone is 220 bytes of flash) */
static uint32_t put_str(uint8_t *p, const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0' && n < 255u) {
        p[1 + n] = (uint8_t)s[n];
        n++;
    }
    p[0] = (uint8_t)n;
    return n + 1u;
}

static uint32_t free_bytes(void) { return (uint32_t)(&_ek_free_end - &_ek_free_start); }

static uint16_t hello(uint8_t *p)
{
    uint32_t n = 0;
    const char *id = EK_BUILD_ID;
    n += put_str(p + n, id);
    n += put_str(p + n, EK_BOARD_NAME);
    n += put_str(p + n, EK_MODEL_NAME);
    put32(p + n, EK_CORE_CLOCK_HZ);
    put32(p + n + 4, EK_TIMER_HZ);
    p[n + 8] = EK_TIMER_DWT ? EK_TIMER_DWT_CYCCNT : EK_TIMER_SYSTICK_ICOUNT;
    p[n + 9] = EK_PER_LAYER ? 1u : 0u;
    put16(p + n + 10, EK_MAX_PAYLOAD);
    put16(p + n + 12, EK_PER_LAYER ? EK_MAX_LAYERS : 0u);
    p[n + 14] = NI;
    p[n + 15] = NO;
    put32(p + n + 16, (uint32_t)EK_MODEL_ARENA_BYTES);
    put32(p + n + 20, ek_stack_size_bytes());
    put32(p + n + 24, free_bytes());
    put32(p + n + 28, EK_BANK_BYTES);
    put32(p + n + 32, timer_overhead);
    n += 36;
    for (int i = 0; i < NI; i++, n += 4)
        put32(p + n, (uint32_t)ek_model_input_bytes(i));
    for (int i = 0; i < NO; i++, n += 4)
        put32(p + n, (uint32_t)ek_model_output_bytes(i));
    return (uint16_t)n;
}

static uint8_t write_input(const ek_frame *f)
{
    if (f->len < 8u || f->payload[0] >= NI)
        return EK_ST_BAD_ARG;
    uint32_t i = f->payload[0], off = get32(f->payload + 4), n = f->len - 8u;
    uint32_t size = stage_offset[i + 1] - stage_offset[i];
    if (off > size || n > size - off)
        return EK_ST_BAD_ARG;
    memcpy(stage + stage_offset[i] + off, f->payload + 8, n);
    return EK_ST_OK;
}

static uint8_t load_bank(const ek_frame *f, uint16_t *len)
{
    if (EK_BANK_BYTES == 0u)
        return EK_ST_UNSUPPORTED;
    uint32_t total = stage_offset[NI];
    if (f->len != 4u)
        return EK_ST_BAD_ARG;
    uint32_t off = get32(f->payload);
    if (off > EK_BANK_BYTES || total > EK_BANK_BYTES - off)
        return EK_ST_BAD_ARG;
    memcpy(stage, (const uint8_t *)(uintptr_t)(EK_BANK_BASE + off), total);
    put32(ek_link_payload(), ek_crc32(stage, total));
    *len = 4;
    return EK_ST_OK;
}

static uint32_t outputs_crc(void)
{
    uint32_t crc = EK_CRC32_INIT;
    for (int i = 0; i < NO; i++)
        crc = ek_crc32_update(crc, ek_model_output(i), ek_model_output_bytes(i));
    return ek_crc32_final(crc);
}

static uint8_t invoke(const ek_frame *f, uint16_t *len)
{
    if (f->len != 4u || get32(f->payload) == 0u)
        return EK_ST_BAD_ARG;
    uint32_t repeats = get32(f->payload);
    ek_link_send_raw((uint8_t)(f->cmd | EK_RESPONSE_BIT), f->seq, EK_ST_ACCEPTED, 0, 0);
    uint32_t in_crc = ek_crc32(stage, stage_offset[NI]);
    uint64_t total = 0;
    uint32_t tmin = 0xFFFFFFFFu, tmax = 0, used_max = 0, done = 0;
    int status = 0;
#if EK_PER_LAYER
    memset(layer_ticks, 0, sizeof layer_ticks);
    memset(layer_measured, 0, sizeof layer_measured);
    layers_seen = 0;
#endif
    for (; done < repeats && status == 0; done++) {
        for (int i = 0; i < NI; i++)
            memcpy(ek_model_input(i), stage + stage_offset[i], stage_offset[i + 1] - stage_offset[i]);
#if EK_PER_LAYER
        for (int l = 0; l < EK_MAX_LAYERS; l++)
            ek_layer_marks[l] = NOT_MEASURED;
#endif
        ek_stack_paint();
        ek_timer_sync();
        uint64_t t0 = ek_timer_now();
#if EK_PER_LAYER
        uint32_t mark0 = EK_TIMER_RAW();
#endif
        status = ek_model_invoke();
        uint64_t t1 = ek_timer_now();
        uint32_t used = ek_stack_used_bytes();
        uint64_t dt64 = t1 - t0;
        dt64 = dt64 > timer_overhead ? dt64 - timer_overhead : 0u;
        if (dt64 > 0xFFFFFFFFu)
            return EK_ST_TIMER_OVERFLOW;
        uint32_t dt = (uint32_t)dt64;
        total += dt;
        tmin = dt < tmin ? dt : tmin;
        tmax = dt > tmax ? dt : tmax;
        used_max = used > used_max ? used : used_max;
#if EK_PER_LAYER
        /* each layer gets the ticks since the previous stamp (layers run in index order) */
        uint32_t prev = mark0;
        for (uint32_t l = 0; l < EK_MAX_LAYERS; l++) {
            uint32_t m = ek_layer_marks[l];
            if (m == NOT_MEASURED)
                continue;
            layer_ticks[l] += EK_TIMER_ELAPSED(prev, m);
            layer_measured[l] = 1;
            prev = m;
            if (l + 1u > layers_seen)
                layers_seen = (uint16_t)(l + 1u);
        }
#endif
        if (repeats > 1u) {
            uint8_t prog[4];
            put32(prog, done + 1u);
            ek_link_event(EK_EVT_PROGRESS, prog, 4);
        }
    }
    stack_peak = used_max > stack_peak ? used_max : stack_peak;
    last_repeats = done;
    uint8_t *p = ek_link_payload();
    put32(p, (uint32_t)status);
    put32(p + 4, done);
    put32(p + 8, in_crc);
    put32(p + 12, outputs_crc());
    put64(p + 16, total);
    put32(p + 24, tmin);
    put32(p + 28, tmax);
    put32(p + 32, used_max);
    *len = 36;
    return status == 0 ? EK_ST_OK : EK_ST_MODEL_ERROR;
}

static uint8_t read_output(const ek_frame *f, uint16_t *len)
{
    if (f->len != 10u || f->payload[0] >= NO)
        return EK_ST_BAD_ARG;
    uint32_t i = f->payload[0], off = get32(f->payload + 4), n = get16(f->payload + 8);
    uint32_t size = (uint32_t)ek_model_output_bytes((int)i);
    if (n > EK_MAX_PAYLOAD || off > size || n > size - off)
        return EK_ST_BAD_ARG;
    memcpy(ek_link_payload(), (const uint8_t *)ek_model_output((int)i) + off, n);
    *len = (uint16_t)n;
    return EK_ST_OK;
}

static uint8_t read_layers(const ek_frame *f, uint16_t *len)
{
#if EK_PER_LAYER
    if (f->len != 4u)
        return EK_ST_BAD_ARG;
    uint32_t first = get16(f->payload), count = get16(f->payload + 2);
    if (first > layers_seen || count > (EK_MAX_PAYLOAD - 8u) / 8u)
        return EK_ST_BAD_ARG;
    if (count > layers_seen - first)
        count = layers_seen - first;
    uint8_t *p = ek_link_payload();
    put16(p, layers_seen);
    put16(p + 2, count);
    put32(p + 4, last_repeats);
    for (uint32_t k = 0; k < count; k++)
        put64(p + 8 + 8 * k, layer_measured[first + k] ? layer_ticks[first + k] : ~(uint64_t)0);
    *len = (uint16_t)(8u + 8u * count);
    return EK_ST_OK;
#else
    (void)f;
    (void)len;
    return EK_ST_UNSUPPORTED;
#endif
}

static uint16_t read_memory(uint8_t *p)
{
    put32(p, ek_stack_size_bytes());
    put32(p + 4, stack_peak);
    put32(p + 8, (uint32_t)(&_edata - &_sdata));
    put32(p + 12, (uint32_t)(&_ebss - &_sbss));
    put32(p + 16, (uint32_t)EK_MODEL_ARENA_BYTES);
    put32(p + 20, stage_offset[NI]);
    put32(p + 24, free_bytes());
    return 28;
}

/* A loop of exactly 2 * n instructions, to check the counter's ticks-per-instruction. */
__attribute__((noinline)) static void spin(uint32_t n)
{
    __asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n)::"cc");
}

static uint8_t calibrate(const ek_frame *f, uint16_t *len)
{
    if (f->len != 4u || get32(f->payload) == 0u)
        return EK_ST_BAD_ARG;
    ek_timer_sync();
    uint64_t t0 = ek_timer_now();
    spin(get32(f->payload));
    uint64_t t1 = ek_timer_now();
    put64(ek_link_payload(), t1 - t0);
    put32(ek_link_payload() + 8, ek_sync_reads);
    *len = 12;
    return EK_ST_OK;
}

static void measure_timer_overhead(void)
{
    timer_overhead = 0xFFFFFFFFu;
    for (int k = 0; k < 8; k++) {
        ek_timer_sync();
        uint64_t a = ek_timer_now();
        uint64_t b = ek_timer_now();
        if ((uint32_t)(b - a) < timer_overhead)
            timer_overhead = (uint32_t)(b - a);
    }
}

static void boot_event(void)
{
    uint8_t p[64];
    uint32_t n = put_str(p, EK_BUILD_ID);
    n += put_str(p + n, EK_BOARD_NAME);
    ek_link_event(EK_EVT_BOOT, p, (uint16_t)n);
}

#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)

static void system_reset(void)
{
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = 0x05FA0004u;   /* VECTKEY | SYSRESETREQ */
    __asm volatile("dsb" ::: "memory");
    for (;;) {
    }
}

extern uint32_t _sstack, _estack;

/* Called from the fault vector with the exception number and the stacked frame. */
void ek_fault_report(uint32_t exc, const uint32_t *frame)
{
    uint8_t p[24];
    uint32_t pc = 0, lr = 0;
    if ((uintptr_t)frame >= (uintptr_t)&_sstack && (uintptr_t)frame + 32u <= (uintptr_t)&_estack) {
        lr = frame[5];
        pc = frame[6];
    }
    put32(p, exc);
    put32(p + 4, pc);
    put32(p + 8, lr);
    put32(p + 12, SCB_CFSR);
    put32(p + 16, SCB_HFSR);
    put32(p + 20, SCB_BFAR);
    ek_link_event(EK_EVT_FAULT, p, sizeof p);
    ek_board_exit(3);
    for (;;) {
    }
}

int main(void)
{
    ek_timer_init();
    measure_timer_overhead();
    stage_offset[0] = 0;
    for (int i = 0; i < NI; i++)
        stage_offset[i + 1] = stage_offset[i] + (uint32_t)ek_model_input_bytes(i);
    if (stage_offset[NI] <= free_bytes())
        memset(stage, 0, stage_offset[NI]);   /* RAM outlives a reset: start from a known state */
    boot_event();
    for (;;) {
        ek_frame f;
        ek_link_receive(&f);
        uint16_t len = 0;
        uint8_t status;
        if (f.version != EK_PROTO_VERSION) {
            ek_link_send_raw((uint8_t)(f.cmd | EK_RESPONSE_BIT), f.seq, EK_ST_BAD_VERSION, 0, 0);
            ek_link_consume(&f);
            continue;
        }
        if (ek_link_resend_if_duplicate(&f)) {
            ek_link_consume(&f);
            continue;
        }
        if (stage_offset[NI] > free_bytes() && f.cmd != EK_CMD_HELLO && f.cmd != EK_CMD_READ_MEMORY &&
            f.cmd != EK_CMD_RESET && f.cmd != EK_CMD_EXIT) {
            status = EK_ST_NO_SPACE;    /* the inputs do not fit in the RAM left over */
        } else {
            switch (f.cmd) {
            case EK_CMD_HELLO: len = hello(ek_link_payload()); status = EK_ST_OK; break;
            case EK_CMD_WRITE_INPUT: status = write_input(&f); break;
            case EK_CMD_LOAD_BANK: status = load_bank(&f, &len); break;
            case EK_CMD_INVOKE: status = invoke(&f, &len); break;
            case EK_CMD_READ_OUTPUT: status = read_output(&f, &len); break;
            case EK_CMD_READ_LAYERS: status = read_layers(&f, &len); break;
            case EK_CMD_READ_MEMORY: len = read_memory(ek_link_payload()); status = EK_ST_OK; break;
            case EK_CMD_CALIBRATE: status = calibrate(&f, &len); break;
            case EK_CMD_RESET:
                ek_link_respond(&f, EK_ST_OK, 0);
                system_reset();
                break;
            case EK_CMD_EXIT:
                if (!EK_HAS_SEMIHOSTING || f.len != 4u) {
                    status = EK_HAS_SEMIHOSTING ? EK_ST_BAD_ARG : EK_ST_UNSUPPORTED;
                    break;
                }
                ek_link_respond(&f, EK_ST_OK, 0);
                ek_board_exit((int)get32(f.payload));
                status = EK_ST_OK;
                break;
            default: status = EK_ST_BAD_CMD; break;
            }
        }
        ek_link_respond(&f, status, status == EK_ST_OK || status == EK_ST_MODEL_ERROR ? len : 0);
        ek_link_consume(&f);
    }
}
