/* The helper-program runner: exit status and both outputs, a program not
 * on PATH, the deadline (the whole process group is killed), the output
 * cap, and that no descriptor of ours leaks into the child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/child.h"
#include "common/log.h"

static void test_runs(void **state)
{
    const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_child c;

    (void)state;
    assert_int_equal(nk_child_run(argv, 10, 1024, 1024, "t", &c, &err), 0);
    assert_int_equal(c.not_found, 0);
    assert_int_equal(c.status, 3);
    assert_string_equal((char *)c.out.data, "out\n");
    assert_string_equal((char *)c.err.data, "err\n");
    nk_child_release(&c);
}

static void test_not_found(void **state)
{
    const char *argv[] = {"nk-no-such-program-4711", NULL};
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_child c;

    (void)state;
    assert_int_equal(nk_child_run(argv, 10, 1024, 1024, "t", &c, &err), 0);
    assert_int_equal(c.not_found, 1);
    nk_child_release(&c);
}

static void test_deadline(void **state)
{
    /* A background grandchild holding the pipe open must not keep us
     * waiting: the process group goes. */
    const char *argv[] = {"sh", "-c", "sleep 30 & sleep 30", NULL};
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_child c;
    double t0 = nk_log_now_ms();

    (void)state;
    assert_int_equal(nk_child_run(argv, 0.3, 1024, 1024, "t", &c, &err), -1);
    assert_int_equal(err.code, NK_ERR_TIMEOUT);
    assert_non_null(strstr(err.msg, "did not finish"));
    assert_true(nk_log_now_ms() - t0 < 10000);
    nk_child_release(&c);
}

static void test_cap(void **state)
{
    const char *argv[] = {"sh", "-c", "head -c 100000 /dev/zero", NULL};
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_child c;

    (void)state;
    assert_int_equal(nk_child_run(argv, 10, 4096, 1024, "t", &c, &err), -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_non_null(strstr(err.msg, "more output"));
    nk_child_release(&c);
}

static void test_no_fd_leak(void **state)
{
    /* Only 0, 1 and 2 are open in the child (ls lists its own fd too). */
    const char *argv[] = {"sh", "-c", "ls /proc/self/fd | wc -l", NULL};
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_child c;
    FILE *f = fopen("/dev/null", "r");

    (void)state;
    assert_non_null(f);
    assert_int_equal(nk_child_run(argv, 10, 1024, 1024, "t", &c, &err), 0);
    assert_int_equal(c.status, 0);
    /* sh's 0-2 plus ls's directory handle, inherited by nobody else. */
    assert_int_equal(atoi((char *)c.out.data), 4);
    nk_child_release(&c);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs),       cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_deadline),   cmocka_unit_test(test_cap),
        cmocka_unit_test(test_no_fd_leak),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
