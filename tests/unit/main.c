/* main.c - runs every registered unit test; prints "N passed, N failed". */
#include "test.h"

#include <stdlib.h>

static struct test_case *head, **tail = &head;
int test_failed_checks;

void test_register(struct test_case *tc)
{
    *tail = tc;
    tail = &tc->next;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (struct test_case *tc = head; tc; tc = tc->next) {
        if (filter && !strstr(tc->name, filter) && !strstr(tc->file, filter))
            continue;
        test_failed_checks = 0;
        tc->fn();
        if (test_failed_checks) {
            fprintf(stderr, "FAIL %s (%s)\n", tc->name, tc->file);
            failed++;
        } else {
            passed++;
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
