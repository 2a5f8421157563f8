/* expect: fails snapshot.h */
#include "snapshot.h"
