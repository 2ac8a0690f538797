/* The Google Cloud KMS backend's pure helpers: CRC-32C against the RFC
 * 3720 vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kms/crc32c.h"

/* RFC 3720 appendix B.4 (the CRC there is shown in wire order, little
 * endian) and the usual check value of "123456789". */
static void test_crc32c(void **state)
{
    unsigned char buf[32];
    size_t i;

    (void)state;
    assert_int_equal(nk_crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(nk_crc32c("", 0), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(nk_crc32c(buf, sizeof(buf)), 0x8A9136AAu);
    memset(buf, 0xFF, sizeof(buf));
    assert_int_equal(nk_crc32c(buf, sizeof(buf)), 0x62A8AB43u);
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)i;
    assert_int_equal(nk_crc32c(buf, sizeof(buf)), 0x46DD794Eu);
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(31 - i);
    assert_int_equal(nk_crc32c(buf, sizeof(buf)), 0x113FDB5Cu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
