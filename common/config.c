/* config: implementation pending (helper in progress). */
#include "config.h"
