/* unit tests for ke_record: pending. */
#include "unit.h"
