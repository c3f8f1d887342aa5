// placeholder, replaced by the workload implementation
#include "CWorkload.h"
