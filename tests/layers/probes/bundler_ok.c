/* expect: builds */
#include <strata/authoring.h>
#include "project.h"
int probe(void);
int probe(void)
{
    return 0;
}
