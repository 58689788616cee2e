/* unit tests for log: pending. */
#include "unit.h"
