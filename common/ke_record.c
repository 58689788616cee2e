/* ke_record: implementation pending (helper in progress). */
#include "ke_record.h"
