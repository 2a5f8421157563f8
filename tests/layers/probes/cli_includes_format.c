/* expect: fails graph.h */
#include "graph.h"
