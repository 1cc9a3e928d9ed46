#include "assign/condition.h"
