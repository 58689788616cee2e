/* keyset: implementation pending (helper in progress). */
#include "keyset.h"
