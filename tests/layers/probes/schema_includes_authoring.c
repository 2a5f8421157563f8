/* expect: fails project.h */
#include "project.h"
