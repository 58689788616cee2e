/* buf: implementation pending (helper in progress). */
#include "buf.h"
