/* unit tests for aead: pending. */
#include "unit.h"
