/* cookie: implementation pending (helper in progress). */
#include "cookie.h"
