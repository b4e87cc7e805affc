/* mini_unity.h: a Unity-style test harness in one header (the same macro names and the same
 * summary line as ThrowTheSwitch's Unity, written for this example), so the example needs
 * nothing beyond newlib. Output goes through printf (semihosting under `armsim run`); the
 * process exit status is the number of failed tests. */
#ifndef MINI_UNITY_H
#define MINI_UNITY_H

#include <math.h>
#include <setjmp.h>
#include <stdio.h>

static int unity_tests, unity_failures;

/* newlib-nano's printf has no %g unless linked with -u _printf_float: print by hand */
static void unity_print_float(double v)
{
    if (v < 0) {
        printf("-");
        v = -v;
    }
    long whole = (long)v;
    printf("%ld.%06ld", whole, (long)((v - (double)whole) * 1e6 + 0.5));
}
static jmp_buf unity_abort;
static const char *unity_test_name;

#define UNITY_BEGIN() (unity_tests = 0, unity_failures = 0)
#define UNITY_END() \
    (printf("\n-----------------------\n%d Tests %d Failures 0 Ignored\n%s\n", unity_tests, \
            unity_failures, unity_failures ? "FAIL" : "OK"), unity_failures)

#define UNITY_FAIL_AT(line, ...)                                                         \
    do {                                                                                 \
        printf("%s:%d:%s:FAIL: ", __FILE__, (line), unity_test_name);                  \
        printf(__VA_ARGS__);                                                             \
        printf("\n");                                                                    \
        longjmp(unity_abort, 1);                                                         \
    } while (0)

#define TEST_ASSERT_TRUE(cond) \
    do { if (!(cond)) UNITY_FAIL_AT(__LINE__, "Expected TRUE: %s", #cond); } while (0)
#define TEST_ASSERT_EQUAL_INT(expected, actual)                                          \
    do {                                                                                 \
        long e_ = (long)(expected), a_ = (long)(actual);                                 \
        if (e_ != a_) UNITY_FAIL_AT(__LINE__, "Expected %ld Was %ld", e_, a_);           \
    } while (0)
#define TEST_ASSERT_FLOAT_WITHIN(delta, expected, actual)                                \
    do {                                                                                 \
        double e_ = (expected), a_ = (actual);                                           \
        if (!(fabs(e_ - a_) <= (delta))) {                                               \
            printf("%s:%d:%s:FAIL: Expected ", __FILE__, __LINE__, unity_test_name);     \
            unity_print_float(e_);                                                       \
            printf(" Was ");                                                             \
            unity_print_float(a_);                                                       \
            printf("\n");                                                                \
            longjmp(unity_abort, 1);                                                     \
        }                                                                                \
    } while (0)

#define RUN_TEST(fn)                                                                     \
    do {                                                                                 \
        unity_test_name = #fn;                                                           \
        unity_tests++;                                                                   \
        if (setjmp(unity_abort) == 0) {                                                  \
            fn();                                                                        \
            printf("%s:%d:%s:PASS\n", __FILE__, __LINE__, #fn);                          \
        } else {                                                                         \
            unity_failures++;                                                            \
        }                                                                                \
    } while (0)

#endif /* MINI_UNITY_H */
