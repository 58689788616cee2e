/* unit tests for netaddr: pending. */
#include "unit.h"
