/* expect: fails cli.h */
#include "cli.h"
