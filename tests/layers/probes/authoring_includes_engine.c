/* expect: fails backend.h */
#include "backend.h"
