/* expect: builds */
#include "engine.h"
#include "ledger.h"
#include "plan.h"
#include "policy.h"
#include "snapshot.h"
int probe(void);
int probe(void)
{
    return 0;
}
