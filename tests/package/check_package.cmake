# Installs this build into a fresh prefix, then uses it as another project would: a CMake project
# that finds it with find_package(zpat), the same program built with pkg-config alone, and the
# installed zpat-broker run from the prefix. Run as: cmake -DBUILD_DIR=... -DCONSUMER_DIR=...
#   -DWORK_DIR=... -DCXX=... -DCXX_FLAGS=... -P check_package.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output
                    ERROR_VARIABLE output OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "step failed (${result}): ${ARGN}\n${output}")
    endif()
    set(output "${output}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# CMake: find_package(zpat), zpat::patterns and zpat::broker.
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_CXX_FLAGS=${CXX_FLAGS})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)

# pkg-config: the flags of zpat-broker (which requires zpat) build the same program.
file(GLOB_RECURSE pc_files "${prefix}/*/zpat-broker.pc")
list(LENGTH pc_files found)
if(NOT found EQUAL 1)
    message(FATAL_ERROR "expected one installed zpat-broker.pc, found: ${pc_files}")
endif()
get_filename_component(pc_dir "${pc_files}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
run(pkg-config --cflags --libs zpat-broker)
separate_arguments(pc_flags UNIX_COMMAND "${output}")
run(pkg-config --variable=libdir zpat)
separate_arguments(sanitizer_flags UNIX_COMMAND "${CXX_FLAGS}")
run(${CXX} -std=c++20 ${sanitizer_flags} ${CONSUMER_DIR}/main.cpp ${pc_flags} -Wl,-rpath,${output}
    -o ${WORK_DIR}/consumer-pkg-config)
run(${WORK_DIR}/consumer-pkg-config)

# The installed broker finds its libraries from wherever the prefix is.
run(${prefix}/bin/zpat-broker --version)
if(NOT output MATCHES "^zpat-broker [0-9]+\\.[0-9]+\\.[0-9]+")
    message(FATAL_ERROR "the installed zpat-broker --version said: ${output}")
endif()
message(STATUS "an installed zpat was found (CMake and pkg-config), linked and ran")
