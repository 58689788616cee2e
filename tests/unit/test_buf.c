/* unit tests for buf: pending. */
#include "unit.h"
