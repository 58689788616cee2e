/* aead: implementation pending (helper in progress). */
#include "aead.h"
