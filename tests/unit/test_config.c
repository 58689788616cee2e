/* unit tests for config: pending. */
#include "unit.h"
