#pragma once

// What a handler may include: no violation.
#include "callbacks/domain/rows.h"
#include "storage/query.h"
#include "user/v1/user.pb.h"
