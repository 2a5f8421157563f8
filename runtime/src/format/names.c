#include "names.h"

#include <string.h>

int strata__ident_valid(const char *s, size_t max)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

int strata__namespace_valid(const char *ns)
{
    return ns[0] >= 'a' && ns[0] <= 'z' && strata__ident_valid(ns, STRATA_NAMESPACE_MAX);
}

int strata__schema_reserved(const char *schema)
{
    return strcmp(schema, "information_schema") == 0 || strncmp(schema, "pg_", 3) == 0;
}
