/* expect: builds */
#include "bundle_read.h"
#include "checksum.h"
#include "graph.h"
#include "image.h"
#include "migfile.h"
#include "names.h"
#include "sqlscan.h"
#include "util.h"
int probe(void);
int probe(void)
{
    return 0;
}
