# Installs a static build (BUILD_SHARED_LIBS=OFF) into a fresh prefix and builds the consumer
# project against it with find_package(zpat): the CMake package must bring the static
# libraries' own dependencies (libzmq, libsodium, OpenSSL, spdlog, nlohmann-json) along.
# Run as: cmake -DBUILD_DIR=... -DCONSUMER_DIR=... -DWORK_DIR=... -P check_static.cmake
foreach(dir BUILD_DIR CONSUMER_DIR WORK_DIR)
    get_filename_component(${dir} "${${dir}}" ABSOLUTE)
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output
                    ERROR_VARIABLE output OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "step failed (${result}): ${ARGN}\n${output}")
    endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
file(GLOB_RECURSE archives "${prefix}/*/libzpat_patterns.a")
if(NOT archives)
    message(FATAL_ERROR "no libzpat_patterns.a installed in ${prefix}")
endif()
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
message(STATUS "a static zpat was installed, found with find_package, linked and ran")
