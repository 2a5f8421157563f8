/* expect: fails engine.h */
#include "engine.h"
