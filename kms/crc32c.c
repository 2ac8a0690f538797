/* CRC-32C with a 256-entry table built on first use. */
#include "crc32c.h"

/* The reflected form of the Castagnoli polynomial 0x1EDC6F41. */
#define CRC32C_POLY 0x82F63B78u

static uint32_t table[256];
static int table_ready;

static void build_table(void)
{
    uint32_t c;
    unsigned i, k;

    for (i = 0; i < 256; i++) {
        c = i;
        for (k = 0; k < 8; k++)
            c = (c & 1u) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        table[i] = c;
    }
    table_ready = 1;
}

uint32_t nk_crc32c(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t crc = 0xFFFFFFFFu;

    /* One process signs one thing: no thread races on the table. */
    if (!table_ready)
        build_table();
    while (n-- > 0)
        crc = table[(crc ^ *b++) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}
