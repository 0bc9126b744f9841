/* Stack high-water mark: the stack is filled with a pattern, and the deepest overwritten word
 * shows how much of it has ever been used. The stack sits at the bottom of RAM (see ek_sections.ld),
 * so an overflow leaves RAM (a fault) instead of corrupting data. */
#ifndef EK_STACK_H
#define EK_STACK_H

#include <stdint.h>

#define EK_STACK_PATTERN 0xA5C3E10Fu

void ek_stack_paint(void);            /* paint from the bottom up to just below the live frame */
uint32_t ek_stack_used_bytes(void);   /* deepest use since the last paint */
uint32_t ek_stack_size_bytes(void);

#endif
