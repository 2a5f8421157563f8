/* The tables hash: hashing the arrays in place (little-endian hosts) must give
 * what the portable record-by-record serialiser gives, which is what the
 * bundler computes from its images. */
#include "check.h"
#include "image.h"

int main(void)
{
    strata_bundle_section s[3];
    strata_bundle_migration m[2];
    uint32_t parents[2] = {0, 1};
    strata_hash128 acc[1] = {{0x0102030405060708ull, 0x1112131415161718ull}};
    uint64_t fast, portable;
    size_t i;

    memset(s, 0, sizeof(s));
    memset(m, 0, sizeof(m));
    for (i = 0; i < 3; i++) {
        s[i].kind = (uint32_t)i;
        s[i].offset = 100u * (uint32_t)i;
        s[i].zhash = 0xdeadbeef00000000ull + i;
        s[i].exact.hi = i * 7;
        s[i].loose.lo = i * 13;
    }
    for (i = 0; i < 2; i++) {
        m[i].revision = 5u * (uint32_t)i;
        m[i].flags = (uint32_t)i;
        m[i].lock_timeout_ms = 0xffffffffu;
        m[i].exact.lo = 0x8000000000000000ull >> i;
    }
    fast = strata__tables_hash(s, 3, m, 2, parents, 2, acc, 1);
    portable = strata__tables_hash_portable(s, 3, m, 2, parents, 2, acc, 1);
    CHECK(fast == portable);
    /* Every field counts: a flipped kind or flag changes the hash. */
    s[1].kind ^= 1;
    CHECK(strata__tables_hash(s, 3, m, 2, parents, 2, acc, 1) != fast);
    s[1].kind ^= 1;
    m[1].flags ^= 2;
    CHECK(strata__tables_hash(s, 3, m, 2, parents, 2, acc, 1) != fast);
    m[1].flags ^= 2;
    CHECK(strata__tables_hash(s, 3, m, 2, parents, 2, acc, 1) == fast);
    CHECK(strata__tables_hash(NULL, 0, NULL, 0, NULL, 0, NULL, 0) ==
          strata__tables_hash_portable(NULL, 0, NULL, 0, NULL, 0, NULL, 0));
    return CHECK_DONE();
}
