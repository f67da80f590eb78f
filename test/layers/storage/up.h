#pragma once

// A storage header that knows of a handler and of protobuf: two violations.
#include "callbacks/handlers/users.h"
#include "user/v1/user.pb.h"
