/* netaddr: implementation pending (helper in progress). */
#include "netaddr.h"
