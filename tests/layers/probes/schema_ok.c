/* expect: builds */
#include "snapshot.h"
#include "sqlscan.h"
int probe(void);
int probe(void)
{
    return 0;
}
