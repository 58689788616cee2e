/* unit tests for rng: pending. */
#include "unit.h"
