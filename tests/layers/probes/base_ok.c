/* expect: builds */
#include "args.h"
#include "diag.h"
#include "error.h"
#include "utf8.h"
#include "util.h"
int probe(void);
int probe(void)
{
    return 0;
}
