/* unit tests for cookie: pending. */
#include "unit.h"
