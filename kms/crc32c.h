/* CRC-32C (Castagnoli, RFC 3720 appendix B.4): the integrity checksum of
 * Google Cloud KMS requests and answers. OpenSSL and zlib offer only the
 * IEEE CRC-32, so this small table-driven version is ours. */
#ifndef NK_CRC32C_H
#define NK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of n bytes at p (initial value and final xor 0xFFFFFFFF, bits
 * reflected): "123456789" gives 0xE3069283. */
uint32_t nk_crc32c(const void *p, size_t n);

#endif
