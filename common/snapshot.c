/* snapshot: implementation pending (helper in progress). */
#include "snapshot.h"
