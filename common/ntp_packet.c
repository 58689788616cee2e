/* ntp_packet: implementation pending (helper in progress). */
#include "ntp_packet.h"
