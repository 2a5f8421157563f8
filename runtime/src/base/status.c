#include <strata/strata.h>

const char *strata_errstr(int status)
{
    static const char *const names[] = {
        "ok",
        "error",
        "misuse",
        "migrations pending",
        "integrity: edited migration or corrupt bundle",
        "refused by the environment policy",
        "timed out waiting for the migration lock",
        "dirty: a migration without a transaction did not finish",
        "the database has revisions this binary does not know",
        "out of memory",
        "several heads",
        "invalid migration source",
        "the schema has drifted from the applied version",
    };
    if (status < 0 || (size_t)status >= sizeof(names) / sizeof(names[0]))
        return "unknown status";
    return names[status];
}

int strata_exit_code(int status)
{
    if (status >= STRATA_OK && status <= STRATA_UNKNOWN_APPLIED)
        return status;
    if (status == STRATA_DRIFT)
        return 9; /* the exit codes' table is appended to, like the statuses */
    return STRATA_ERROR;
}
