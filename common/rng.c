/* rng: implementation pending (helper in progress). */
#include "rng.h"
