/*
 * perf_footprint.c - the bundle footprint of the performance benchmark
 * (perf_bench.sh): the same small program with a generated bundle
 * (footprint_<set>) and without (footprint_none, PERF_NO_BUNDLE), both
 * linked the same way; the difference of their stripped sizes is every byte
 * the generated object adds to a binary (data, relocations, alignment).
 */
#include <stdio.h>

#include <strata/strata.h>
#ifndef PERF_NO_BUNDLE
#include "strata_bundle_bench.h"
#endif

int main(void)
{
#ifdef PERF_NO_BUNDLE
    printf("0\n");
#else
    printf("%u\n", (unsigned)strata_bundle_bench.image_len);
#endif
    return 0;
}
