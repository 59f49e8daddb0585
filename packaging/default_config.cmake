# Writes zpat-broker's default config file from its --check-config output, every setting
# commented out. Run as: cmake -DBROKER=... -DOUTPUT=... -P default_config.cmake
execute_process(COMMAND ${BROKER} --check-config RESULT_VARIABLE result OUTPUT_VARIABLE printed
                ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${BROKER} --check-config failed (${result}): ${errors}")
endif()
# "key=value" lines become "#key=value"; the help comments stay as they are (the first line is
# one of them).
string(REGEX REPLACE "\n([a-z])" "\n#\\1" commented "${printed}")
file(WRITE ${OUTPUT}
"# zpat-broker's configuration (TOML). Each key is a long flag of zpat-broker(1), shown with its
# default and commented out: uncomment a key to change it. `zpat-broker --config FILE
# --check-config` prints the settings in effect; `systemctl restart zpat-broker` applies them.
#
${commented}")
