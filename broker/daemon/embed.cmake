# Writes SOURCE into OUTPUT as a C++ byte array named NAME (in namespace zpat::broker), so the
# daemon serves the file from memory: cmake -DSOURCE=... -DOUTPUT=... -DNAME=... -P embed.cmake
file(READ "${SOURCE}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REGEX REPLACE "(([^,]*,){16})" "\\1\n    " bytes "${bytes}")
get_filename_component(file_name "${SOURCE}" NAME)
file(WRITE "${OUTPUT}.tmp" "// Generated from ${file_name} by embed.cmake: do not edit.\n"
    "#include <string_view>\n\nnamespace zpat::broker {\n\n"
    "extern const std::string_view ${NAME};\n"
    "constexpr char ${NAME}_bytes[] = {\n    ${bytes}};\n"
    "const std::string_view ${NAME}(${NAME}_bytes, sizeof ${NAME}_bytes);\n\n"
    "}  // namespace zpat::broker\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
