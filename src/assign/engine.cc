#include "assign/engine.h"
