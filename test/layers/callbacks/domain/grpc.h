#pragma once

// Domain code that reaches for gRPC: one violation.
#include <grpcpp/grpcpp.h>
