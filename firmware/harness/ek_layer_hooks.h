/* Force-included (-include) into every file of the model library. Generated code calls
 * EK_TRACE_LAYER(op, out, bytes) after layer `op` finishes (EK_LAYER_END(op) is accepted too).
 * With EK_PER_LAYER=1 each call stores one raw counter stamp (3 instructions); the harness takes
 * a stamp just before the invoke, and after it attributes to each layer the ticks since the
 * previous stamp, outside the timed window. Layers that run no code (views such as RESHAPE) leave
 * no stamp and are reported as not measured. With EK_PER_LAYER=0 the hooks vanish. */
#ifndef EK_LAYER_HOOKS_H
#define EK_LAYER_HOOKS_H

#ifndef EK_MAX_LAYERS
#define EK_MAX_LAYERS 128
#endif

#if EK_PER_LAYER
#include <stdint.h>
#include "ek_timer.h"
extern volatile uint32_t ek_layer_marks[EK_MAX_LAYERS];
#define EK_LAYER_MARK(op) \
    do { if ((unsigned)(op) < (unsigned)EK_MAX_LAYERS) ek_layer_marks[(op)] = EK_TIMER_RAW(); } while (0)
#else
#define EK_LAYER_MARK(op) do { } while (0)
#endif

#define EK_TRACE_LAYER(op, data, bytes) EK_LAYER_MARK(op)
#define EK_LAYER_BEGIN(op) do { } while (0)
#define EK_LAYER_END(op) EK_LAYER_MARK(op)

#endif
