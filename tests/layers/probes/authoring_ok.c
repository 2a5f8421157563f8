/* expect: builds */
#include <strata/authoring.h>
#include "migfile.h"
#include "project.h"
#include "snapshot.h"
int probe(void);
int probe(void)
{
    return 0;
}
