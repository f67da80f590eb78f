# The arrows of the layer picture (README, "Layout"), checked on every #include: a layer includes
# only itself and the layers below it, and what it must not know of (gRPC, protobuf, libpq) it
# does not include. Linking enforces the same for symbols (storage links no protobuf, callbacks/
# only the message library); this catches a header-only slip the linker would not see.
#   cmake -DSOURCE_DIR=<repo> -P CheckLayers.cmake
cmake_minimum_required(VERSION 3.25)

# layer folder -> project folders it may include, and a regex of includes it may not use.
set(layers base storage auth callbacks/domain callbacks/handlers)
set(allowed_base "base")
set(allowed_storage "base|storage")
set(allowed_auth "base|auth")
set(allowed_callbacks/domain "base|storage|callbacks/domain")
set(allowed_callbacks/handlers "base|storage|callbacks/domain|callbacks/handlers")
set(forbidden_base "grpc|google/protobuf|\\.pb\\.h|libpq")
set(forbidden_storage "grpc|google/protobuf|\\.pb\\.h")
set(forbidden_auth "grpc|google/protobuf|\\.pb\\.h|libpq")
set(forbidden_callbacks/domain "grpcpp|\\.grpc\\.pb\\.h|libpq")
set(forbidden_callbacks/handlers "grpcpp|\\.grpc\\.pb\\.h|libpq")
# Project folders, as opposed to generated headers ("user/v1/user.pb.h") and libraries.
set(project_folders "base|storage|auth|callbacks|server|bench|test")

set(violations 0)
foreach(layer ${layers})
  file(GLOB_RECURSE sources ${SOURCE_DIR}/${layer}/*.h ${SOURCE_DIR}/${layer}/*.cc)
  foreach(source ${sources})
    file(STRINGS ${source} includes REGEX "^#include [<\"]")
    foreach(line ${includes})
      string(REGEX REPLACE "^#include [<\"]([^>\"]+)[>\"].*" "\\1" header "${line}")
      if(header MATCHES "${forbidden_${layer}}")
        message(NOTICE "${source}: ${layer}/ must not include ${header}")
        math(EXPR violations "${violations} + 1")
      elseif(header MATCHES "^(${project_folders})/" AND NOT header MATCHES "^(${allowed_${layer}})/")
        message(NOTICE "${source}: ${layer}/ must not include ${header} (a layer above)")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()
if(violations GREATER 0)
  message(FATAL_ERROR "${violations} include(s) point up or outside their layer")
endif()
message(STATUS "every include points down")
