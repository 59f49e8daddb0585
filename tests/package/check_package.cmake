# Installs this build into a fresh prefix, then configures, builds and runs a separate project
# that finds it with find_package(zpat). Run as: cmake -DBUILD_DIR=... -DCONSUMER_DIR=...
#   -DWORK_DIR=... -DCXX_FLAGS=... -P check_package.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
foreach(step
        "${CMAKE_COMMAND};--install;${BUILD_DIR};--prefix;${WORK_DIR}/prefix"
        "${CMAKE_COMMAND};-S;${CONSUMER_DIR};-B;${WORK_DIR}/build;-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix;-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
        "${CMAKE_COMMAND};--build;${WORK_DIR}/build"
        "${WORK_DIR}/build/consumer")
    execute_process(COMMAND ${step} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "step failed (${result}): ${step}\n${output}")
    endif()
endforeach()
message(STATUS "an installed zpat was found, linked and ran")
