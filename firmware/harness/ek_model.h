/* Glue to the generated model library, whose functions carry the model's name:
 * <name>_invoke(), <name>_input(i), ... The Makefile passes EK_MODEL (name) and EK_MODEL_UPPER. */
#ifndef EK_MODEL_H
#define EK_MODEL_H

#include <stddef.h>

#ifndef EK_MODEL
#error "EK_MODEL (the generated library's name) must be defined"
#endif

#define EK_PASTE2(a, b) a##b
#define EK_PASTE(a, b) EK_PASTE2(a, b)
#define EK_STR2(x) #x
#define EK_STR(x) EK_STR2(x)

#include EK_STR(EK_MODEL.h)

#define ek_model_invoke EK_PASTE(EK_MODEL, _invoke)
#define ek_model_input EK_PASTE(EK_MODEL, _input)
#define ek_model_output EK_PASTE(EK_MODEL, _output)
#define ek_model_input_bytes EK_PASTE(EK_MODEL, _input_bytes)
#define ek_model_output_bytes EK_PASTE(EK_MODEL, _output_bytes)
#define EK_MODEL_ARENA_BYTES EK_PASTE(EK_MODEL_UPPER, _ARENA_BYTES)
#define EK_MODEL_NUM_INPUTS EK_PASTE(EK_MODEL_UPPER, _NUM_INPUTS)
#define EK_MODEL_NUM_OUTPUTS EK_PASTE(EK_MODEL_UPPER, _NUM_OUTPUTS)
#define EK_MODEL_NAME EK_STR(EK_MODEL)

#endif
