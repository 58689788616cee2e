/* unit tests for ntp_ef: pending. */
#include "unit.h"
