# CMake package of libses: find_package(ses) defines
#   ses::ses     the shared library (libses.so, libses.dylib, libses.dll)
#   ses::static  the static library (libses.a), with what it needs linked
# both with the include directory holding ses.h and
# SoftwareEntitlementClient.h. Relocatable: the paths are found from where
# this file is (PREFIX/lib/cmake/ses/).
get_filename_component(_ses_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
include(CMakeFindDependencyMacro)
find_dependency(Threads)

if(WIN32)
  # The release archive's libses.lib is, like libses.a, a MinGW-w64 archive.
  set(_ses_shared "${_ses_prefix}/lib/libses.dll")
  set(_ses_static "${_ses_prefix}/lib/libses.lib")
  if(NOT EXISTS "${_ses_static}")
    set(_ses_static "${_ses_prefix}/lib/libses.a")
  endif()
  set(_ses_static_deps "")
elseif(APPLE)
  set(_ses_shared "${_ses_prefix}/lib/libses.dylib")
  set(_ses_static "${_ses_prefix}/lib/libses.a")
  set(_ses_static_deps "-framework CoreFoundation" "-framework Security" Threads::Threads)
else()
  set(_ses_shared "${_ses_prefix}/lib/libses.so")
  set(_ses_static "${_ses_prefix}/lib/libses.a")
  set(_ses_static_deps Threads::Threads)
endif()

if(NOT TARGET ses::ses AND EXISTS "${_ses_shared}")
  add_library(ses::ses UNKNOWN IMPORTED)
  set_target_properties(ses::ses PROPERTIES
    IMPORTED_LOCATION "${_ses_shared}"
    INTERFACE_INCLUDE_DIRECTORIES "${_ses_prefix}/include")
endif()
if(NOT TARGET ses::static AND EXISTS "${_ses_static}")
  add_library(ses::static STATIC IMPORTED)
  set_target_properties(ses::static PROPERTIES
    IMPORTED_LOCATION "${_ses_static}"
    IMPORTED_LINK_INTERFACE_LANGUAGES C
    INTERFACE_INCLUDE_DIRECTORIES "${_ses_prefix}/include"
    INTERFACE_LINK_LIBRARIES "${_ses_static_deps}")
endif()
if(NOT TARGET ses::ses AND NOT TARGET ses::static)
  set(ses_FOUND FALSE)
  set(ses_NOT_FOUND_MESSAGE "no libses library in ${_ses_prefix}/lib")
endif()

unset(_ses_prefix)
unset(_ses_shared)
unset(_ses_static)
unset(_ses_static_deps)
