/* unit tests for snapshot: pending. */
#include "unit.h"
