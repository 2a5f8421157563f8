/* expect: builds */
#include <strata/authoring.h>
#include <strata/strata.h>
#include "args.h"
#include "cli.h"
int probe(void);
int probe(void)
{
    return 0;
}
