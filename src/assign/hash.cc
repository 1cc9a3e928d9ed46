#include "assign/hash.h"
