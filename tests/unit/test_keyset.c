/* unit tests for keyset: pending. */
#include "unit.h"
