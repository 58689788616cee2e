/* log: implementation pending (helper in progress). */
#include "log.h"
