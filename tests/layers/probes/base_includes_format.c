/* expect: fails migfile.h */
#include "migfile.h"
