/* CRC-32 (IEEE 802.3, reflected 0xEDB88320, init and final xor 0xFFFFFFFF): the same value as
 * Python's zlib.crc32. Nibble-table version: 64 bytes of table, ~4x faster than bit by bit. */
#ifndef EK_CRC32_H
#define EK_CRC32_H

#include <stddef.h>
#include <stdint.h>

#define EK_CRC32_INIT 0xFFFFFFFFu

uint32_t ek_crc32_update(uint32_t state, const void *data, size_t n);   /* state starts at INIT */
static inline uint32_t ek_crc32_final(uint32_t state) { return state ^ 0xFFFFFFFFu; }
static inline uint32_t ek_crc32(const void *data, size_t n)
{
    return ek_crc32_final(ek_crc32_update(EK_CRC32_INIT, data, n));
}

#endif
