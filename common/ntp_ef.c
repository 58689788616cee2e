/* ntp_ef: implementation pending (helper in progress). */
#include "ntp_ef.h"
