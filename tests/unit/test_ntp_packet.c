/* unit tests for ntp_packet: pending. */
#include "unit.h"
